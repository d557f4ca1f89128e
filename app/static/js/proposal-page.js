/* A proposal's page: the "copy the link" button (shown only when the clipboard can be used). */
(function () {
  "use strict";
  Array.prototype.forEach.call(document.querySelectorAll("[data-copy]"), function (button) {
    var input = document.getElementById(button.dataset.copy);
    var status = document.getElementById("share-status");
    if (!input || !navigator.clipboard) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(input.value).then(function () {
        if (status) { status.textContent = button.dataset.copied || ""; }
      }, function () { input.select(); });
    });
  });
})();
