// Shared behaviour for every page (progressive enhancement: pages work without it).
(function () {
  "use strict";
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
