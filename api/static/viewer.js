// The viewer (GET /view/{doc_id}): bring the quoted sentence into view and give it focus, so a
// keyboard or screen-reader user lands on it too.
(function () {
  "use strict";
  function show() {
    var quote = document.getElementById("quote");
    if (!quote) return;
    quote.scrollIntoView({ block: "center" });
    quote.focus({ preventScroll: true });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", show);
  else show();
})();
