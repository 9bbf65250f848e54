/* How near the neighbours are: the search and similar pages ask for their distance
 * histogram after the page (pgvector_admin.admin.distances), so the table of
 * neighbours is there at once.
 *
 * Each <div class="distance-box" data-distances-url="…"> fetches its URL (the page's
 * own query) and shows the answer, the server's HTML (a sentence and an SVG), in its
 * .distance-box-body. A refusal is the server's own sentence, in the page's language.
 */
(function () {
  "use strict";

  function fill(template, name, value) {
    return template.replace("%(" + name + ")s", value);
  }

  function draw(box) {
    var status = box.querySelector(".distance-box-status");
    var body = box.querySelector(".distance-box-body");
    status.textContent = box.dataset.textReading;
    fetch(box.dataset.distancesUrl, {
      credentials: "same-origin",
      headers: { Accept: "text/html", "X-Pgvector-Admin-Part": "1" },
    })
      .then(function (response) {
        return response.text().then(function (text) {
          var html = (response.headers.get("Content-Type") || "").indexOf("text/html") === 0;
          if (!response.ok) throw new Error(html ? box.dataset.textRefused : text);
          return { html: html, text: text };
        });
      })
      .then(function (answer) {
        if (answer.html) {
          body.innerHTML = answer.text;  // the server's template: its text escaped there
          status.remove();
        } else {
          status.textContent = answer.text;
        }
      })
      .catch(function (error) {
        status.textContent = fill(box.dataset.textFailed, "reason", error.message || box.dataset.textRefused);
      });
  }

  document.querySelectorAll(".distance-box[data-distances-url]").forEach(draw);
})();
