// Flash sale box (product page, live room's pinned card): the countdown, the buy button, "in queue",
// "sold out" and "ready to pay", kept current over GET /api/flash-sales/<id>/events (Server-Sent
// Events: "state" for every viewer, "ticket" for the signed-in buyer). The box shows one state at a
// time through its data-show attribute (the CSS shows the matching [data-when] line).
(function () {
  "use strict";
  function two(n) { return (n < 10 ? "0" : "") + n; }

  function setup(box) {
    if (box.getAttribute("data-ready") === "true") return;
    box.setAttribute("data-ready", "true");
    var id = box.getAttribute("data-flash-sale");
    var startsAt = Date.parse(box.getAttribute("data-starts-at"));
    var left = box.querySelector("[data-flash-left]");
    var countdown = box.querySelector("[data-countdown]");
    var form = box.querySelector("[data-flash-form]");
    var pay = box.querySelector("[data-flash-pay]");
    var problem = box.querySelector("[data-flash-error]");
    var phase = box.getAttribute("data-phase");
    var ticket = null;  // the buyer's newest ticket state
    var busy = false;

    function show() {
      var shown = phase;
      if (ticket === "queued" || ticket === "ordered" || ticket === "paid") shown = ticket;
      else if (ticket === "expired" || ticket === "rejected") shown = phase === "on_sale" ? ticket : phase;
      if (box.getAttribute("data-show") === "error" && busy === false && shown === "on_sale") shown = "error";
      // While this buyer's own request is in flight, the broadcast "sold out" may be the unit they just
      // won: wait for their answer instead of telling a winner they lost.
      if (busy && (shown === "sold_out" || shown === "ended")) return;
      box.setAttribute("data-show", shown);
    }
    function tick() {
      if (phase !== "upcoming") return;
      var ms = startsAt - Date.now();
      if (ms <= 0) { phase = "on_sale"; show(); return; }
      var s = Math.floor(ms / 1000);
      countdown.textContent = two(Math.floor(s / 3600)) + ":" + two(Math.floor(s / 60) % 60) + ":" + two(s % 60);
    }
    setInterval(tick, 250);
    tick();

    function remaining(n) {
      if (!left) return;
      left.querySelector("[data-n]").textContent = String(n);
      left.setAttribute("data-remaining", String(n));
    }

    if (window.EventSource) {
      var source = new EventSource("/api/flash-sales/" + id + "/events");
      source.addEventListener("state", function (event) {
        var s = JSON.parse(event.data);
        if (s.phase) phase = s.phase;
        if (s.starts_at) startsAt = Date.parse(s.starts_at);
        if (typeof s.remaining === "number") remaining(s.remaining);
        box.setAttribute("data-phase", phase);
        tick();
        show();
      });
      source.addEventListener("ticket", function (event) {
        var t = JSON.parse(event.data);
        ticket = t.state;
        if (pay && t.checkout_id) pay.setAttribute("href", "/checkouts/" + t.checkout_id + "/pay");
        show();
      });
      source.addEventListener("open", function () { box.setAttribute("data-connected", "true"); });
    }

    if (form) {
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        if (busy) return;
        busy = true;
        var data = new FormData(form);
        data.append("request_key", id + "-" + Date.now() + "-" + Math.random().toString(36).slice(2));
        fetch(form.action, {
          method: "POST", body: data, credentials: "same-origin", headers: { "X-Requested-With": "fetch" }
        }).then(function (r) {
          return r.json().then(function (body) { return { status: r.status, body: body }; });
        }).then(function (answer) {
          busy = false;
          if (answer.status === 201) {
            ticket = answer.body.state;
            remaining(answer.body.remaining);
          } else {
            var code = answer.body.error && answer.body.error.code;
            if (code === "sold_out") { phase = "sold_out"; remaining(0); }
            else if (code === "sale_ended") { phase = "ended"; }
            else if (code === "limit_reached") { ticket = ticket || "queued"; }
            else {
              problem.textContent = answer.body.error ? answer.body.error.message : "";
              box.setAttribute("data-show", "error");
              return;
            }
          }
          show();
        }).catch(function () { busy = false; form.submit(); });
      });
    }
    show();
  }

  function scan() { document.querySelectorAll("[data-flash-sale]").forEach(setup); }
  scan();
  // The live room redraws its pinned card when the host pins: set up the new box too.
  if (window.MutationObserver) new MutationObserver(scan).observe(document.body, { childList: true, subtree: true });
})();
