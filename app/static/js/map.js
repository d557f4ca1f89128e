/* Piazza maps: every <div class="map" data-endpoint=...> becomes a Leaflet map with a list twin.
 *
 * No build step and no inline data: everything comes from the element's data-* attributes
 * (see templates/_macros/map.html). The map asks the server for the GeoJSON of what is inside
 * its bounding box after every move (debounced, cancelling the previous request); the server
 * sends clusters at low zoom. The list next to the map always holds the same items, so the
 * page works with a keyboard and a screen reader, and when the map tiles cannot load.
 */
(function () {
  "use strict";

  var DEBOUNCE_MS = 250;

  function parseJSON(text, fallback) {
    try {
      return text ? JSON.parse(text) : fallback;
    } catch (e) {
      return fallback;
    }
  }

  function numbers(text) {
    return (text || "").split(",").map(Number);
  }

  function format(template, n) {
    return template.replace("{n}", String(n));
  }

  function make(tag, className, text) {
    var el = document.createElement(tag);
    if (className) { el.className = className; }
    if (text !== undefined && text !== null) { el.textContent = String(text); }
    return el;
  }

  function featureKey(feature) {
    var p = feature.properties;
    if (p.cluster) {
      var c = feature.geometry.coordinates;
      return "cluster:" + p.layer + ":" + c[0] + ":" + c[1] + ":" + p.count;
    }
    return feature.id || p.layer + ":" + p.id;
  }

  function PiazzaMap(el) {
    this.el = el;
    var d = el.dataset;
    this.endpoint = d.endpoint;
    this.layerInfo = parseJSON(d.layerInfo, {});
    this.messages = parseJSON(d.messages, {});
    this.layers = (d.layers || "").split(",").filter(Boolean);
    this.filters = parseJSON(d.filters, {});
    this.syncUrl = d.syncUrl === "true";
    this.list = document.getElementById(d.list);
    this.status = document.getElementById(d.status);
    this.controls = d.controls ? document.getElementById(d.controls) : null;
    this.markers = {};
    this.request = null;
    this.timer = null;
    this.lastBody = null;
  }

  PiazzaMap.prototype.say = function (text) {
    if (this.status) { this.status.textContent = text; }
  };

  PiazzaMap.prototype.start = function () {
    var d = this.el.dataset;
    if (!window.L) {
      /* The CDN is blocked or offline: the server-rendered list is still there. */
      this.el.classList.add("map-unavailable");
      this.say(this.messages.unavailable);
      return;
    }
    var center = numbers(d.center);
    var options = {
      center: [center[0], center[1]],
      zoom: Number(d.zoom),
      minZoom: Number(d.minZoom || 0),
      zoomSnap: 1
    };
    if (d.maxBounds) {
      var b = numbers(d.maxBounds);
      options.maxBounds = L.latLngBounds([b[1], b[0]], [b[3], b[2]]);
      options.maxBoundsViscosity = 0.8;
    }
    var map = this.map = L.map(this.el, options);
    L.tileLayer(d.tileUrl, {
      attribution: d.attribution,
      maxZoom: 19,
      /* The page's own Referrer-Policy sends nothing cross-origin; tile servers (OpenStreetMap's
         usage policy) want to know which site asks, so tiles send the origin, no path. */
      referrerPolicy: "strict-origin-when-cross-origin"
    }).addTo(map);

    /* Outlines of the items that have an area (urban commons), under every marker. */
    this.outlineLayer = L.featureGroup().addTo(map);
    this.clusterLayer = L.layerGroup().addTo(map);
    /* Near-identical positions at street level (two reports of the same pothole) are grouped in
       the browser when leaflet.markercluster is there; it spiderfies them at the last zoom. */
    var clusterBelow = Number(d.clusterBelow || 15);
    this.pointLayer = (L.markerClusterGroup ? L.markerClusterGroup({
      /* Below the server's clustering zoom only the layers it never clusters (a few houses) come
         as points: group those only when they would overlap. */
      maxClusterRadius: function (zoom) { return zoom < clusterBelow ? 16 : 40; },
      disableClusteringAtZoom: 18,
      showCoverageOnHover: false,
      spiderfyOnMaxZoom: true,
      iconCreateFunction: function (group) {
        var children = group.getAllChildMarkers();
        var layer = children.length ? children[0].options.piazzaLayer : "other";
        var count = group.getChildCount();
        return L.divIcon({
          className: "map-cluster map-cluster--" + layer + " map-cluster--small",
          html: make("span", null, count),
          iconSize: [34, 34]
        });
      }
    }) : L.featureGroup()).addTo(map);

    this.loadDistricts(d.districts);
    this.bindControls();
    this.bindList();
    var self = this;
    map.on("moveend", function () { self.schedule(DEBOUNCE_MS); });
    this.schedule(0);
  };

  PiazzaMap.prototype.loadDistricts = function (url) {
    if (!url) { return; }
    var map = this.map;
    fetch(url, { headers: { Accept: "application/geo+json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data) { return; }
        /* Outlines give bearings even when no tile loads; styled in map.css (theme aware). */
        var outlines = L.geoJSON(data, {
          interactive: false,
          style: function () { return { className: "map-district" }; }
        }).addTo(map);
        outlines.bringToBack();
      })
      .catch(function () { /* the outlines are a nicety; the items still load */ });
  };

  /* --- state: layers and filters from the controls, view and all in the address bar --- */

  PiazzaMap.prototype.bindControls = function () {
    var form = this.controls;
    if (!form) { return; }
    var self = this;
    form.classList.add("map-controls-live");
    form.addEventListener("change", function () {
      self.readControls();
      self.schedule(0);
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      self.readControls();
      self.schedule(0);
    });
  };

  PiazzaMap.prototype.readControls = function () {
    var form = this.controls;
    var layers = [];
    form.querySelectorAll("input[type=checkbox][name=layers]").forEach(function (box) {
      if (box.checked) { layers.push(box.value); }
    });
    var filters = {};
    form.querySelectorAll("[data-map-filter]").forEach(function (control) {
      if (control.value) { filters[control.dataset.mapFilter] = control.value; }
    });
    this.layers = layers;
    this.filters = filters;
  };

  PiazzaMap.prototype.syncAddress = function () {
    if (!this.syncUrl || !window.history.replaceState) { return; }
    var params = new URLSearchParams(window.location.search);
    var self = this;
    var center = this.map.getCenter();
    /* Filters the controls offer are rewritten; other parameters (lang...) are kept. */
    if (this.controls) {
      this.controls.querySelectorAll("[data-map-filter]").forEach(function (control) {
        params.delete(control.dataset.mapFilter);
      });
    }
    Object.keys(this.filters).forEach(function (name) { params.set(name, self.filters[name]); });
    params.set("layers", this.layers.join(","));
    params.set("lat", center.lat.toFixed(5));
    params.set("lon", center.lng.toFixed(5));
    params.set("z", String(this.map.getZoom()));
    window.history.replaceState(null, "", window.location.pathname + "?" + params.toString());
    if (this.controls) {  /* "Apply" without JavaScript keeps the current view too */
      ["lat", "lon", "z"].forEach(function (name) {
        var input = self.controls.querySelector("input[type=hidden][name=" + name + "]");
        if (input) { input.value = params.get(name); }
      });
    }
  };

  /* --- fetching --- */

  PiazzaMap.prototype.schedule = function (delay) {
    var self = this;
    window.clearTimeout(this.timer);
    this.timer = window.setTimeout(function () { self.refresh(); }, delay);
  };

  PiazzaMap.prototype.bboxParam = function () {
    var b = this.map.getBounds();
    /* Rounded outwards to ~10 m, so that nearly identical views share HTTP cache entries. */
    function down(v) { return (Math.floor(v * 1e4) / 1e4).toFixed(4); }
    function up(v) { return (Math.ceil(v * 1e4) / 1e4).toFixed(4); }
    return [
      down(Math.max(b.getWest(), -180)), down(Math.max(b.getSouth(), -90)),
      up(Math.min(b.getEast(), 180)), up(Math.min(b.getNorth(), 90))
    ].join(",");
  };

  PiazzaMap.prototype.refresh = function () {
    var self = this;
    this.syncAddress();
    if (this.request) { this.request.abort(); }
    if (!this.layers.length) {
      this.request = null;
      this.lastBody = null;
      this.render({ features: [], meta: { counts: {}, truncated: false } });
      this.say(this.messages.noLayers);
      return;
    }
    var params = new URLSearchParams();
    params.set("bbox", this.bboxParam());
    params.set("zoom", String(this.map.getZoom()));
    params.set("layers", this.layers.join(","));
    Object.keys(this.filters).forEach(function (name) { params.set(name, self.filters[name]); });
    var controller = this.request = new AbortController();
    this.list.setAttribute("aria-busy", "true");
    fetch(this.endpoint + "?" + params.toString(), {
      signal: controller.signal,
      headers: { Accept: "application/geo+json" }
    }).then(function (response) {
      return response.text().then(function (body) {
        if (!response.ok) {
          var problem = parseJSON(body, {});
          throw new Error((problem.error && problem.error.message) || self.messages.error);
        }
        return body;
      });
    }).then(function (body) {
      if (controller !== self.request) { return; }
      self.request = null;
      self.list.removeAttribute("aria-busy");
      /* Same answer as last time (a small pan, a 304): keep markers, open popups and focus. */
      if (body === self.lastBody) { return; }
      self.lastBody = body;
      var collection = parseJSON(body, null);
      self.render(collection);
      self.announce(collection);
    }).catch(function (error) {
      if (error.name === "AbortError") { return; }
      if (controller === self.request) { self.request = null; }
      self.list.removeAttribute("aria-busy");
      self.lastBody = null;
      self.say(error.message && error.message !== "Failed to fetch" ? error.message : self.messages.error);
    });
  };

  PiazzaMap.prototype.announce = function (collection) {
    var counts = collection.meta.counts || {};
    var total = Object.keys(counts).reduce(function (sum, k) { return sum + counts[k]; }, 0);
    var text = total === 0 ? this.messages.empty
      : total === 1 ? this.messages.one : format(this.messages.many, total);
    if (collection.meta.truncated) { text += " " + this.messages.truncated; }
    this.say(text);
  };

  /* --- drawing: markers and list from the same features --- */

  PiazzaMap.prototype.render = function (collection) {
    var next = {};
    var added = { points: [], clusters: [] };
    var self = this;
    collection.features.forEach(function (feature) {
      var key = featureKey(feature);
      var marker = self.markers[key];
      if (!marker) {
        marker = feature.properties.cluster ? self.clusterMarker(feature) : self.pointMarker(feature);
        added[feature.properties.cluster ? "clusters" : "points"].push(marker);
      }
      next[key] = marker;
    });
    var gone = { points: [], clusters: [] };
    Object.keys(this.markers).forEach(function (key) {
      if (!next[key]) {
        var marker = self.markers[key];
        gone[marker.options.piazzaCluster ? "clusters" : "points"].push(marker);
      }
    });
    gone.points.forEach(function (m) {
      if (m.options.piazzaOutline) { self.outlineLayer.removeLayer(m.options.piazzaOutline); }
    });
    added.points.forEach(function (m) {
      if (m.options.piazzaOutline) { self.outlineLayer.addLayer(m.options.piazzaOutline); }
    });
    gone.clusters.forEach(function (m) { self.clusterLayer.removeLayer(m); });
    added.clusters.forEach(function (m) { self.clusterLayer.addLayer(m); });
    if (this.pointLayer.removeLayers) {  /* markercluster: batch operations are much faster */
      this.pointLayer.removeLayers(gone.points);
      this.pointLayer.addLayers(added.points);
    } else {
      gone.points.forEach(function (m) { self.pointLayer.removeLayer(m); });
      added.points.forEach(function (m) { self.pointLayer.addLayer(m); });
    }
    this.markers = next;
    this.renderList(collection.features);
  };

  PiazzaMap.prototype.layerText = function (layer, field) {
    var info = this.layerInfo[layer];
    return (info && info[field]) || layer;
  };

  PiazzaMap.prototype.pointMarker = function (feature) {
    var p = feature.properties;
    var c = feature.geometry.coordinates;
    var marker = L.marker([c[1], c[0]], {
      icon: L.divIcon({
        className: "map-pin map-pin--" + p.layer,
        html: "",
        iconSize: [26, 26],
        iconAnchor: [13, 26],
        popupAnchor: [0, -24]
      }),
      title: p.title,
      /* Keyboard users reach every item through the list twin: a tab stop per marker (up to
         thousands) would bury the list behind the map. */
      keyboard: false,
      riseOnHover: true,
      piazzaLayer: p.layer,
      piazzaOutline: this.outline(feature)
    });
    var self = this;
    /* A function, not an element: the marker and its outline each build their own copy. */
    var popup = function () { return self.popupContent(p); };
    marker.bindPopup(popup);
    if (marker.options.piazzaOutline) { marker.options.piazzaOutline.bindPopup(popup); }
    return marker;
  };

  /* The area of an item that has one (properties.outline, a GeoJSON Polygon or MultiPolygon),
     drawn under its marker; the marker stays the thing to click, tap or reach from the list. */
  PiazzaMap.prototype.outline = function (feature) {
    var p = feature.properties;
    var geometry = p.outline;
    if (!geometry || (geometry.type !== "Polygon" && geometry.type !== "MultiPolygon")) { return null; }
    try {
      return L.geoJSON(geometry, {
        style: function () { return { className: "map-outline map-outline--" + p.layer }; }
      });
    } catch (e) {
      return null;  /* a malformed outline: the marker alone */
    }
  };

  PiazzaMap.prototype.popupContent = function (p) {
    var popup = make("div", "map-popup");
    popup.appendChild(make("span", "map-item-layer", this.layerText(p.layer, "item_label")));
    var title;
    if (p.url) {
      title = make("a", "map-popup-title", p.title);
      title.href = p.url;
    } else {
      title = make("strong", "map-popup-title", p.title);
    }
    popup.appendChild(title);
    if (p.summary) { popup.appendChild(make("span", "map-item-summary", p.summary)); }
    return popup;
  };

  PiazzaMap.prototype.clusterMarker = function (feature) {
    var p = feature.properties;
    var c = feature.geometry.coordinates;
    var size = p.count < 10 ? "small" : p.count < 100 ? "medium" : "large";
    var px = { small: 34, medium: 42, large: 50 }[size];
    var label = make("span", null, p.count);
    var marker = L.marker([c[1], c[0]], {
      icon: L.divIcon({
        className: "map-cluster map-cluster--" + p.layer + " map-cluster--" + size,
        html: label,
        iconSize: [px, px]
      }),
      title: format(this.messages.cluster, p.count),
      keyboard: false,
      piazzaCluster: true
    });
    var self = this;
    marker.on("click", function () { self.zoomInto(feature); });
    return marker;
  };

  PiazzaMap.prototype.zoomInto = function (feature) {
    var map = this.map;
    var c = feature.geometry.coordinates;
    var target = map.getZoom() + 2;
    var center = L.latLng(c[1], c[0]);
    if (feature.bbox) {
      var bounds = L.latLngBounds([feature.bbox[1], feature.bbox[0]], [feature.bbox[3], feature.bbox[2]]);
      /* At least one level closer, even when the items sit on one spot. */
      target = Math.max(map.getBoundsZoom(bounds.pad(0.2)), map.getZoom() + 1);
      center = bounds.getCenter();
    }
    map.setView(center, Math.min(target, map.getMaxZoom()));
  };

  PiazzaMap.prototype.renderList = function (features) {
    var list = this.list;
    /* Re-rendering would drop the keyboard focus; put it back on the same item's button. */
    var active = document.activeElement;
    var focusKey = null;
    if (active && list.contains(active) && active.dataset.key) { focusKey = active.dataset.key; }
    var items = document.createDocumentFragment();
    var self = this;
    features.forEach(function (feature) {
      items.appendChild(self.listItem(feature));
    });
    list.textContent = "";
    list.appendChild(items);
    if (focusKey) {
      var again = list.querySelector('button[data-key="' + focusKey.replace(/["\\]/g, "\\$&") + '"]');
      (again || list).focus();
    }
  };

  PiazzaMap.prototype.listItem = function (feature) {
    var p = feature.properties;
    var key = featureKey(feature);
    var li = make("li", "map-item map-item--" + p.layer + (p.cluster ? " map-item-cluster" : ""));
    li.dataset.key = key;
    var button = make("button", "link-button map-item-action");
    button.type = "button";
    button.dataset.key = key;
    if (p.cluster) {
      li.appendChild(make("span", "map-item-layer", this.layerText(p.layer, "label")));
      li.appendChild(make("span", "map-item-title", format(this.messages.cluster, p.count)));
      button.textContent = this.messages.zoomIn;
    } else {
      li.appendChild(make("span", "map-item-layer", this.layerText(p.layer, "item_label")));
      var title;
      if (p.url) {
        title = make("a", "map-item-title", p.title);
        title.href = p.url;
      } else {
        title = make("span", "map-item-title", p.title);
      }
      li.appendChild(title);
      if (p.summary) { li.appendChild(make("span", "map-item-summary", p.summary)); }
      button.textContent = this.messages.show;
      /* Two "Show on map" buttons in a row must say which item they are about. */
      var name = make("span", "visually-hidden", ": " + p.title);
      button.appendChild(name);
    }
    li.appendChild(button);
    return li;
  };

  PiazzaMap.prototype.bindList = function () {
    var self = this;
    /* One listener for every item, present and future. */
    this.list.addEventListener("click", function (event) {
      var button = event.target.closest("button[data-key]");
      if (!button) { return; }
      var marker = self.markers[button.dataset.key];
      if (!marker) { return; }
      if (marker.options.piazzaCluster) {
        var feature = self.featureFor(button.dataset.key);
        if (feature) { self.zoomInto(feature); }
        return;
      }
      self.show(marker);
    });
  };

  PiazzaMap.prototype.featureFor = function (key) {
    /* The last answer holds the cluster's bbox; the marker does not. */
    var collection = parseJSON(this.lastBody, { features: [] });
    for (var i = 0; i < collection.features.length; i++) {
      if (featureKey(collection.features[i]) === key) { return collection.features[i]; }
    }
    return null;
  };

  PiazzaMap.prototype.show = function (marker) {
    if (this.pointLayer.zoomToShowLayer && this.pointLayer.hasLayer(marker)) {
      /* It may be inside a browser-side group: that opens the group first. */
      this.pointLayer.zoomToShowLayer(marker, function () { marker.openPopup(); });
      return;
    }
    marker.openPopup();  /* the popup pans the map into view itself */
  };

  function start() {
    document.querySelectorAll(".map[data-endpoint]").forEach(function (el) {
      new PiazzaMap(el).start();
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
