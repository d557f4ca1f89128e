/* Comment threads: opening "Reply", "Edit" or "Flag" moves the focus into the form, with the caret
   after any text already there ("@Name " of the person answered, or the comment being edited).
   Everything works without this file; it only saves a click. */
(function () {
  "use strict";
  document.querySelectorAll("details[data-comment-form]").forEach(function (box) {
    box.addEventListener("toggle", function () {
      if (!box.open) { return; }
      var input = box.querySelector("textarea, input[type=radio]");
      if (!input) { return; }
      input.focus();
      if (input.tagName === "TEXTAREA") {
        var end = input.value.length;
        input.setSelectionRange(end, end);
      }
    });
  });
}());
