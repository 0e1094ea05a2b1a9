// Coupon editor: the percentage box is only for percentage coupons (the server checks it either way).
(function () {
  "use strict";
  var percent = document.getElementById("f-percent");
  if (!percent) return;
  var field = percent.closest(".field");
  function update() {
    var kind = document.querySelector("input[name=kind]:checked");
    field.hidden = !kind || kind.value !== "percent";
  }
  document.querySelectorAll("input[name=kind]").forEach(function (radio) {
    radio.addEventListener("change", update);
  });
  update();
})();
