// The progress page of a background task: its state, read every second from the
// task's JSON, shown in place; when the task has finished, the page is loaded again
// to show the result. Its sentences come translated from the page's data-text-*
// attributes; numbers are written as the page's language writes them.
(function () {
  "use strict";
  var page = document.getElementById("task-progress");
  if (!page || page.dataset.finished === "true") { return; }
  var url = page.dataset.stateUrl;
  function text(id, value) {
    var element = document.getElementById(id);
    if (element) { element.textContent = value; }
  }
  var language = document.documentElement.lang || undefined;
  function number(value) { return value === null ? "" : value.toLocaleString(language); }
  function sentence(name, key, value) {
    return page.dataset[name].replace("%(" + key + ")s", value);
  }
  function poll() {
    fetch(url, { credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (state) {
        if (state.finished) { window.location.reload(); return; }
        text("task-phase", state.phase_label);
        text("task-done", number(state.done));
        text("task-total", state.total ? sentence("textTotal", "total", number(state.total)) : "");
        text("task-rate", state.rate ? sentence("textRate", "rate", number(state.rate)) : "");
        text("task-left", state.seconds_left !== null
          ? sentence("textLeft", "seconds", number(Math.round(state.seconds_left))) : "");
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
