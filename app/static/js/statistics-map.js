/* The district choropleth of /statistics on a Leaflet map.
 *
 * The page already shows the same choropleth as a server-drawn SVG, with its legend and table: that
 * stays when Leaflet or the outlines cannot load. Everything comes from data-* attributes of
 * #choropleth-map (no inline data: the CSP forbids it): the outlines' URL, the colour class of every
 * district for every measure, the counts. Choosing another measure recolours the map in place (no
 * reload) and shows that measure's legend; without this script the form's button reloads the page.
 */
(function () {
  "use strict";

  var el = document.getElementById("choropleth-map");
  if (!el || !window.L || !window.fetch) { return; }
  var d = el.dataset;

  function parse(text, fallback) {
    try { return text ? JSON.parse(text) : fallback; } catch (e) { return fallback; }
  }

  var classes = parse(d.classes, {});
  var counts = parse(d.counts, []);
  var names = parse(d.labels, {});
  var measure = d.measure;
  var byNumber = {};
  counts.forEach(function (c) { byNumber[c.number] = c; });
  var svg = document.getElementById("choropleth-svg");
  var form = document.getElementById("stats-measures");
  var legends = document.querySelectorAll("#choropleth-legend .legend[data-measure]");
  var map = null;
  var outlines = null;
  var layer = null;

  function classOf(feature) {
    var table = classes[measure] && classes[measure].classes;
    var value = table ? table[feature.properties.number] : undefined;
    return value === undefined ? 0 : value;
  }

  function draw() {
    if (layer) { map.removeLayer(layer); }
    layer = L.geoJSON(outlines, {
      style: function (feature) {
        return { className: "choropleth-area choropleth-class-" + classOf(feature) };
      },
      onEachFeature: function (feature, path) {
        var p = feature.properties;
        var row = byNumber[p.number];
        path.bindTooltip(String(p.number), {
          permanent: true, direction: "center", className: "choropleth-tip choropleth-tip-" + classOf(feature)
        });
        if (row) {
          var text = document.createElement("span");
          text.textContent = p.number + " – " + p.name + ": " + (names[measure] || measure) + " " +
            Number(row[measure] || 0).toLocaleString(document.documentElement.lang || undefined);
          path.bindPopup(text);
        }
      }
    }).addTo(map);
  }

  function showLegend() {
    legends.forEach(function (legend) { legend.hidden = legend.dataset.measure !== measure; });
  }

  function start(data) {
    if (!data || !data.features || !data.features.length) { return; }
    outlines = data;
    el.hidden = false;
    map = L.map(el, { scrollWheelZoom: false, zoomSnap: 0.25 });
    L.tileLayer(d.tileUrl, {
      attribution: d.attribution,
      maxZoom: 19,
      referrerPolicy: "strict-origin-when-cross-origin"
    }).addTo(map);
    draw();
    map.fitBounds(layer.getBounds(), { padding: [6, 6] });
    if (svg) { svg.hidden = true; }
    if (form) {
      form.classList.add("stats-measures-live");
      form.addEventListener("change", function (event) {
        if (event.target.name !== "measure") { return; }
        measure = event.target.value;
        draw();
        showLegend();
        if (window.history.replaceState) {
          var params = new URLSearchParams(window.location.search);
          params.set("measure", measure);
          window.history.replaceState(null, "", window.location.pathname + "?" + params.toString() + "#districts");
        }
      });
    }
  }

  fetch(d.districts, { headers: { Accept: "application/geo+json" } })
    .then(function (response) { return response.ok ? response.json() : null; })
    .then(start)
    .catch(function () { /* the server-drawn map stays */ });
})();
