// The device console (admin device page): the staff socket swaps the device's status line in by
// id; this tells the connection card and the QR panel to re-read themselves when the push was
// about this device. No inline script under the CSP.
(function () {
  // A push is a hint: after the socket reconnects, re-read the card (a change may have been
  // missed while it was down).
  var opened = false;
  document.addEventListener("htmx:wsOpen", function () {
    if (opened && document.querySelector(".device-console[data-device-id]")) {
      htmx.trigger(document.body, "sapa:device-changed");
    }
    opened = true;
  });
  document.addEventListener("htmx:wsAfterMessage", function (event) {
    var console_ = document.querySelector(".device-console[data-device-id]");
    if (!console_) return;
    var marker = 'id="device-' + console_.dataset.deviceId + '-status"';
    if (String(event.detail.message || "").indexOf(marker) === -1) return;
    htmx.trigger(document.body, "sapa:device-changed");
  });
})();
