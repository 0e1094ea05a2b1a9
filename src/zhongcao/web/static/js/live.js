// Live room: the purchase ticker, the viewer count and the on-air status arrive over Server-Sent
// Events (GET /live/<id>/events). The browser reconnects by itself, sending the last sale id seen.
(function () {
  "use strict";
  var room = document.querySelector("[data-live-room]");
  // Only a room on air (or about to be) has anything to stream.
  if (!room || !window.EventSource || room.getAttribute("data-live") !== "true") return;
  var id = room.getAttribute("data-live-room");
  var viewer = room.getAttribute("data-viewer");
  var after = room.getAttribute("data-after") || "0";
  var ticker = room.querySelector("[data-ticker]");
  var empty = room.querySelector("[data-ticker-empty]");
  var count = room.querySelector(".viewer-count");
  var status = room.querySelector("[data-live-status]");
  var saleTemplate = room.querySelector("[data-sale-template]").innerHTML;
  var viewersTemplate = count.getAttribute("data-viewers-template");
  var someone = ticker.getAttribute("data-someone");
  var english = document.documentElement.lang === "en";
  var url = "/live/" + id + "/events?viewer=" + encodeURIComponent(viewer) + "&after=" + encodeURIComponent(after);
  var source = new EventSource(url);

  function text(html) { var el = document.createElement("textarea"); el.innerHTML = html; return el.value; }
  var saleFormat = text(saleTemplate);

  source.addEventListener("sale", function (event) {
    var sale = JSON.parse(event.data);
    if (ticker.querySelector('[data-sale-id="' + sale.item_id + '"]')) return;
    var li = document.createElement("li");
    li.setAttribute("data-sale-id", sale.item_id);
    li.className = "fresh";
    li.textContent = saleFormat
      .replace("{who}", sale.buyer || someone)
      .replace("{n}", String(sale.quantity))
      .replace("{title}", english ? (sale.title_en || sale.title_zh) : sale.title_zh);
    ticker.insertBefore(li, ticker.firstChild);
    while (ticker.children.length > 20) ticker.removeChild(ticker.lastChild);
    if (empty) empty.hidden = true;
  });
  source.addEventListener("viewers", function (event) {
    var n = JSON.parse(event.data).count;
    count.textContent = viewersTemplate.replace("{n}", String(n));
    count.setAttribute("data-count", String(n));
  });
  source.addEventListener("status", function (event) {
    var now = JSON.parse(event.data).status;
    if (now === "live" && room.getAttribute("data-status") === "scheduled") {
      window.location.reload();  // the room just went on air: show it live
    } else if (now === "ended" || now === "removed") {
      status.textContent = room.querySelector("[data-ended-text]").textContent;
      var badge = room.querySelector(".live-badge");
      if (badge) badge.hidden = true;
      count.hidden = true;
      source.close();
    }
  });
  source.addEventListener("open", function () { room.setAttribute("data-connected", "true"); });
})();
