// Sapa page behaviour. Kept out of the HTML: the Content-Security-Policy allows no inline script.
(function () {
  "use strict";

  // Selects marked data-autosubmit (the language switch) submit their form on change.
  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el.matches && el.matches("select[data-autosubmit]")) el.form.submit();
  });

  // The live-connection indicator follows the htmx ws extension's socket events.
  var CLOSE_SESSION_ENDED = 4401, CLOSE_NOT_ALLOWED = 4403;

  function setConnection(state) {
    var badge = document.getElementById("connection-status");
    if (!badge) return;
    badge.dataset.state = state;
    var label = badge.querySelector(".label");
    if (label) label.textContent = badge.dataset["label" + state.charAt(0).toUpperCase() + state.slice(1)] || state;
  }

  document.addEventListener("htmx:wsConnecting", function () { setConnection("connecting"); });
  document.addEventListener("htmx:wsOpen", function () { setConnection("open"); });
  document.addEventListener("htmx:wsClose", function (event) {
    var code = event.detail && event.detail.event ? event.detail.event.code : 0;
    if (code === CLOSE_SESSION_ENDED || code === CLOSE_NOT_ALLOWED) {
      setConnection("ended");
      var socketElt = document.getElementById("workspace-socket");
      var loginUrl = socketElt ? socketElt.dataset.loginUrl : "/login";
      window.setTimeout(function () { window.location.assign(loginUrl); }, 1500);
      return;
    }
    setConnection("closed");
  });
})();
