// chibot web view: click a column heading to sort the table; keep Telegram's theme.
(function () {
  "use strict";
  try {
    var theme = JSON.parse(sessionStorage.getItem("tgTheme") || "null");
    if (theme) {
      Object.keys(theme).forEach(function (k) {
        document.documentElement.style.setProperty("--tg-theme-" + k.replace(/_/g, "-"), theme[k]);
      });
    }
  } catch (e) { /* no storage: default colours */ }

  // A cell's sort key: its machine value (data-v: a number or an ISO date) when it has
  // one, else its text read as a Vietnamese number ("1.234,5", "87,5%") or as words.
  function key(cell) {
    var v = cell.getAttribute("data-v");
    if (v !== null) {
      var n = Number(v);
      return isNaN(n) ? v : n;
    }
    var text = cell.textContent.trim();
    if (/^[\d.,%\s−-]+$/.test(text)) {
      var num = parseFloat(text.replace(/\./g, "").replace(",", ".").replace("−", "-"));
      if (!isNaN(num)) { return num; }
    }
    return text.toLowerCase();
  }

  function sortBy(table, index, th) {
    var body = table.tBodies[0];
    var asc = th.getAttribute("aria-sort") !== "ascending";
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (c) { c.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", asc ? "ascending" : "descending");
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = key(a.cells[index]), y = key(b.cells[index]);
      var r = typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y), "vi");
      return asc ? r : -r;
    });
    rows.forEach(function (r) { body.appendChild(r); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("table.sortable").forEach(function (table) {
      if (!table.tHead || !table.tBodies.length) { return; }
      Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, i) {
        th.addEventListener("click", function () { sortBy(table, i, th); });
      });
    });
  });
})();
