// Product page: the price follows the chosen SKU.
(function () {
  "use strict";
  var price = document.querySelector("[data-shown-price]");
  if (!price) return;
  document.querySelectorAll("input[name=sku_id][data-price]").forEach(function (radio) {
    radio.addEventListener("change", function () {
      if (radio.checked) price.textContent = radio.getAttribute("data-price");
    });
    if (radio.checked) price.textContent = radio.getAttribute("data-price");
  });
})();
