// The host dashboard of a live session: viewers, comments, likes, orders, GMV and the best sellers
// change as they happen. The room's events arrive over Server-Sent Events (the same live hub as the
// shoppers' pages, /merchant/live/<id>/events or /creator/live/<id>/events); a sale fetches the numbers again (/stats).
(function () {
  "use strict";
  var head = document.querySelector("[data-host]");
  if (!head || !window.EventSource) return;
  var status = head.getAttribute("data-status");
  if (status === "ended") return;
  var id = head.getAttribute("data-host");
  var base = head.getAttribute("data-host-base") || "/merchant/live";  // the shop's or the creator's studio
  var comments = document.querySelector("[data-comments]");
  var emptyComments = document.querySelector("[data-comments-empty]");
  var someone = document.querySelector("[data-someone]").textContent;

  function stat(name, value) {
    var el = document.querySelector('[data-stat="' + name + '"]');
    if (el) el.textContent = typeof value === "number" ? value.toLocaleString(document.documentElement.lang) : value;
  }
  function refresh() {
    fetch(base + "/" + id + "/stats", { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (s) {
        if (!s) return;
        ["viewers", "comments", "likes", "orders"].forEach(function (k) { stat(k, s[k]); });
        stat("gmv", s.gmv);
        var body = document.querySelector("[data-top]");
        body.textContent = "";
        s.top_products.forEach(function (p) {
          var tr = document.createElement("tr");
          var th = document.createElement("th"); th.scope = "row"; th.textContent = p.title;
          var units = document.createElement("td"); units.className = "num"; units.textContent = String(p.units);
          var gmv = document.createElement("td"); gmv.className = "num"; gmv.textContent = p.gmv;
          tr.appendChild(th); tr.appendChild(units); tr.appendChild(gmv); body.appendChild(tr);
        });
        document.querySelector("[data-top-wrap]").hidden = s.top_products.length === 0;
        document.querySelector("[data-top-empty]").hidden = s.top_products.length > 0;
      });
  }
  var count = function (name) {
    var el = document.querySelector('[data-stat="' + name + '"]');
    return parseInt((el.textContent || "0").replace(/[^0-9]/g, ""), 10) || 0;
  };

  var source = new EventSource(base + "/" + id + "/events");
  source.addEventListener("viewers", function (e) { stat("viewers", JSON.parse(e.data).count); });
  source.addEventListener("likes", function (e) { stat("likes", JSON.parse(e.data).total); });
  source.addEventListener("sale", refresh);
  source.addEventListener("comment", function (e) {
    var c = JSON.parse(e.data);
    if (comments.querySelector('[data-comment-id="' + c.id + '"]')) return;
    var li = document.createElement("li");
    li.setAttribute("data-comment-id", c.id);
    li.className = "fresh";
    var who = document.createElement("span");
    who.className = "comment-who";
    who.textContent = c.who || someone;
    li.appendChild(who);
    li.appendChild(document.createTextNode(" " + c.body));
    comments.appendChild(li);
    while (comments.children.length > 100) comments.removeChild(comments.firstChild);
    comments.scrollTop = comments.scrollHeight;
    if (emptyComments) emptyComments.hidden = true;
    stat("comments", count("comments") + 1);
  });
  source.addEventListener("status", function (e) {
    var now = JSON.parse(e.data).status;
    if (now !== status) window.location.reload();
  });
  source.addEventListener("open", function () { head.setAttribute("data-connected", "true"); });
})();
