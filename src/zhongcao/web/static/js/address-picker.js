// The province → city → district picker: refill the next list from /api/divisions as the shopper
// chooses (the server fills the same lists when the form is posted back without JavaScript).
(function () {
  "use strict";
  document.querySelectorAll(".division-picker").forEach(function (picker) {
    var url = picker.getAttribute("data-divisions-url");
    var english = (picker.getAttribute("data-locale") || "").indexOf("en") === 0;
    var province = picker.querySelector('[data-level="province_code"]');
    var city = picker.querySelector('[data-level="city_code"]');
    var district = picker.querySelector('[data-level="district_code"]');
    var refresh = picker.querySelector(".picker-refresh");
    if (refresh) refresh.hidden = true;
    function fill(select, placeholder, parent) {
      select.innerHTML = "";
      var first = document.createElement("option");
      first.value = "";
      first.textContent = placeholder;
      select.appendChild(first);
      if (!parent) return Promise.resolve();
      return fetch(url + "?parent=" + encodeURIComponent(parent), { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : []; })
        .then(function (rows) {
          rows.forEach(function (row) {
            var o = document.createElement("option");
            o.value = row.code;
            o.textContent = english ? row.name_en : row.name_zh;
            select.appendChild(o);
          });
          if (rows.length === 1) select.value = rows[0].code; // a municipality's one city
        });
    }
    province.addEventListener("change", function () {
      fill(district, picker.getAttribute("data-placeholder-district"), "");
      fill(city, picker.getAttribute("data-placeholder-city"), province.value).then(function () {
        if (city.value) fill(district, picker.getAttribute("data-placeholder-district"), city.value);
      });
    });
    city.addEventListener("change", function () {
      fill(district, picker.getAttribute("data-placeholder-district"), city.value);
    });
  });
})();
