// Product page: the price follows the chosen SKU, and so does the platform warehouse's delivery
// promise (shown for SKUs that ship from a warehouse: data-warehouse).
(function () {
  "use strict";
  var price = document.querySelector("[data-shown-price]");
  if (!price) return;
  var promise = document.querySelector("[data-warehouse-promise]");
  function show(radio) {
    price.textContent = radio.getAttribute("data-price");
    if (promise) promise.hidden = !radio.hasAttribute("data-warehouse");
  }
  document.querySelectorAll("input[name=sku_id][data-price]").forEach(function (radio) {
    radio.addEventListener("change", function () {
      if (radio.checked) show(radio);
    });
    if (radio.checked) show(radio);
  });
})();
