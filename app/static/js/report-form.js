/* Placing a report: a pin on a Leaflet map fills the hidden lat/lon inputs, and open reports of
   the same category nearby are offered before sending ("already reported?").
   Everything comes from data-* attributes; without JavaScript the district and address fields work alone. */
(function () {
  "use strict";
  var el = document.getElementById("report-picker");
  if (!el || typeof L === "undefined" || !window.PiazzaPointPicker) { return; }
  var d = el.dataset;
  var latInput = document.getElementById(d.latInput);
  var lonInput = document.getElementById(d.lonInput);
  var category = document.getElementById(d.categoryInput);
  var box = document.getElementById(d.nearbyBox);
  var pending = null;

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

  if (category) { category.addEventListener("change", lookNearby); }
  window.PiazzaPointPicker(el, { panZoom: 17, onPlace: lookNearby });
})();
