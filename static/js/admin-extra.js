// Copy buttons on admin pages (the token shown once). No inline script under the CSP.
document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-copy-target]");
  if (!button) return;
  var input = document.getElementById(button.dataset.copyTarget);
  input.select();
  navigator.clipboard.writeText(input.value).then(function () {
    button.textContent = button.dataset.copiedLabel;
  });
});
