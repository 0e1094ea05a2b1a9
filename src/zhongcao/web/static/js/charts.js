// Draws the consoles' charts: each <div data-figure> holds a Plotly figure as JSON (web/charts.py).
// A file rather than a script per chart, because the Content-Security-Policy allows no inline script.
(function () {
  "use strict";
  if (!window.Plotly) return;
  document.querySelectorAll("div[data-figure]").forEach(function (div) {
    var figure = JSON.parse(div.getAttribute("data-figure"));
    var config = JSON.parse(div.getAttribute("data-config") || "{}");
    window.Plotly.newPlot(div, figure.data, figure.layout, config);
  });
})();
