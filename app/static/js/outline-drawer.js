/* Drawing the outline of a place (an urban commons) on a form's map, with Leaflet-Geoman.

   The outline is kept as GeoJSON text (a Polygon or MultiPolygon, lon/lat) in one form field, a
   textarea or a hidden input: read when the page opens (the outline is shown), written after every
   change, emptied when the outline is removed. The server validates it like typed text. Without
   JavaScript or without Geoman (its CDN blocked) the field alone still works.

   Everything comes from the map element's data-* attributes:
     data-outline-input     id of the field holding the GeoJSON text (required)
     data-outline-tools     id of an element (hidden until this script runs) holding buttons with
                            data-outline-action="draw|undo|finish|cancel|edit|done|clear" and a
                            status line with data-outline-status
     data-outline-text      id of a <details> holding the text field: folded once drawing works,
                            unless the field shows an error (aria-invalid)
     data-outline-messages  JSON of translated texts: "drawing", "oneCorner", "corners" ({n}), "drawn",
                            "editing", "removed", "crossing", and Geoman's tooltips "firstVertex",
                            "continueLine", "finishPoly"

   PiazzaOutlineDrawer(map, el) -> {busy(), geometry()}: point-picker.js calls it for a map with
   data-outline-input, and ignores clicks on the map while busy() (drawing or editing). */
(function () {
  "use strict";

  var CLASS = "map-outline map-outline--commons";

  function parseJSON(text, fallback) {
    try {
      return text ? JSON.parse(text) : fallback;
    } catch (e) {
      return fallback;
    }
  }

  function areaGeometry(text) {
    var data = parseJSON(text, null);
    if (data && data.type === "Feature") { data = data.geometry; }
    return data && (data.type === "Polygon" || data.type === "MultiPolygon") && Array.isArray(data.coordinates)
      ? data : null;
  }

  function escapeHTML(text) {
    /* Geoman writes its tooltips as HTML. */
    return String(text).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  window.PiazzaOutlineDrawer = function (map, el) {
    var d = el.dataset;
    var input = document.getElementById(d.outlineInput);
    if (!input) { return null; }
    var tools = d.outlineTools ? document.getElementById(d.outlineTools) : null;
    var status = tools ? tools.querySelector("[data-outline-status]") : null;
    var messages = parseJSON(d.outlineMessages, {});
    var canDraw = !!(tools && map.pm && L.PM);
    var shape = null;         /* the outline, an L.Polygon (several parts for a MultiPolygon) */
    var state = "idle";       /* idle | drawing | editing */
    var working = null;       /* Geoman's layer while drawing */
    var corners = 0;
    var finishedAt = 0;       /* when an outline was last closed (see the "clear" button below) */

    function say(text) { if (status) { status.textContent = text || ""; } }
    function text(name, n) { return (messages[name] || "").replace("{n}", String(n)); }

    function geometry() { return shape ? shape.toGeoJSON(6).geometry : null; }

    function write() {
      var g = geometry();
      input.value = g ? JSON.stringify(g) : "";
      /* Other scripts (and the browser's "leave the page?" checks) see the change. */
      input.dispatchEvent(new Event("input", { bubbles: true }));
    }

    function show(g, frame) {
      if (shape) { map.removeLayer(shape); shape = null; }
      if (!g) { return; }
      try {
        var latlngs = L.GeoJSON.coordsToLatLngs(g.coordinates, g.type === "Polygon" ? 1 : 2);
        /* Not interactive: a click inside the outline still places the point. */
        shape = L.polygon(latlngs, { className: CLASS, interactive: false }).addTo(map);
      } catch (e) {
        shape = null;
        return;
      }
      if (frame) { map.fitBounds(shape.getBounds(), { padding: [24, 24], maxZoom: 18 }); }
    }

    /* --- the buttons ---------------------------------------------------------------- */
    function buttons() {
      return tools ? tools.querySelectorAll("[data-outline-action]") : [];
    }

    function visible(action) {
      if (state === "drawing") { return action === "undo" || action === "finish" || action === "cancel"; }
      if (state === "editing") { return action === "done" || action === "clear"; }
      return shape ? action === "edit" || action === "clear" : action === "draw";
    }

    function refresh() {
      if (!canDraw) { return; }
      var focused = document.activeElement;
      var lost = false;
      Array.prototype.forEach.call(buttons(), function (b) {
        var action = b.dataset.outlineAction;
        b.hidden = !visible(action);
        if (b.hidden && b === focused) { lost = true; }
        if (action === "undo") { b.disabled = corners === 0; }
        if (action === "finish") { b.disabled = corners < 3; }
      });
      el.classList.toggle("map-drawing", state !== "idle");
      if (lost) {  /* keep the keyboard focus among the tools */
        var next = Array.prototype.filter.call(buttons(), function (b) { return !b.hidden && !b.disabled; })[0];
        if (next) { next.focus(); }
      }
    }

    /* --- drawing (Geoman's draw mode) ------------------------------------------------ */
    function startDrawing() {
      map.pm.enableDraw("Polygon", {
        snappable: false,
        allowSelfIntersection: false,
        pathOptions: { className: CLASS },
        templineStyle: { className: "map-outline-draft" },
        hintlineStyle: { className: "map-outline-draft map-outline-hint", dashArray: "5 5" }
      });
    }

    var zoomOnDoubleClick = map.doubleClickZoom && map.doubleClickZoom.enabled();
    map.on("pm:drawstart", function (e) {
      /* Two quick clicks or taps are two corners, not a zoom (Leaflet counts two taps within
         200 ms anywhere on the map as a double click). */
      if (zoomOnDoubleClick) { map.doubleClickZoom.disable(); }
      state = "drawing";
      working = e.workingLayer;
      corners = 0;
      var count = function () {
        corners = working ? working.getLatLngs().length : 0;
        say(corners === 0 ? text("drawing") : corners === 1 ? text("oneCorner") : text("corners", corners));
        refresh();
      };
      working.on("pm:vertexadded pm:vertexremoved", count);
      working.on("pm:intersect", function () { say(text("crossing")); });
      say(text("drawing"));
      refresh();
    });

    map.on("pm:drawend", function () {
      if (zoomOnDoubleClick) { map.doubleClickZoom.enable(); }
      working = null;
      corners = 0;
      if (state === "drawing") { state = "idle"; }
      refresh();
    });

    map.on("pm:create", function (e) {
      /* Geoman's new layer becomes ours: one outline, styled and not interactive. */
      var latlngs = e.layer.getLatLngs();
      map.removeLayer(e.layer);
      if (shape) { map.removeLayer(shape); }
      shape = L.polygon(latlngs, { className: CLASS, interactive: false }).addTo(map);
      state = "idle";
      finishedAt = Date.now();
      write();
      say(text("drawn"));
      refresh();
    });

    function undo() {
      var draw = map.pm.Draw.Polygon;
      if (corners <= 1) {
        /* Geoman ends drawing when its last corner goes; start again, empty. */
        map.pm.disableDraw();
        startDrawing();
        return;
      }
      draw._removeLastVertex();  /* what Geoman's own "Remove last vertex" button calls */
    }

    /* --- editing (Geoman's edit mode on the outline) ---------------------------------- */
    function startEditing() {
      if (!shape) { return; }
      state = "editing";
      shape.pm.enable({ allowSelfIntersection: false, draggable: false, snappable: false });
      shape.on("pm:edit", write);
      shape.on("pm:intersect", function () { say(text("crossing")); });
      say(text("editing"));
      refresh();
    }

    function stopEditing() {
      if (shape && shape.pm.enabled()) { shape.pm.disable(); }
      if (shape) { shape.off("pm:edit", write); shape.off("pm:intersect"); }
      state = "idle";
      write();
      say(shape ? text("drawn") : "");
      refresh();
    }

    function clear() {
      if (state === "drawing") { map.pm.disableDraw(); }
      if (state === "editing") { stopEditing(); }
      show(null);
      state = "idle";
      write();
      say(text("removed"));
      refresh();
    }

    var actions = {
      draw: startDrawing,
      undo: undo,
      finish: function () { map.pm.Draw.Polygon._finishShape(); },
      cancel: function () { map.pm.disableDraw(); say(shape ? "" : text("removed")); },
      edit: startEditing,
      done: stopEditing,
      clear: clear
    };

    /* --- start ------------------------------------------------------------------------ */
    show(areaGeometry(input.value), true);
    /* Typed or pasted GeoJSON (from QGIS, geojson.io) shows on the map as soon as it is valid. */
    input.addEventListener("change", function () {
      if (state === "drawing") { map.pm.disableDraw(); }
      if (state === "editing") { stopEditing(); }
      var g = areaGeometry(input.value);
      if (g || !input.value.trim()) { show(g, !!g); }
      refresh();
    });

    if (canDraw) {
      map.pm.setLang("piazza", {
        tooltips: {
          firstVertex: escapeHTML(messages.firstVertex || ""),
          continueLine: escapeHTML(messages.continueLine || ""),
          finishPoly: escapeHTML(messages.finishPoly || "")
        }
      }, "en");
      /* Escape stops drawing, Enter closes the outline. */
      map.pm.setGlobalOptions({ exitModeOnEscape: true, finishOnEnter: true });
      Array.prototype.forEach.call(buttons(), function (b) {
        b.type = "button";
        b.addEventListener("click", function () {
          var action = b.dataset.outlineAction;
          /* The second click of a double click on "Finish" lands on the button that takes its
             place, "Remove the outline": so soon after closing the outline, it does nothing. */
          if (action === "clear" && Date.now() - finishedAt < 500) { return; }
          var act = actions[action];
          if (act) { act(); }
        });
      });
      tools.hidden = false;
      var details = d.outlineText ? document.getElementById(d.outlineText) : null;
      if (details && input.getAttribute("aria-invalid") !== "true") { details.open = false; }
      refresh();
    }

    return {
      busy: function () { return state !== "idle"; },
      geometry: geometry
    };
  };
})();
