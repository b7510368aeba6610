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
})();
