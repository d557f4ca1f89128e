/* The assisted-session banner counts down to the session's end (the server decides; this only tells). */
(function () {
  "use strict";
  var banner = document.getElementById("assisted-banner");
  if (!banner) { return; }
  var left = banner.querySelector("[data-minutes-left]");
  var endsAt = Date.parse(banner.getAttribute("data-ends-at"));
  if (!left || isNaN(endsAt)) { return; }
  var one = left.getAttribute("data-one"), many = left.getAttribute("data-many"), over = left.getAttribute("data-over");
  function update() {
    var minutes = Math.ceil((endsAt - Date.now()) / 60000);
    if (minutes <= 0) {
      left.textContent = "(" + over + ")";
      banner.classList.add("banner-assisted-over");
      return;
    }
    left.textContent = "(" + (minutes === 1 ? one : many.replace("{n}", String(minutes))) + ")";
    window.setTimeout(update, 15000);
  }
  update();
})();
