// Search box autocomplete: an ARIA combobox fed by GET /api/search/suggest (the JSON API, from the
// browser). Arrow keys move through the suggestions, Enter picks one, Escape closes the list.
(function () {
  "use strict";
  var box = document.querySelector("[data-autocomplete]");
  if (!box) return;
  var input = box.querySelector("input");
  var list = box.querySelector("[role=listbox]");
  var form = input.form;
  var active = -1;
  var timer = null;
  var lastQuery = null;
  var controller = null;

  function options() { return list.querySelectorAll("[role=option]"); }

  function close() {
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  }

  function highlight(index) {
    var items = options();
    if (!items.length) return;
    active = (index + items.length) % items.length;
    items.forEach(function (item, i) { item.setAttribute("aria-selected", i === active ? "true" : "false"); });
    input.setAttribute("aria-activedescendant", items[active].id);
  }

  function pick(text) {
    input.value = text;
    close();
    form.submit();
  }

  function show(items) {
    list.textContent = "";
    items.forEach(function (item, i) {
      var li = document.createElement("li");
      li.id = "suggestion-" + i;
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", "false");
      li.textContent = item.text;
      li.addEventListener("mousedown", function (event) { event.preventDefault(); pick(item.text); });
      list.appendChild(li);
    });
    if (items.length) {
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
    } else {
      close();
    }
  }

  function fetchSuggestions() {
    var q = input.value.trim();
    if (q === lastQuery) return;
    lastQuery = q;
    if (!q) { show([]); return; }
    if (controller) controller.abort();
    controller = new AbortController();
    fetch("/api/search/suggest?limit=8&q=" + encodeURIComponent(q), { signal: controller.signal, headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : { items: [] }; })
      .then(function (body) { if (input.value.trim() === q) show(body.items || []); })
      .catch(function () { /* offline or aborted: no suggestions */ });
  }

  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(fetchSuggestions, 150);
  });
  input.addEventListener("keydown", function (event) {
    if (list.hidden) return;
    if (event.key === "ArrowDown") { event.preventDefault(); highlight(active + 1); }
    else if (event.key === "ArrowUp") { event.preventDefault(); highlight(active - 1); }
    else if (event.key === "Escape") { close(); }
    else if (event.key === "Enter" && active >= 0) { event.preventDefault(); pick(options()[active].textContent); }
  });
  input.addEventListener("blur", function () { setTimeout(close, 100); });
})();
