// Live list glue (htmx does the rest): poll while the socket is down, catch up after it
// reconnects, and let rows that moved to another list fade out after a few seconds.
(function () {
  var timer = null;
  function table() { return document.getElementById("entries"); }
  function poll() { var t = table(); if (t) htmx.trigger(t, "callback-poll"); }
  document.addEventListener("htmx:wsClose", function () {
    var t = table();
    if (timer || !t) return;
    document.documentElement.classList.add("is-offline");
    timer = setInterval(poll, 1000 * (parseInt(t.dataset.pollSeconds, 10) || 10));
  });
  document.addEventListener("htmx:wsOpen", function () {
    document.documentElement.classList.remove("is-offline");
    if (timer) { clearInterval(timer); timer = null; poll(); }
  });
  function fadeMoved() {
    document.querySelectorAll("tr.is-moved:not([data-leaving])").forEach(function (row) {
      row.setAttribute("data-leaving", "");
      setTimeout(function () { if (row.isConnected) row.remove(); }, 8000);
    });
  }
  document.addEventListener("htmx:oobAfterSwap", fadeMoved);
  document.addEventListener("htmx:afterSettle", fadeMoved);

  // Ages and the "first attempt within N minutes" target count on between pushes. Each value is
  // taken relative to when the row arrived, so the browser's clock does not matter.
  function tick() {
    var t = table();
    var formats = t && t.dataset.ageFormats ? JSON.parse(t.dataset.ageFormats) : null;
    document.querySelectorAll("[data-age]").forEach(function (el) {
      if (!el.dataset.born) el.dataset.born = Date.now() - 1000 * Number(el.dataset.age);
      var m = Math.floor((Date.now() - Number(el.dataset.born)) / 60000);
      var d = Math.floor(m / 1440), h = Math.floor((m % 1440) / 60);
      var pattern = !formats ? null : d ? formats.d : h ? formats.h : formats.m;
      if (pattern) el.textContent = pattern.replace("{d}", d).replace("{h}", h).replace("{m}", m % 60);
    });
    document.querySelectorAll("tr[data-due-in]").forEach(function (row) {
      if (!row.dataset.dueAt) row.dataset.dueAt = Date.now() + 1000 * Number(row.dataset.dueIn);
      row.classList.toggle("is-overdue", Date.now() >= Number(row.dataset.dueAt));
    });
  }
  document.addEventListener("htmx:load", tick);
  setInterval(tick, 30000);
})();
