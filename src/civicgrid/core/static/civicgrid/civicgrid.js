/* civicgrid's only script besides plotly.js: served from the app's origin, so the Content-Security-Policy
   needs no inline script. Loaded with `defer` by core/base.html. */
(function () {
  "use strict";
  // the header's menu button on small screens
  document.querySelectorAll(".menu-toggle").forEach(function (button) {
    button.addEventListener("click", function () {
      var open = document.body.classList.toggle("nav-open");
      button.setAttribute("aria-expanded", open ? "true" : "false");
    });
  });
  // the language switch submits itself
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });
  // phone tables are cards: every cell carries its column's label (templates may set data-label themselves)
  document.querySelectorAll("table.responsive").forEach(function (table) {
    var heads = Array.prototype.map.call(table.querySelectorAll("thead th"), function (th) {
      return th.textContent.trim();
    });
    if (!heads.length) { return; }
    table.querySelectorAll("tbody tr").forEach(function (row) {
      Array.prototype.forEach.call(row.children, function (cell, i) {
        if (!cell.hasAttribute("data-label") && heads[i] !== undefined && !cell.hasAttribute("colspan")) {
          cell.setAttribute("data-label", heads[i]);
        }
      });
    });
  });
  // a refused form: its first error (shown next to its field) is brought into view on a phone
  var firstError = document.querySelector("main .errorlist");
  if (firstError && firstError.scrollIntoView) {
    firstError.scrollIntoView({block: "center"});
  }
  // print buttons (a grid's sweep list, an after-action review)
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
  // charts: figures are JSON blocks written by civicgrid.analytics.charts.to_div
  if (window.Plotly) {
    document.querySelectorAll("script.plotly-figure[type='application/json']").forEach(function (block) {
      var spec = JSON.parse(block.textContent);
      var target = block.previousElementSibling;
      window.Plotly.newPlot(target, spec.figure.data || [], spec.figure.layout || {}, spec.config || {});
    });
  }
})();

/* Search as you type: an <input data-suggest="URL" aria-controls="LIST_ID"> fetches URL?q=... (JSON
   {results: [{url, code, address, names}]}) a moment after the user stops typing and lists the matches
   in the <ul> named by aria-controls. Text goes in through textContent only, never as HTML. */
(function () {
  "use strict";
  document.querySelectorAll("input[data-suggest]").forEach(function (input) {
    var list = document.getElementById(input.getAttribute("aria-controls"));
    if (!list) { return; }
    var timer = null;
    var latest = 0;
    function show(results) {
      while (list.firstChild) { list.removeChild(list.firstChild); }
      results.forEach(function (r) {
        var item = document.createElement("li");
        var link = document.createElement("a");
        link.href = r.url;
        var code = document.createElement("strong");
        code.textContent = r.code;
        link.appendChild(code);
        link.appendChild(document.createTextNode(" " + r.address + (r.names.length ? " · " + r.names.join("、") : "")));
        item.appendChild(link);
        list.appendChild(item);
      });
      list.hidden = results.length === 0;
    }
    input.addEventListener("input", function () {
      clearTimeout(timer);
      var q = input.value.trim();
      if (q.length < 2) { show([]); return; }
      timer = setTimeout(function () {
        var ticket = ++latest;
        fetch(input.getAttribute("data-suggest") + "?q=" + encodeURIComponent(q), {
          credentials: "same-origin", headers: { "Accept": "application/json" }
        }).then(function (response) { return response.ok ? response.json() : { results: [] }; })
          .then(function (data) { if (ticket === latest) { show(data.results || []); } })
          .catch(function () { show([]); });
      }, 250);
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "Escape") { show([]); }
    });
  });
})();
