// Counts down "Anna is calling back now (1:45 left)" between pushes. The server re-renders the
// row when the claim expires; this only keeps the minutes honest in the meantime. The deadline
// is taken from the text when the row arrives, so the browser's clock may be off.
(function () {
  function tick() {
    document.querySelectorAll("[data-countdown]").forEach(function (el) {
      var match = /(\d+):(\d\d)/.exec(el.textContent);
      if (!match) return;
      if (!el.dataset.deadline) {
        el.dataset.deadline = Date.now() + 1000 * (60 * Number(match[1]) + Number(match[2]));
      }
      var left = Math.max(0, Math.round((Number(el.dataset.deadline) - Date.now()) / 1000));
      var text = Math.floor(left / 60) + ":" + String(left % 60).padStart(2, "0");
      el.textContent = el.textContent.replace(match[0], text);
    });
  }
  setInterval(tick, 1000);
})();
