// A running pack's page asks for its state every second and moves the bar; finished, the page reloads
// to offer the download (without JS the page has a link to refresh it).
(function () {
  "use strict";
  var box = document.querySelector("[data-pack-state]");
  if (!box || !window.fetch) { return; }
  var bar = box.querySelector("progress");
  var text = box.querySelector("[data-pack-text]");
  var url = box.getAttribute("data-pack-state");
  function poll() {
    fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (answer) { return answer.ok ? answer.json() : null; })
      .then(function (job) {
        if (!job) { return; }
        bar.max = Math.max(job.total, 1);
        bar.value = job.done;
        text.textContent = job.text;
        if (job.finished) { window.location.reload(); } else { window.setTimeout(poll, 1000); }
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 500);
}());
