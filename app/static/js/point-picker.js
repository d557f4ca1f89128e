/* A point on a Leaflet map for a form: a tap or click places a draggable pin, which fills the
   hidden lat/lon inputs named by the map's data-lat-input / data-lon-input; "use my position" and
   "remove the point" buttons appear when they can work. Used by the report and proposal forms.

   PiazzaPointPicker(element, {panZoom, clearButton, onPlace}) -> {map, place} */
(function () {
  "use strict";
  window.PiazzaPointPicker = function (el, options) {
    options = options || {};
    var d = el.dataset;
    var latInput = document.getElementById(d.latInput);
    var lonInput = document.getElementById(d.lonInput);
    var status = document.getElementById("picker-status");
    var clear = options.clearButton || null;
    var center = (d.center || "45.0703,7.6869").split(",").map(Number);
    var map = L.map(el, { scrollWheelZoom: false }).setView(center, Number(d.zoom || 13));
    L.tileLayer(d.tileUrl, { attribution: d.attribution, maxZoom: 19 }).addTo(map);
    var marker = null;

    function place(latlng, pan) {
      if (!marker) {
        marker = L.marker(latlng, { draggable: true, keyboard: true, title: el.getAttribute("aria-label") }).addTo(map);
        marker.on("dragend", function () { place(marker.getLatLng(), false); });
      } else {
        marker.setLatLng(latlng);
      }
      if (pan) { map.setView(latlng, Math.max(map.getZoom(), options.panZoom || 17)); }
      latInput.value = latlng.lat.toFixed(6);
      lonInput.value = latlng.lng.toFixed(6);
      status.textContent = latInput.value + ", " + lonInput.value;
      if (clear) { clear.hidden = false; }
      if (options.onPlace) { options.onPlace(latlng); }
    }

    map.on("click", function (e) { place(e.latlng, false); });
    if (clear) {
      clear.addEventListener("click", function () {
        if (marker) { map.removeLayer(marker); marker = null; }
        latInput.value = lonInput.value = "";
        status.textContent = "";
        clear.hidden = true;
      });
    }
    var locate = document.getElementById("use-my-location");
    if (locate && navigator.geolocation) {
      locate.hidden = false;
      locate.addEventListener("click", function () {
        navigator.geolocation.getCurrentPosition(function (pos) {
          place(L.latLng(pos.coords.latitude, pos.coords.longitude), true);
        }, function () { status.textContent = d.failed || ""; }, { enableHighAccuracy: true, timeout: 10000 });
      });
    }
    if (latInput.value && lonInput.value) {
      place(L.latLng(Number(latInput.value), Number(lonInput.value)), true);
    }
    return { map: map, place: place };
  };
})();
