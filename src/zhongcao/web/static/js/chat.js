// Customer-service chat in real time (progressive enhancement: every action is also a plain form).
// - On a chat page ([data-chat-room]): the conversation's Server-Sent Events (GET <room>/events);
//   a new message makes the page fetch the rendered messages after the last one it shows
//   (GET <room>/thread?after=<id>: the server's HTML, escaped like the page) and append them.
//   Replies are sent with fetch (js=1, answered 204); the stream brings them back.
// - Elsewhere, the unread badge listens to the viewer's badge stream ([data-chat-events]) and a list
//   ([data-chat-list]) refreshes itself when a conversation changes.
(function () {
  "use strict";
  if (!window.EventSource) return;
  var badges = document.querySelectorAll("[data-chat-badge]");
  function setBadge(total) {
    badges.forEach(function (badge) {
      badge.textContent = String(total);
      badge.hidden = !total;
    });
  }

  var room = document.querySelector("[data-chat-room]");
  var list = document.querySelector("[data-chat-list]");
  var source;
  if (room) {
    var base = room.getAttribute("data-chat-room");
    var thread = room.querySelector("[data-chat-thread]");
    var readNote = room.querySelector("[data-chat-read]");
    var last = parseInt(room.getAttribute("data-after") || "0", 10);
    var fetching = false, again = false;
    var scroll = function () { thread.lastElementChild && thread.lastElementChild.scrollIntoView({ block: "end" }); };
    var pull = function () {
      if (fetching) { again = true; return; }
      fetching = true;
      fetch(base + "/thread?after=" + last, { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : ""; })
        .then(function (html) {
          var holder = document.createElement("ol");
          holder.innerHTML = html;
          Array.prototype.slice.call(holder.children).forEach(function (li) {
            var id = parseInt(li.getAttribute("data-message-id") || "0", 10);
            if (id > last && !thread.querySelector('[data-message-id="' + id + '"]')) {
              li.classList.add("chat-fresh");
              thread.appendChild(li);
              last = id;
              if (readNote && li.classList.contains("chat-theirs")) readNote.hidden = true;
            }
          });
          scroll();
          // The shop's first answer: show the response time it just set (the server's words).
          var pending = document.querySelector("[data-first-response][data-unanswered]");
          if (pending && thread.querySelector(".chat-mine")) {
            fetch(window.location.pathname, { credentials: "same-origin" })
              .then(function (r) { return r.text(); })
              .then(function (page) {
                var fresh = new DOMParser().parseFromString(page, "text/html").querySelector("[data-first-response]");
                if (fresh) pending.replaceWith(fresh);
              });
          }
        })
        .finally(function () { fetching = false; if (again) { again = false; pull(); } });
    };
    source = new EventSource(base + "/events?after=" + last);
    source.addEventListener("message", function (event) {
      var data = JSON.parse(event.data);
      if (data.id > last) pull();
    });
    source.addEventListener("read", function (event) {
      // The other side has read up to here: "read" under my latest message.
      var data = JSON.parse(event.data);
      var mine = thread.querySelectorAll(".chat-mine");
      var newest = mine.length ? parseInt(mine[mine.length - 1].getAttribute("data-message-id"), 10) : 0;
      var me = base.indexOf("/merchant/") === 0 ? "shop" : "customer";
      if (readNote && data.side !== me && newest && data.id >= newest) readNote.hidden = false;
    });
    source.addEventListener("closed", function () { window.location.reload(); });
    source.addEventListener("assigned", function () {
      var label = document.querySelector("[data-assignee]");
      if (label) window.location.reload();
    });
    scroll();

    // Send without leaving the page; a refusal falls back to the ordinary post (errors shown there).
    document.querySelectorAll("[data-chat-form]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (form.getAttribute("action") === "/messages") return; // the first message starts a page
        event.preventDefault();
        var body = new FormData(form);
        body.set("js", "1");
        var button = form.querySelector("button[type=submit]");
        if (button) button.disabled = true;
        fetch(form.getAttribute("action"), {
          method: "POST", body: new URLSearchParams(body), credentials: "same-origin",
        }).then(function (r) {
          if (r.status !== 204) { form.submit(); return; }
          var box = form.querySelector("textarea");
          if (box) { box.value = ""; box.focus(); }
          var pending = form.querySelector(".chat-pending");
          if (pending) pending.parentNode.removeChild(pending);
          var quick = form.querySelector("[data-quick-select]");
          if (quick) quick.value = "";
          pull();
        }).catch(function () { form.submit(); })
          .finally(function () { if (button) button.disabled = false; });
      });
    });
    // A quick reply drops into the reply box, to be edited before sending.
    var quick = document.querySelector("[data-quick-select]");
    if (quick) {
      quick.addEventListener("change", function () {
        var option = quick.options[quick.selectedIndex];
        var text = option && option.getAttribute("data-body");
        var box = document.getElementById("f-body");
        if (text && box) {
          box.value = box.value ? box.value + "\n" + text : text;
          quick.value = "";
          box.focus();
        }
      });
    }
  } else {
    var holder = document.querySelector("[data-chat-events]");
    if (!holder) return;
    source = new EventSource(holder.getAttribute("data-chat-events"));
  }
  var refreshing = false;
  source.addEventListener("unread", function (event) {
    setBadge(JSON.parse(event.data).total);
    if (list && !refreshing && JSON.parse(event.data).conversation_id) {
      refreshing = true;
      fetch(window.location.href, { credentials: "same-origin" })
        .then(function (r) { return r.text(); })
        .then(function (html) {
          var fresh = new DOMParser().parseFromString(html, "text/html").querySelector("[data-chat-list]");
          if (fresh) list.innerHTML = fresh.innerHTML;
        })
        .finally(function () { refreshing = false; });
    }
  });
})();
