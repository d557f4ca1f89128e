/* A point on a Leaflet map for a form: a tap or click places a draggable pin, which fills the
   lat/lon inputs; "use my position" and "remove the point" buttons appear when they can work.
   Used by the report, proposal, pact, opportunity and commons forms.

   Everything comes from the map element's data-* attributes:
     data-lat-input, data-lon-input   ids of the inputs it fills (required)
     data-center, data-zoom           the first view; data-pan-zoom: the zoom when a point is placed
     data-tile-url, data-attribution  the tiles
     data-status                      id of the status line (default "picker-status")
     data-locate-button               id of the "use my position" button (default "use-my-location")
     data-clear-button                id of the "remove the point" button (or options.clearButton)
     data-failed                      the message when the position is not available
     data-outline-input ...           the same map also draws an outline: see outline-drawer.js,
                                      which the page loads before the script that starts the picker
   A map element with data-picker="auto" starts by itself; forms with more to do (report-form.js,
   proposal-form.js, pact-form.js) call the function themselves.

   PiazzaPointPicker(element, {panZoom, clearButton, onPlace}) -> {map, place, outline} */
(function () {
  "use strict";

  function byId(id) { return id ? document.getElementById(id) : null; }

  window.PiazzaPointPicker = function (el, options) {
    options = options || {};
    var d = el.dataset;
    var latInput = byId(d.latInput);
    var lonInput = byId(d.lonInput);
    var status = byId(d.status || "picker-status");
    var clear = options.clearButton || byId(d.clearButton);
    var panZoom = options.panZoom || Number(d.panZoom || 17);
    var center = (d.center || "45.0703,7.6869").split(",").map(Number);
    var map = L.map(el, { scrollWheelZoom: false }).setView(center, Number(d.zoom || 13));
    L.tileLayer(d.tileUrl, {
      attribution: d.attribution,
      maxZoom: 19,
      referrerPolicy: "strict-origin-when-cross-origin"
    }).addTo(map);
    var marker = null;
    var outline = d.outlineInput && window.PiazzaOutlineDrawer ? window.PiazzaOutlineDrawer(map, el) : null;

    function say(text) { if (status) { status.textContent = text; } }

    function place(latlng, pan) {
      if (!marker) {
        /* pmIgnore: the drawing tools (Geoman), when loaded, leave the point alone. */
        marker = L.marker(latlng, { draggable: true, keyboard: true, title: el.getAttribute("aria-label"),
                                    pmIgnore: true }).addTo(map);
        marker.on("dragend", function () { place(marker.getLatLng(), false); });
      } else {
        marker.setLatLng(latlng);
      }
      if (pan) { map.setView(latlng, Math.max(map.getZoom(), panZoom)); }
      latInput.value = latlng.lat.toFixed(6);
      lonInput.value = latlng.lng.toFixed(6);
      say(latInput.value + ", " + lonInput.value);
      if (clear) { clear.hidden = false; }
      if (options.onPlace) { options.onPlace(latlng); }
    }

    map.on("click", function (e) {
      /* While an outline is being drawn or edited, clicks belong to it. */
      if (outline && outline.busy()) { return; }
      place(e.latlng, false);
    });
    if (clear) {
      clear.addEventListener("click", function () {
        if (marker) { map.removeLayer(marker); marker = null; }
        latInput.value = lonInput.value = "";
        say("");
        clear.hidden = true;
      });
    }
    var locate = byId(d.locateButton || "use-my-location");
    if (locate && navigator.geolocation) {
      locate.hidden = false;
      locate.addEventListener("click", function () {
        navigator.geolocation.getCurrentPosition(function (pos) {
          place(L.latLng(pos.coords.latitude, pos.coords.longitude), true);
        }, function () { say(d.failed || ""); }, { enableHighAccuracy: true, timeout: 10000 });
      });
    }
    if (latInput.value && lonInput.value) {
      /* An outline already framed the view: keep it, the point is inside. */
      place(L.latLng(Number(latInput.value), Number(lonInput.value)), !(outline && outline.geometry()));
    }
    return { map: map, place: place, outline: outline };
  };

  function autoStart() {
    if (typeof L === "undefined") { return; }
    document.querySelectorAll("[data-picker='auto']").forEach(function (el) {
      window.PiazzaPointPicker(el);
    });
  }
  /* After every deferred script (outline-drawer.js may come after this one). */
  if (document.readyState === "loading" || document.readyState === "interactive") {
    document.addEventListener("DOMContentLoaded", autoStart);
  } else {
    autoStart();
  }
})();
