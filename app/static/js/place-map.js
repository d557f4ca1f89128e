/* The small map of one place on a detail page (a report, a proposal, a commons, a pact's commons):
   every <div class="map map-static" data-lat data-lon> gets a marker there, and, when it has
   data-outline (a GeoJSON Polygon or MultiPolygon, lon/lat), the outline too, framed whole.
   Rendered by the place_map macro (templates/_macros/map.html); nothing inline. */
(function () {
  "use strict";

  function outlineOf(text) {
    if (!text) { return null; }
    try {
      var geometry = JSON.parse(text);
      return geometry && (geometry.type === "Polygon" || geometry.type === "MultiPolygon") ? geometry : null;
    } catch (e) {
      return null;
    }
  }

  function start(el) {
    var d = el.dataset;
    var point = [Number(d.lat), Number(d.lon)];
    var map = L.map(el, { scrollWheelZoom: false }).setView(point, Number(d.zoom || 17));
    L.tileLayer(d.tileUrl, {
      attribution: d.attribution,
      maxZoom: 19,
      referrerPolicy: "strict-origin-when-cross-origin"
    }).addTo(map);
    var geometry = outlineOf(d.outline);
    if (geometry) {
      var outline = L.geoJSON(geometry, {
        interactive: false,
        style: function () { return { className: "map-outline " + (d.outlineClass || "map-outline--commons") }; }
      }).addTo(map);
      var bounds = outline.getBounds().extend(point);
      if (bounds.isValid()) { map.fitBounds(bounds, { padding: [24, 24], maxZoom: 18 }); }
    }
    L.marker(point, { keyboard: false }).addTo(map);
  }

  if (typeof L === "undefined") { return; }
  document.querySelectorAll(".map-static[data-lat][data-lon]").forEach(start);
})();
