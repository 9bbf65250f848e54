// The progress page of a background task: its state, read every second from the
// task's JSON, shown in place; when the task has finished, the page is loaded again
// to show the result.
(function () {
  "use strict";
  var page = document.getElementById("task-progress");
  if (!page || page.dataset.finished === "true") { return; }
  var url = page.dataset.stateUrl;
  function text(id, value) {
    var element = document.getElementById(id);
    if (element) { element.textContent = value; }
  }
  function number(value) { return value === null ? "" : value.toLocaleString("en-US"); }
  function poll() {
    fetch(url, { credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (state) {
        if (state.finished) { window.location.reload(); return; }
        text("task-phase", state.phase_label);
        text("task-done", number(state.done));
        text("task-total", state.total ? " of " + number(state.total) : "");
        text("task-rate", state.rate ? number(state.rate) + " a second" : "");
        text("task-left", state.seconds_left !== null ? "; about " + Math.round(state.seconds_left) + " s left" : "");
        if (state.cancelling) {
          var note = document.getElementById("task-cancelling");
          var button = document.getElementById("task-cancel");
          if (note) { note.hidden = false; }
          if (button) { button.disabled = true; }
        }
        var idle = document.getElementById("task-no-worker");
        if (idle) { idle.hidden = !state.no_worker; }
        var bar = document.getElementById("task-bar");
        if (bar && state.total) { bar.max = state.total; bar.value = state.done; }
        window.setTimeout(poll, 1000);
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 1000);
})();
