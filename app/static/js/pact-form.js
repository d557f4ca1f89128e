/* The pact proposal form: a point on the map for a new commons (point-picker.js), and only the
   fields of the chosen commons option (registered or new) shown. Without JavaScript both sets of
   fields are visible and the radio buttons say which one counts. */
(function () {
  "use strict";
  function byId(id) { return document.getElementById(id); }

  var radios = document.querySelectorAll("input[name='commons_choice']");
  var existing = byId("commons-existing");
  var fresh = byId("commons-new");
  var picker = null;
  function sync() {
    var chosen = document.querySelector("input[name='commons_choice']:checked");
    var isNew = chosen && chosen.value === "new";
    if (existing) { existing.hidden = isNew; }
    if (fresh) { fresh.hidden = !isNew; }
    if (isNew && picker) { picker.map.invalidateSize(); }
  }
  Array.prototype.forEach.call(radios, function (r) { r.addEventListener("change", sync); });

  var el = byId("pact-picker");
  if (el && typeof L !== "undefined" && window.PiazzaPointPicker) {
    picker = window.PiazzaPointPicker(el, { panZoom: 16, clearButton: byId("clear-point") });
  }
  sync();
})();
