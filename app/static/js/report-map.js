/* The small map on a report's page: one marker at data-lat/data-lon. */
(function () {
  "use strict";
  var el = document.getElementById("report-map");
  if (!el || typeof L === "undefined") { return; }
  var d = el.dataset;
  var point = [Number(d.lat), Number(d.lon)];
  var map = L.map(el, { scrollWheelZoom: false }).setView(point, 17);
  L.tileLayer(d.tileUrl, { attribution: d.attribution, maxZoom: 19 }).addTo(map);
  L.marker(point, { keyboard: false }).addTo(map);
})();
