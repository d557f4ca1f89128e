// Kiosk mode (a shared computer at a Casa del Quartiere): sign the person out after the idle time.
//
// The server ends a kiosk session after the idle time without requests (app/http.py); this page
// does the same after the idle time without input, so that the next person never finds the
// previous one signed in. A warning with a button comes first. While someone types a long text
// (input, no requests), a light request now and then keeps the server's clock in step with ours.
// The sign-out is the ordinary logout form, posted with this page's CSRF token.
(function () {
  "use strict";

  var bar = document.getElementById("kiosk-bar");
  var form = document.getElementById("kiosk-idle-logout");
  if (!bar || !form || bar.dataset.signedIn !== "true") {
    return; // nobody is signed in: nothing to end
  }
  var idleMs = parseFloat(bar.dataset.idleSeconds) * 1000;
  var warnMs = parseFloat(bar.dataset.warnSeconds) * 1000;
  var aliveUrl = bar.dataset.aliveUrl;
  if (!(idleMs > 0)) {
    return;
  }
  var warning = document.getElementById("kiosk-warning");
  var text = document.getElementById("kiosk-warning-text");
  var stay = document.getElementById("kiosk-stay");

  var lastInput = Date.now();
  var lastServer = lastInput; // this page's own request
  var done = false;

  function showWarning(msLeft) {
    if (!warning) {
      return;
    }
    var seconds = Math.max(0, Math.ceil(msLeft / 1000));
    var template = seconds === 1 ? text.dataset.one : text.dataset.other;
    text.textContent = template.replace("{n}", String(seconds));
    if (warning.hidden) {
      warning.hidden = false;
      stay.focus({ preventScroll: true });
    }
  }

  function hideWarning() {
    if (warning && !warning.hidden) {
      warning.hidden = true;
    }
  }

  function keepAlive(now) {
    // Only after real input since the last request, at most every half idle time: the server
    // allows for that lag, so it never ends the session before this page would.
    if (lastInput > lastServer && now - lastServer >= idleMs / 2 && aliveUrl) {
      lastServer = now;
      fetch(aliveUrl, { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } })
        .catch(function () { /* offline: the server's own clock still ends the session */ });
    }
  }

  function signOut() {
    done = true;
    form.submit();
  }

  function tick() {
    if (done) {
      return;
    }
    var now = Date.now();
    var idleFor = now - lastInput;
    if (idleFor >= idleMs) {
      signOut();
      return;
    }
    if (idleFor >= idleMs - warnMs) {
      showWarning(idleMs - idleFor);
    } else {
      hideWarning();
    }
    keepAlive(now);
  }

  function activity() {
    if (done) {
      return;
    }
    lastInput = Date.now();
    hideWarning();
  }

  ["pointerdown", "keydown", "input", "wheel", "touchstart", "scroll"].forEach(function (name) {
    window.addEventListener(name, activity, { passive: true, capture: true });
  });
  if (stay) {
    stay.addEventListener("click", activity);
  }
  // A short tick, from the clock rather than counted: a sleeping computer wakes up on time.
  window.setInterval(tick, Math.min(1000, Math.max(200, idleMs / 20)));
})();
