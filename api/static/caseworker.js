// The caseworker workspace: focus where the page wants it, sortable and filterable result
// tables, a busy note on long uploads, and job progress that refreshes itself. No library.
(function () {
  "use strict";

  function focusFirst() {
    var target = document.querySelector('[aria-invalid="true"]') || document.querySelector("[data-focus]");
    if (target) { target.focus(); if (target.scrollIntoView) target.scrollIntoView({block: "start"}); }
  }

  function cellValue(row, index, kind) {
    var cell = row.cells[index];
    var raw = cell ? (cell.getAttribute("data-value") || cell.textContent || "") : "";
    return kind === "number" ? parseFloat(raw) || 0 : raw.trim();
  }

  function sortable(table) {
    var heads = table.querySelectorAll("thead th");
    heads.forEach(function (th, index) {
      var button = th.querySelector("button[data-sort]");
      if (!button) return;
      button.addEventListener("click", function () {
        var kind = button.getAttribute("data-sort");
        var ascending = th.getAttribute("aria-sort") !== "ascending";
        heads.forEach(function (other) { if (other.hasAttribute("aria-sort")) other.setAttribute("aria-sort", "none"); });
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = cellValue(a, index, kind), y = cellValue(b, index, kind);
          var order = kind === "number" ? x - y : String(x).localeCompare(String(y), "zh-CN");
          return ascending ? order : -order;
        });
        rows.forEach(function (row) { body.appendChild(row); });
      });
    });
  }

  function filterable(table) {
    var verdict = document.querySelector("[data-filter-verdict]");
    var text = document.querySelector("[data-filter-text]");
    var shown = document.querySelector("[data-shown]");
    function apply() {
      var want = verdict ? verdict.value : "";
      var words = text ? text.value.trim().toLowerCase() : "";
      var rows = table.tBodies[0].rows, count = 0;
      for (var i = 0; i < rows.length; i++) {
        var row = rows[i];
        var ok = (!want || row.getAttribute("data-verdict") === want) &&
                 (!words || row.textContent.toLowerCase().indexOf(words) !== -1);
        row.hidden = !ok;
        if (ok) count++;
      }
      if (shown) shown.textContent = "显示 " + count + " / " + rows.length;
    }
    if (verdict) verdict.addEventListener("change", apply);
    if (text) text.addEventListener("input", apply);
  }

  function busyForms() {
    document.querySelectorAll("form[data-busy]").forEach(function (form) {
      form.addEventListener("submit", function () {
        var note = form.querySelector(".busy");
        if (note) note.hidden = false;
        form.setAttribute("aria-busy", "true");
      });
    });
  }

  function pollJobs(box) {
    var url = box.getAttribute("data-poll");
    function active() { var inner = box.querySelector("[data-active]"); return inner && inner.getAttribute("data-active") === "1"; }
    function tick() {
      if (!active()) return;
      fetch(url, {credentials: "same-origin"})
        .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
        .then(function (html) { box.innerHTML = html; setTimeout(tick, 1500); })
        .catch(function () { setTimeout(tick, 5000); });
    }
    setTimeout(tick, 1000);
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("table[data-sortable]").forEach(function (t) { sortable(t); filterable(t); });
    busyForms();
    var box = document.querySelector("[data-poll]");
    if (box) pollJobs(box);
    focusFirst();
  });
})();
