// The content pages' forms: the product picker filters its list as the merchant types; the publish
// button says the video is uploading (a large file takes a while) and cannot be pressed twice.
(function () {
  "use strict";
  document.querySelectorAll("[data-picker]").forEach(function (picker) {
    var box = picker.querySelector("[data-picker-filter]");
    if (!box) return;
    box.addEventListener("input", function () {
      var q = box.value.trim().toLowerCase();
      picker.querySelectorAll("[data-picker-item]").forEach(function (item) {
        var checked = item.querySelector("input").checked;
        item.hidden = q !== "" && !checked && item.getAttribute("data-picker-item").indexOf(q) < 0;
      });
    });
  });
  document.querySelectorAll("form[enctype='multipart/form-data']").forEach(function (form) {
    form.addEventListener("submit", function () {
      var button = form.querySelector("[data-busy-text]");
      if (!button) return;
      button.disabled = true;
      button.textContent = button.getAttribute("data-busy-text");
    });
  });
})();
