/* Placing a report: a pin on a Leaflet map fills the hidden lat/lon inputs, and open reports of
   the same category nearby are offered before sending ("already reported?").
   Everything comes from data-* attributes; without JavaScript the district and address fields work alone. */
(function () {
  "use strict";
  var el = document.getElementById("report-picker");
  if (!el || typeof L === "undefined") { return; }
  var d = el.dataset;
  var latInput = document.getElementById(d.latInput);
  var lonInput = document.getElementById(d.lonInput);
  var category = document.getElementById(d.categoryInput);
  var box = document.getElementById(d.nearbyBox);
  var status = document.getElementById("picker-status");
  var center = (d.center || "45.0703,7.6869").split(",").map(Number);
  var map = L.map(el, { scrollWheelZoom: false }).setView(center, Number(d.zoom || 13));
  L.tileLayer(d.tileUrl, { attribution: d.attribution, maxZoom: 19 }).addTo(map);
  var marker = null;
  var pending = null;

  function place(latlng, pan) {
    if (!marker) {
      marker = L.marker(latlng, { draggable: true, keyboard: true, title: el.getAttribute("aria-label") }).addTo(map);
      marker.on("dragend", function () { place(marker.getLatLng(), false); });
    } else {
      marker.setLatLng(latlng);
    }
    if (pan) { map.setView(latlng, Math.max(map.getZoom(), 17)); }
    latInput.value = latlng.lat.toFixed(6);
    lonInput.value = latlng.lng.toFixed(6);
    status.textContent = latInput.value + ", " + lonInput.value;
    lookNearby();
  }

  function lookNearby() {
    if (!box || !latInput.value || !category || !category.value || category.value === "0") { return; }
    if (pending) { pending.abort(); }
    pending = new AbortController();
    var url = d.nearbyUrl + "?category=" + encodeURIComponent(category.value) +
      "&lat=" + encodeURIComponent(latInput.value) + "&lon=" + encodeURIComponent(lonInput.value);
    fetch(url, { signal: pending.signal, headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : { reports: [] }; })
      .then(function (data) { showNearby(data.reports || []); })
      .catch(function (err) { if (err.name !== "AbortError") { showNearby([]); } });
  }

  function showNearby(items) {
    var list = box.querySelector("ul");
    list.textContent = "";
    items.forEach(function (item) {
      var li = document.createElement("li");
      var a = document.createElement("a");
      a.href = item.url;
      a.textContent = item.title;
      li.appendChild(a);
      var meta = document.createElement("span");
      meta.className = "muted";
      meta.textContent = " — " + item.distance_m + " " + d.labelAway + ", " + item.status_label;
      li.appendChild(meta);
      list.appendChild(li);
    });
    box.hidden = items.length === 0 || box.dataset.suppressed === "1";
  }

  map.on("click", function (e) { place(e.latlng, false); });
  if (category) { category.addEventListener("change", lookNearby); }
  if (latInput.value && lonInput.value) {
    place(L.latLng(Number(latInput.value), Number(lonInput.value)), true);
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
})();
