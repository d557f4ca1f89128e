/* Writing a proposal: similar proposals under the title while typing, a point on a Leaflet map
   (filling the hidden lat/lon inputs), and category/district lists narrowed to the chosen process.
   Everything comes from data-* attributes; without JavaScript the form works alone. */
(function () {
  "use strict";
  var conf = document.getElementById("proposal-form-data");
  if (!conf) { return; }
  var c = conf.dataset;
  var picker = JSON.parse(c.picker || "{}");
  var byId = function (id) { return id ? document.getElementById(id) : null; };
  var title = byId(c.titleInput), processInput = byId(c.processInput);
  var category = byId(c.categoryInput), district = byId(c.districtInput);

  function currentProcess() {
    var keys = Object.keys(picker);
    var id = processInput ? processInput.value : keys[0];
    return picker[id] || null;
  }

  /* --- lists narrowed to the process -------------------------------------------------- */
  function narrow() {
    var p = currentProcess();
    if (!p) { return; }
    Array.prototype.forEach.call(category ? category.options : [], function (opt) {
      var allowed = opt.value === "0" || !p.categories.length || p.categories.indexOf(Number(opt.value)) >= 0;
      opt.hidden = opt.disabled = !allowed;
      if (!allowed && opt.selected) { category.value = "0"; }
    });
    Array.prototype.forEach.call(district ? district.options : [], function (opt) {
      var allowed = p.district === null || Number(opt.value) === p.district;
      opt.hidden = opt.disabled = !allowed;
      if (!allowed && opt.selected) { district.value = String(p.district); }
    });
    if (p.district !== null && district) { district.value = String(p.district); }
  }
  if (processInput) { processInput.addEventListener("change", narrow); }
  narrow();

  /* --- similar proposals --------------------------------------------------------------- */
  var box = document.getElementById("similar-proposals");
  var timer = null, pending = null;
  function lookSimilar() {
    if (!box || !title) { return; }
    var q = title.value.trim();
    if (q.length < 4) { box.hidden = true; return; }
    // Every process, not only the chosen one: an idea already carried out in an earlier round is
    // worth knowing about before proposing it again.
    var url = c.similarUrl + "?q=" + encodeURIComponent(q) + (c.exclude ? "&exclude=" + encodeURIComponent(c.exclude) : "");
    if (pending) { pending.abort(); }
    pending = new AbortController();
    fetch(url, { signal: pending.signal, headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : { proposals: [] }; })
      .then(function (data) { showSimilar(data.proposals || []); })
      .catch(function (err) { if (err.name !== "AbortError") { showSimilar([]); } });
  }
  function showSimilar(items) {
    var list = box.querySelector("ul");
    list.textContent = "";
    items.forEach(function (item) {
      var li = document.createElement("li");
      var a = document.createElement("a");
      a.href = item.url;
      a.target = "_blank";
      a.rel = "noopener";
      a.textContent = item.title;
      var meta = document.createElement("span");
      meta.className = "muted";
      meta.textContent = " — " + item.status_label + " · " + item.process;
      li.appendChild(a);
      li.appendChild(meta);
      list.appendChild(li);
    });
    box.hidden = items.length === 0;
  }
  if (title) {
    title.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(lookSimilar, 400);
    });
    if (title.value) { lookSimilar(); }
  }

  /* --- the point on the map (point-picker.js) ------------------------------------------- */
  var el = document.getElementById("proposal-picker");
  if (!el || typeof L === "undefined" || !window.PiazzaPointPicker) { return; }
  window.PiazzaPointPicker(el, { panZoom: 16, clearButton: byId("clear-point") });
})();
