/* The pictures: rows as points in 3-d space, drawn with plotly.js (vendored).
 *
 * Each <div class="point-cloud" data-points-url="…"> asks its URL for the points
 * (pgvector_admin.admin.pictures) and draws them in its .point-cloud-plot: the sample of the
 * table in grey (or coloured by a field on the map), the neighbours coloured by rank,
 * the query as a diamond. Hover names a point and gives every distance; a click opens
 * the row's page. Without JavaScript the page keeps its table and says so.
 *
 * Every word shown comes translated: from the points' JSON (data.words, data.summary)
 * or from the box's data-text-* attributes.
 */
(function () {
  "use strict";

  var LANGUAGE = document.documentElement.lang || undefined;
  // Keys of the rows without a value, and of the values past the legend's last colour.
  var NONE = "(none)";
  var OTHER = "(other)";
  var SAMPLE_COLOUR = "#9bb3d6";
  var QUERY_COLOUR = "#7b2cbf";
  // Rank 1 the darkest red, the k-th a light orange.
  var RANK_SCALE = [[0, "#b2182b"], [1, "#fdb863"]];
  // Colour-blind-safe categories (Okabe and Ito), then Tableau's.
  var CATEGORY_COLOURS = [
    "#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442",
    "#000000", "#999999", "#8c564b", "#17becf", "#bcbd22", "#1f77b4", "#ff7f0e",
    "#2ca02c", "#d62728", "#9467bd", "#e377c2", "#7f7f7f", "#aec7e8", "#c7c7c7",
  ];

  // Big arrays arrive packed: little-endian float32 in base64 (pgvector_admin.pictures.point_cloud).
  function unpacked(values) {
    if (!values || Array.isArray(values) || values.float32 === undefined) return values;
    var bytes = Uint8Array.from(atob(values.float32), function (c) { return c.charCodeAt(0); });
    return Array.from(new Float32Array(bytes.buffer));
  }

  function unpack(points) {
    if (!points) return;
    ["x", "y", "z"].forEach(function (axis) { points[axis] = unpacked(points[axis]); });
    Object.keys(points.distances || {}).forEach(function (name) {
      points.distances[name] = unpacked(points.distances[name]);
    });
  }

  // plotly reads hover text, legend names and titles as a little HTML (<b>, <a href>):
  // the table's own text (labels, keys, field names) goes in as text, never as markup.
  function escape(value) {
    // (Quotes need no escaping outside a tag, and plotly would show &quot; as it is.)
    return String(value).replace(/[&<>]/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;" }[c];
    });
  }

  function number(value) {
    if (value === null || value === undefined || Number.isNaN(value)) return "—";
    return Math.abs(value) >= 1e5 || (value !== 0 && Math.abs(value) < 1e-4)
      ? value.toExponential(4)
      : String(Number(value.toPrecision(6)));
  }

  function fill(text, key, value) { return text.replace("%(" + key + ")s", value); }

  function describe(data, points, i, first) {
    var lines = [first];
    var label = points.labels && points.labels[i];
    var id = escape(points.ids[i]);
    var name = label ? escape(label) + " (id " + id + ")" : "id " + id;
    lines.push(name);
    data.metrics.forEach(function (metric) {
      var values = points.distances[metric.name];
      if (values) lines.push(escape(metric.label) + ": " + number(values[i]));
    });
    return lines.filter(Boolean).join("<br>");
  }

  function texts(data, points, first) {
    return points.ids.map(function (_, i) {
      return describe(data, points, i, typeof first === "function" ? first(i) : first);
    });
  }

  function trace(points, extra) {
    return Object.assign(
      {
        type: "scatter3d",
        mode: "markers",
        x: points.x,
        y: points.y,
        z: points.z,
        customdata: points.ids,
        hovertemplate: "%{text}<extra></extra>",
      },
      extra
    );
  }

  // Points the smaller the more there are: a few dozen stay visible, 20,000 stay apart.
  function pointSize(count) {
    return count < 1000 ? 4 : count < 5000 ? 3 : 2;
  }

  function sampleTraces(data) {
    var sample = data.sample;
    var size = pointSize(sample.ids.length);
    var colour = data.colour;
    var colourLabel = colour ? escape(colour.label) : "";
    if (!colour) {
      return [trace(sample, {
        name: escape(data.words.sample),
        text: texts(data, sample, ""),
        marker: { size: size, color: SAMPLE_COLOUR, opacity: 0.5 },
      })];
    }
    if (colour.kind === "number") {
      return [trace(sample, {
        name: colourLabel,
        text: texts(data, sample, function (i) { return colourLabel + ": " + number(sample.colours[i]); }),
        marker: {
          size: size, color: sample.colours, colorscale: "Viridis", showscale: true,
          colorbar: { title: { text: colourLabel }, thickness: 12 },
        },
      })];
    }
    // One trace a category: the legend names each and hides it on a click.
    var groups = {};
    sample.colours.forEach(function (value, i) {
      var key = value === null ? NONE : String(value);
      (groups[key] = groups[key] || []).push(i);
    });
    // A value's colour is its place among all the values (every choice of a field with
    // choices): the same on every map, whatever rows are drawn.
    var order = colour.values.map(String).concat([OTHER, NONE]);
    return order.map(function (key, n) { return [key, n]; }).filter(function (pair) {
      return groups[pair[0]];
    }).map(function (pair) {
      var key = pair[0], n = pair[1];
      var rows = groups[key];
      var shown = escape(key === NONE ? data.words.none : key === OTHER ? data.words.other : key);
      var part = { ids: [], x: [], y: [], z: [], labels: [], distances: {} };
      rows.forEach(function (i) {
        part.ids.push(sample.ids[i]);
        part.x.push(sample.x[i]);
        part.y.push(sample.y[i]);
        part.z.push(sample.z[i]);
        part.labels.push(sample.labels ? sample.labels[i] : "");
      });
      return trace(part, {
        name: colourLabel + " " + shown + " (" + rows.length.toLocaleString(LANGUAGE) + ")",
        text: texts(data, part, colourLabel + ": " + shown),
        marker: { size: size, color: CATEGORY_COLOURS[n % CATEGORY_COLOURS.length] },
      });
    });
  }

  function neighbourTraces(data) {
    var traces = [];
    var near = data.neighbours;
    if (near) {
      var ranks = near.ids.map(function (_, i) { return i + 1; });
      traces.push(trace(near, {
        name: escape(data.words.nearest),
        text: texts(data, near, function (i) {
          return "<b>" + escape(fill(data.words.rank, "rank", (i + 1).toLocaleString(LANGUAGE))) + "</b>";
        }),
        marker: {
          size: 6, color: ranks, colorscale: RANK_SCALE, cmin: 1,
          cmax: Math.max(2, near.ids.length), line: { width: 0 },
        },
      }));
    }
    if (data.query) {
      var q = data.query;
      traces.push({
        type: "scatter3d",
        mode: "markers",
        name: escape(data.words.query),
        x: [q.x], y: [q.y], z: [q.z],
        customdata: [q.id],
        text: ["<b>" + escape(data.words.query) + "</b>" + (q.id !== null ? "<br>id " + escape(q.id) : "")],
        hovertemplate: "%{text}<extra></extra>",
        marker: { size: 8, color: QUERY_COLOUR, symbol: "diamond" },
      });
    }
    return traces;
  }

  function draw(box) {
    var status = box.querySelector(".point-cloud-status");
    var plot = box.querySelector(".point-cloud-plot");
    status.textContent = box.dataset.textReading;
    fetch(box.dataset.pointsUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.json().then(function (data) { return { ok: response.ok, data: data }; });
      })
      .then(function (answer) {
        var data = answer.data;
        if (!answer.ok || data.error) throw new Error(data.error || box.dataset.textRefused);
        unpack(data.sample);
        unpack(data.neighbours);
        if (data.reason) {
          status.textContent = data.reason;
          box.dataset.drawn = "none";
          return null;
        }
        var axis = function (title) { return { title: { text: escape(title) }, showspikes: false }; };
        var layout = {
          height: 560,
          margin: { l: 0, r: 0, t: 10, b: 0 },
          showlegend: true,
          legend: { x: 0, y: 1, bgcolor: "rgba(255,255,255,0.7)", itemsizing: "constant" },
          scene: {
            aspectmode: "data",
            xaxis: axis(data.axes[0]),
            yaxis: axis(data.axes[1]),
            zaxis: axis(data.axes[2]),
          },
          hoverlabel: { align: "left" },
        };
        var traces = sampleTraces(data).concat(neighbourTraces(data));
        return Plotly.newPlot(plot, traces, layout, { responsive: true, displaylogo: false }).then(
          function () {
            plot.on("plotly_click", function (event) {
              var id = event.points[0] && event.points[0].customdata;
              if (id !== null && id !== undefined) {
                window.location.href = data.change_url.replace("__pk__", encodeURIComponent(id));
              }
            });
            status.textContent = data.summary;
            box.dataset.drawn = "yes";
          }
        );
      })
      .catch(function (error) {
        status.textContent = fill(box.dataset.textFailed, "reason", error.message);
        box.dataset.drawn = "failed";
      });
  }

  document.querySelectorAll(".point-cloud[data-points-url]").forEach(draw);
})();
