// Conversation actions: the transfer and new-chat dialogs, the "More" menu of the thread header,
// the label filter on pushed rows, and the notice a finished action leaves. Loaded after sapa.js.
(function () {
  "use strict";

  // Dialogs arrive in #dialog-slot (htmx) or with the page (no-JS render, shown `open`): make
  // them modal so focus stays inside and Escape closes them.
  function openDialogs(root) {
    if (!root || !root.querySelectorAll) return;
    var found = root.matches && root.matches("dialog[data-autoopen]") ? [root] : [];
    found = found.concat(Array.prototype.slice.call(root.querySelectorAll("dialog[data-autoopen]")));
    found.forEach(function (dialog) {
      if (!dialog.isConnected || typeof dialog.showModal !== "function") return;
      if (dialog.open) dialog.close();
      dialog.removeAttribute("data-autoopen");
      dialog.showModal();
      var field = dialog.querySelector("[aria-invalid='true'], input:checked, input, textarea");
      if (field) field.focus();
    });
  }
  document.addEventListener("htmx:load", function (event) { openDialogs(event.target); });
  document.addEventListener("DOMContentLoaded", function () { openDialogs(document.body); });

  // A closed dialog leaves the page (the next one comes fresh from the server).
  document.addEventListener("close", function (event) {
    var dialog = event.target;
    if (dialog.matches && dialog.matches(".action-dialog")) dialog.remove();
  }, true);

  document.addEventListener("click", function (event) {
    var closer = event.target.closest ? event.target.closest("[data-dialog-close]") : null;
    var dialog = closer ? closer.closest("dialog") : null;
    if (dialog && dialog.open) {
      event.preventDefault();
      dialog.close();
      return;
    }
    // A click on the backdrop (outside the dialog's box) closes it.
    if (event.target.matches && event.target.matches("dialog.action-dialog[open]")) {
      var box = event.target.getBoundingClientRect();
      var inside = event.clientX >= box.left && event.clientX <= box.right &&
        event.clientY >= box.top && event.clientY <= box.bottom;
      if (!inside) event.target.close();
    }
  });

  // A request of a dialog that failed (the chat moved meanwhile: 404) closes that dialog, so the
  // workspace's message about it is seen. Other requests failing in the background (a list
  // resync) leave an open dialog and what the agent typed in it alone.
  document.addEventListener("htmx:responseError", function (event) {
    var elt = event.detail && event.detail.elt;
    var dialog = elt && elt.closest ? elt.closest("dialog.action-dialog[open]") : null;
    if (dialog) dialog.close();
  });

  // The "More" menu closes on a click elsewhere, on Escape, and once an item is chosen.
  document.addEventListener("click", function (event) {
    document.querySelectorAll("details.actions-more[open]").forEach(function (menu) {
      var item = event.target.closest ? event.target.closest(".actions-menu-item") : null;
      if (!menu.contains(event.target) || (item && menu.contains(item))) menu.removeAttribute("open");
    });
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    document.querySelectorAll("details.actions-more[open], details.labels-edit[open]").forEach(function (menu) {
      menu.removeAttribute("open");
      var summary = menu.querySelector("summary");
      if (summary) summary.focus();
    });
  });

  // A push may replace the thread pane while an action's answer is on its way (a transfer's
  // own "no longer yours" push often wins): htmx would swap the answer into the detached old
  // pane. Put it in the pane that is on the page now. (beforeOnLoad fires on the requesting
  // element, still on the page for the dialogs' forms; htmx reads the target after it.)
  document.addEventListener("htmx:beforeOnLoad", function (event) {
    var target = event.detail.target;
    if (target && !target.isConnected && target.id === "thread-pane") {
      var current = document.getElementById("thread-pane");
      if (current) event.detail.target = current;
    }
  });

  // With a label filter on, a pushed row belongs in the list only if it carries the label; a
  // listed row that lost it leaves (sapa.js has already taken the old node out to move it).
  document.addEventListener("htmx:oobBeforeSwap", function (event) {
    var detail = event.detail, target = detail.target, fragment = detail.fragment;
    if (!target || target.id !== "conversation-list" || !target.dataset.label || !fragment || !fragment.children) return;
    var wanted = " " + target.dataset.label + " ";
    Array.prototype.slice.call(fragment.children).forEach(function (node) {
      if (!node.id || !node.dataset) return;
      if ((node.dataset.labelIds || " ").indexOf(wanted) < 0) {
        var existing = document.getElementById(node.id);
        if (existing) existing.remove();
        node.remove();
      }
    });
    if (!fragment.children.length) event.preventDefault();
  });
})();
