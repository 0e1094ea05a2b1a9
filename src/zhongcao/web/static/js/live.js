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
      // An operator's take-down closes the room with its own words, the comment box and cart with it.
      var said = room.querySelector(now === "removed" ? "[data-removed-text]" : "[data-ended-text]");
      status.textContent = said.textContent;
      if (now === "removed") {
        room.setAttribute("data-status", "removed");
        var actions = room.querySelector(".live-actions");
        if (actions) actions.hidden = true;
        var pinned = room.querySelector("[data-pinned]");
        if (pinned) pinned.innerHTML = "";
      }
      var badge = room.querySelector(".live-badge");
      if (badge) badge.hidden = true;
      count.hidden = true;
      source.close();
    }
  });
  // The host pinned (or unpinned) a product: the card is drawn by the server, as on a first load.
  var pinnedSlot = room.querySelector("[data-pinned]");
  source.addEventListener("pin", function () {
    fetch("/live/" + id + "/pinned", { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (html === null) return;
        pinnedSlot.innerHTML = html;
        room.setAttribute("data-pinned-at", String(Date.now()));
      });
  });

  // Comments and likes: everyone's arrive over the stream (the sender's own too).
  var comments = room.querySelector("[data-comments]");
  var commenter = comments.getAttribute("data-someone");
  source.addEventListener("comment", function (event) {
    var c = JSON.parse(event.data);
    if (comments.querySelector('[data-comment-id="' + c.id + '"]')) return;
    var li = document.createElement("li");
    li.setAttribute("data-comment-id", c.id);
    var who = document.createElement("span");
    who.className = "comment-who";
    who.textContent = c.who || commenter;
    li.appendChild(who);
    li.appendChild(document.createTextNode(" " + c.body));
    comments.appendChild(li);
    while (comments.children.length > 20) comments.removeChild(comments.firstChild);
  });
  var likeCounts = room.querySelectorAll("[data-likes]");
  function showLikes(total) {
    likeCounts.forEach(function (el) { el.textContent = Number(total).toLocaleString(document.documentElement.lang); });
  }
  source.addEventListener("likes", function (event) { showLikes(JSON.parse(event.data).total); });

  var problem = room.querySelector("[data-comment-error]");
  function post(form, done) {
    fetch(form.action, {
      method: "POST", body: new FormData(form), credentials: "same-origin",
      headers: { "X-Requested-With": "fetch" }
    }).then(function (r) {
      return r.json().then(function (body) { return { ok: r.ok, body: body }; });
    }).then(function (answer) {
      if (problem) { problem.hidden = answer.ok; problem.textContent = answer.ok ? "" : answer.body.error.message; }
      if (answer.ok) done(answer.body);
    }).catch(function () { form.submit(); });
  }
  var commentForm = room.querySelector("[data-comment-form]");
  if (commentForm) {
    commentForm.addEventListener("submit", function (event) {
      event.preventDefault();
      var input = commentForm.querySelector("input[name=body]");
      if (!input.value.trim()) return;
      post(commentForm, function () { input.value = ""; });
    });
  }
  var likeForm = room.querySelector("[data-like-form]");
  if (likeForm) {
    likeForm.addEventListener("submit", function (event) {
      event.preventDefault();
      post(likeForm, function (body) { showLikes(body.total); });
    });
  }
  source.addEventListener("open", function () { room.setAttribute("data-connected", "true"); });
})();
