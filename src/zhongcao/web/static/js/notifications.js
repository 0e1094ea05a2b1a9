// Notifications in real time: every signed-in page listens on GET /notifications/events (Server-Sent
// Events). `unread` {count} updates the badges; `notification` {id, kind, text, when} goes on top of
// an open notification centre's first page when its kind filter would show it. The browser
// reconnects by itself; the stream sends the count again on every connection.
(function () {
  "use strict";
  if (!window.EventSource) return;
  var badges = document.querySelectorAll("[data-unread-badge]");
  var list = document.querySelector("[data-notification-list]");
  if (!badges.length && !list) return;
  var template = document.querySelector("[data-notification-template]");
  var empty = document.querySelector("[data-notifications-empty]");
  var namesEl = document.querySelector("[data-kind-names]");
  var names = namesEl ? JSON.parse(namesEl.getAttribute("data-kind-names")) : {};
  var source = new EventSource("/notifications/events");

  source.addEventListener("unread", function (event) {
    var n = JSON.parse(event.data).count;
    badges.forEach(function (badge) {
      var text = n > 99 ? "99+" : String(n);
      if (badge.textContent !== text && n > 0) {
        badge.classList.remove("bump");
        void badge.offsetWidth;  // restart the animation
        badge.classList.add("bump");
      }
      badge.textContent = text;
      badge.hidden = n === 0;
    });
    document.querySelectorAll("[data-read-all]").forEach(function (form) { form.hidden = n === 0; });
    document.documentElement.setAttribute("data-unread", String(n));
  });

  source.addEventListener("notification", function (event) {
    if (!list || !template || list.getAttribute("data-live") !== "true") return;
    var item = JSON.parse(event.data);
    var kind = list.getAttribute("data-kind");
    if (kind && kind !== item.kind) return;
    if (list.querySelector('[data-notification-id="' + item.id + '"]')) return;
    var li = template.content.firstElementChild.cloneNode(true);
    li.setAttribute("data-notification-id", String(item.id));
    li.setAttribute("data-kind", item.kind);
    li.querySelector("form").setAttribute("action", "/notifications/" + item.id + "/open");
    li.querySelector(".notice-kind").textContent = names[item.kind] || item.kind;
    li.querySelector(".notice-text").textContent = item.text;
    li.querySelector(".notice-when").textContent = item.when;
    list.insertBefore(li, list.firstChild);
    if (empty) empty.hidden = true;
  });
  source.addEventListener("open", function () { document.documentElement.setAttribute("data-notifications", "connected"); });
})();
