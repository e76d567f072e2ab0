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

  // A push is a hint, never the record: after every (re)connect the page re-fetches the regions
  // the socket updates (elements with hx-trigger="resync"), so a missed push is never a missed
  // message.
  function resync() {
    if (!window.htmx) return;
    document.querySelectorAll("#conversation-list, #thread-pane[data-conversation-id]").forEach(function (el) {
      window.htmx.trigger(el, "resync");
    });
  }

  document.addEventListener("htmx:wsConnecting", function () { setConnection("connecting"); });
  document.addEventListener("htmx:wsOpen", function () { setConnection("open"); resync(); });
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

  // Appends that would duplicate a node: the reply view's bubble and the same message pushed
  // later, or a conversation row already in the list. A node that exists is replaced in place;
  // one marked data-oob-existing="move" (inbox rows) is removed so the insert puts it on top.
  document.addEventListener("htmx:oobBeforeSwap", function (event) {
    var detail = event.detail, target = detail.target, fragment = detail.fragment;
    if (!fragment || !fragment.children) return;
    Array.prototype.slice.call(fragment.children).forEach(function (node) {
      if (!node.id || node.id === target.id) return; // a plain replace-by-id swap
      var existing = document.getElementById(node.id);
      if (!existing) return;
      if (node.dataset.oobExisting === "move") {
        existing.remove();
      } else {
        existing.replaceWith(node);
        window.htmx.process(node);
      }
    });
  });

  // Socket frames carry fragments for every region that may show a conversation; drop those
  // whose target this page does not have (a thread that is not open) before htmx swaps, so
  // they are ignored quietly instead of logged as errors. Loaded on the socket element with
  // hx-ext="ws,sapa-live".
  if (window.htmx) {
    window.htmx.defineExtension("sapa-live", {
      transformResponse: function (text, xhr) {
        if (xhr) return text; // only socket frames
        var holder = document.createElement("template");
        holder.innerHTML = text;
        Array.prototype.slice.call(holder.content.children).forEach(function (node) {
          var oob = node.getAttribute("hx-swap-oob") || "true";
          var colon = oob.indexOf(":");
          var selector = colon > 0 ? oob.slice(colon + 1) : (node.id ? "#" + CSS.escape(node.id) : null);
          if (!selector) return;
          try {
            if (!document.querySelector(selector)) node.remove();
          } catch (e) { /* leave an unusual selector to htmx */ }
        });
        return holder.innerHTML;
      }
    });
  }

  // After a push: keep the open thread scrolled to the newest message, mark it read, and keep
  // the open conversation's row highlighted.
  function markActive() {
    var pane = document.getElementById("thread-pane");
    var openId = pane ? pane.dataset.conversationId : null;
    document.querySelectorAll(".conversation-item").forEach(function (item) {
      if (openId && item.dataset.conversationId === openId) item.setAttribute("aria-current", "true");
      else item.removeAttribute("aria-current");
    });
  }

  function scrollThread() {
    var pane = document.getElementById("thread-pane");
    if (!pane || !pane.dataset.conversationId) return;
    var scroller = document.getElementById("thread-" + pane.dataset.conversationId + "-scroll");
    if (scroller) scroller.scrollTop = scroller.scrollHeight;
  }

  document.addEventListener("htmx:oobAfterSwap", function (event) {
    var target = event.detail && event.detail.target;
    if (target && target.id && /^thread-\d+-messages$/.test(target.id)) {
      scrollThread();
      if (target.hasAttribute("hx-post")) window.htmx.trigger(target, "sapa:read");
    }
  });
  document.addEventListener("htmx:afterSettle", function () { markActive(); scrollThread(); });
  document.addEventListener("DOMContentLoaded", function () { markActive(); scrollThread(); });

  // The new-chat signal: the consumer replaces #live-signal; turn it into a DOM event the page
  // can build on, a title counter, and a desktop notification when the user allowed them.
  // One chat may be announced twice (its first message and its assignment): one signal per
  // conversation within a few seconds.
  var lastSignal = null, lastByConversation = {}, unseen = 0, baseTitle = document.title;
  document.addEventListener("htmx:wsAfterMessage", function () {
    var signal = document.getElementById("live-signal");
    if (!signal || !signal.dataset.seq || signal.dataset.seq === lastSignal) return;
    lastSignal = signal.dataset.seq;
    var now = Date.now(), id = signal.dataset.conversationId;
    if (lastByConversation[id] && now - lastByConversation[id] < 5000) return;
    lastByConversation[id] = now;
    document.dispatchEvent(new CustomEvent("sapa:new-chat", { detail: Object.assign({}, signal.dataset) }));
    if (document.hidden) {
      unseen += 1;
      document.title = "(" + unseen + ") " + baseTitle;
    }
    if (window.Notification && Notification.permission === "granted" && document.hidden) {
      var note = new Notification(signal.dataset.title || "Sapa", { body: signal.dataset.body || "", tag: "sapa-" + signal.dataset.conversationId });
      note.onclick = function () { window.focus(); note.close(); };
    }
  });
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) { unseen = 0; document.title = baseTitle; }
  });
  // Ask for notification permission on the first click in the workspace (browsers require a
  // user gesture).
  document.addEventListener("click", function ask() {
    document.removeEventListener("click", ask);
    if (document.getElementById("workspace-socket") && window.Notification && Notification.permission === "default") {
      Notification.requestPermission();
    }
  });

  // The sandbox compose box empties after a send.
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail.elt;
    if (form && form.matches && form.matches("form[data-reset-on-send]") && event.detail.successful) form.reset();
  });
})();
