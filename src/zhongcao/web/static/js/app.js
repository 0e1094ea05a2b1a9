// Shared behaviour for every page (progressive enhancement: pages work without it).
(function () {
  "use strict";
  // zhongcao.send(url, options): fetch() for writes to the JSON API. A write authenticated by the
  // session cookie must carry the session's token (docs/security.md, "CSRF"); every page has it.
  var meta = document.querySelector('meta[name="csrf-token"]');
  window.zhongcao = {
    send: function (url, options) {
      options = options || {};
      var headers = new Headers(options.headers || {});
      if (meta) headers.set("X-CSRF-Token", meta.content);
      options.headers = headers;
      options.credentials = "same-origin";
      return fetch(url, options);
    },
  };
  // "Go back" buttons on error pages appear only when there is somewhere to go back to.
  document.querySelectorAll("[data-back]").forEach(function (button) {
    if (window.history.length > 1) {
      button.hidden = false;
      button.addEventListener("click", function () { window.history.back(); });
    }
  });
  // After a refused form, move focus to the error summary so screen readers announce it.
  var summary = document.getElementById("form-errors");
  if (summary) {
    summary.focus();
  }
})();
