// A form whose data-confirm says what it does asks before it is sent (a step that
// cannot be undone, such as cancelling an import). No inline script: the CSP.
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form && form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  }, true);
})();
