// Checkout: the sums follow the coupons chosen (the server computes the same on submit).
(function () {
  "use strict";
  var sums = document.querySelector(".checkout-sums");
  if (!sums) return;
  var items = parseInt(sums.getAttribute("data-items"), 10) || 0;
  var shipping = parseInt(sums.getAttribute("data-shipping"), 10) || 0;
  var member = parseInt(sums.getAttribute("data-member"), 10) || 0; // a member's price, after coupons
  function yuan(fen) {
    var whole = Math.floor(fen / 100), cents = fen % 100;
    return "¥" + whole.toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",") + "." + (cents < 10 ? "0" : "") + cents;
  }
  function picked(kind) {
    var total = 0;
    document.querySelectorAll('[data-coupon-kind="' + kind + '"] input[type=radio]:checked').forEach(function (r) {
      total += parseInt(r.getAttribute("data-amount"), 10) || 0;
    });
    return total;
  }
  function update() {
    var shop = picked("shop");
    var platform = Math.min(picked("platform"), items - shop);
    var shopSum = sums.querySelector('[data-sum="shop"]');
    var platformSum = sums.querySelector('[data-sum="platform"]');
    if (shopSum) shopSum.textContent = "−" + yuan(shop);
    if (platformSum) platformSum.textContent = "−" + yuan(platform);
    var total = document.querySelector('[data-sum="total"]');
    if (total) total.textContent = yuan(Math.max(items - shop - platform - member, 0) + shipping);
  }
  document.querySelectorAll(".coupon-picker input[type=radio]").forEach(function (r) {
    r.addEventListener("change", update);
  });
})();
