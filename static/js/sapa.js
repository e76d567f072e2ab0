// Sapa page behaviour. Kept out of the HTML: the Content-Security-Policy allows no inline script.
(function () {
  "use strict";

  // The CSP forbids style attributes: htmx must not copy one from an old node while it settles.
  if (window.htmx) window.htmx.config.attributesToSettle = ["class", "width", "height"];

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
    document.querySelectorAll("#conversation-list, #thread-pane[data-conversation-id], #device-banners").forEach(function (el) {
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

  function threadScroller() {
    var pane = document.getElementById("thread-pane");
    if (!pane || !pane.dataset.conversationId) return null;
    return document.getElementById("thread-" + pane.dataset.conversationId + "-scroll");
  }

  // Whether the agent is reading the newest messages (then new ones keep the view at the end;
  // someone scrolled up to read history is left where they are).
  var stickToEnd = true;
  document.addEventListener("scroll", function (event) {
    var scroller = threadScroller();
    if (!scroller || event.target !== scroller) return;
    stickToEnd = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 80;
    // Near the top: load the previous page of history.
    if (scroller.scrollTop < 120) {
      var older = scroller.querySelector(".thread-older:not(.htmx-request)");
      if (older) window.htmx.trigger(older, "sapa:older");
    }
  }, true);

  // A message appended live on a new day (the page stayed open past midnight) gets its day
  // separator, like the server renders one between days.
  function separateNewDay(list) {
    var messages = list.querySelectorAll(":scope > article.message");
    if (messages.length < 2) return;
    var last = messages[messages.length - 1], before = messages[messages.length - 2];
    if (!last.dataset.day || last.dataset.day === before.dataset.day) return;
    var separator = document.createElement("p"), label = document.createElement("span");
    separator.className = "day-separator";
    label.textContent = list.dataset.labelToday || "";
    separator.appendChild(label);
    list.insertBefore(separator, last);
  }

  document.addEventListener("htmx:oobAfterSwap", function (event) {
    var target = event.detail && event.detail.target;
    if (target && target.id && /^thread-\d+-messages$/.test(target.id)) {
      separateNewDay(target);
      if (stickToEnd) scrollThread();
      if (target.hasAttribute("hx-post")) window.htmx.trigger(target, "sapa:read");
    }
  });
  // Older history goes in above what the agent is reading: keep their place.
  var olderAnchor = null;
  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt;
    if (elt && elt.classList && elt.classList.contains("thread-older")) {
      var scroller = threadScroller();
      if (scroller) olderAnchor = { scroller: scroller, fromEnd: scroller.scrollHeight - scroller.scrollTop };
    }
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    markActive();
    var target = event.detail && event.detail.target;
    if (olderAnchor && olderAnchor.scroller.isConnected && target && !target.isConnected) {
      // The loader replaced itself with the older page. Each page starts with its day's
      // separator: drop the one that now sits inside a day.
      var lastDay = null;
      olderAnchor.scroller.querySelectorAll(".day-separator, article.message").forEach(function (node) {
        if (node.classList.contains("day-separator")) {
          if (node.dataset.day && node.dataset.day === lastDay) node.remove();
        } else {
          lastDay = node.dataset.day || lastDay;
        }
      });
      olderAnchor.scroller.scrollTop = olderAnchor.scroller.scrollHeight - olderAnchor.fromEnd;
      olderAnchor = null;
      return;
    }
    if (target && target.id === "thread-pane") { stickToEnd = true; scrollThread(); }
  });
  document.addEventListener("DOMContentLoaded", function () { markActive(); scrollThread(); });

  // Notifications (sound, desktop notification, tab-title count) live in static/js/notify.js.

  // Error answers that carry a fragment to show: a refused reply (422) says why under the box;
  // a refused take / resolve / reopen (409) shows the pane as it is now, with the reason.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var status = event.detail.xhr ? event.detail.xhr.status : 0;
    if (status === 409 || status === 422) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  // Rows pushed into the inbox list belong there only if they fit the tab shown (Mine: open,
  // Queue: queued, Resolved: resolved) and, while searching (every tab at once), only if
  // already listed. A row that no longer fits (a queued chat a colleague took) leaves the list.
  // Registered for the capture phase so it runs before the handler above moves listed rows.
  var TAB_STATUS = { mine: "open", queue: "queued", resolved: "resolved" };
  document.addEventListener("htmx:oobBeforeSwap", function (event) {
    var detail = event.detail, target = detail.target, fragment = detail.fragment;
    if (!target || target.id !== "conversation-list" || !fragment || !fragment.children) return;
    var wanted = TAB_STATUS[target.dataset.tab || "mine"], searching = !!target.dataset.query;
    Array.prototype.slice.call(fragment.children).forEach(function (node) {
      if (!node.id || !node.dataset) return;
      var existing = document.getElementById(node.id);
      if (searching) {
        if (!existing) node.remove();
      } else if (node.dataset.status !== wanted) {
        if (existing) existing.remove();
        node.remove();
      }
    });
    if (!fragment.children.length) event.preventDefault();
  }, true);

  // A click on something that is gone (a queued chat a colleague took a moment ago answers 404)
  // or a request that failed: say so briefly and bring the list up to date.
  var toastTimer = null;
  function toast(kind, text) {
    var box = document.getElementById("workspace-toast");
    if (!box) return;
    box.textContent = text || box.dataset["label" + kind.charAt(0).toUpperCase() + kind.slice(1)] || "";
    box.hidden = false;
    window.clearTimeout(toastTimer);
    toastTimer = window.setTimeout(function () { box.hidden = true; }, 6000);
  }
  // What an action did (a transfer, a hand back: the thread pane may be hidden on a phone),
  // said in the same toast, with the server's own words.
  document.addEventListener("sapa:notice", function (event) {
    var text = event.detail && event.detail.text;
    if (text) toast("notice", text);
  });
  document.addEventListener("htmx:responseError", function (event) {
    var status = event.detail.xhr ? event.detail.xhr.status : 0;
    toast(status === 404 ? "gone" : "failed");
    var list = document.getElementById("conversation-list");
    if (status === 404 && list && window.htmx) window.htmx.trigger(list, "resync");
  });
  document.addEventListener("htmx:sendError", function () { toast("failed"); });

  // A take / resolve / reopen answered: the list follows at once, even with the socket down.
  document.addEventListener("sapa:list-changed", function () {
    var list = document.getElementById("conversation-list");
    if (list && window.htmx) window.htmx.trigger(list, "resync");
  });

  // The reply box (and the note-only box of a queued or resolved chat): Enter sends,
  // Shift+Enter adds a line; it grows with its text; after a send it empties and keeps the focus.
  var TYPING_BOXES = "textarea[data-enter-sends], textarea[data-note-box]";
  // Grown through `rows`, not an inline style: the CSP forbids style attributes, and htmx
  // copies them when it settles a swapped node.
  function growComposer(box) {
    var rows = 1;
    box.rows = rows;
    while (box.scrollHeight > box.clientHeight && rows < 8) {
      rows += 1;
      box.rows = rows;
    }
  }
  document.addEventListener("keydown", function (event) {
    var box = event.target;
    if (!box.matches || !box.matches(TYPING_BOXES)) return;
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing && !event.altKey && !event.ctrlKey && !event.metaKey) {
      event.preventDefault();
      if (box.value.trim() && box.form) box.form.requestSubmit();
    }
  });
  document.addEventListener("input", function (event) {
    if (event.target.matches && event.target.matches(TYPING_BOXES)) growComposer(event.target);
  });
  document.addEventListener("sapa:sent", function (event) {
    var form = event.target && event.target.closest ? event.target.closest("form[data-composer]") : null;
    if (!form) return;
    form.reset();
    var box = form.querySelector("textarea");
    if (box) { growComposer(box); box.focus(); }
    stickToEnd = true;
    scrollThread();
  });
  // No double send while a reply (from the box or one of its panels: poll, location) is on
  // its way.
  var SENDING_FORMS = "form[data-composer], form[data-composer-tool]";
  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = event.detail.elt;
    if (form && form.matches && form.matches(SENDING_FORMS)) {
      if (form.dataset.sending === "1") { event.preventDefault(); return; }
      form.dataset.sending = "1";
    }
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail.elt;
    if (form && form.matches && form.matches(SENDING_FORMS)) delete form.dataset.sending;
  });

  // The details side panel on narrower screens.
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest(".thread-details-toggle") : null;
    if (!button) return;
    var pane = document.getElementById("thread-pane");
    if (!pane) return;
    var open = pane.classList.toggle("show-details");
    button.setAttribute("aria-expanded", open ? "true" : "false");
  });

  // Keyboard: "/" searches, ↑/↓ (or k/j) move through the list, Enter opens (a link), "r"
  // goes to the reply box, Escape leaves the search box for the list.
  function conversationLinks() {
    return Array.prototype.slice.call(document.querySelectorAll("#conversation-list .conversation-link"));
  }
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || !document.getElementById("conversation-list")) return;
    var el = event.target, typing = el.matches && el.matches("input, textarea, select, [contenteditable]");
    if (typing) {
      if (event.key === "Escape" && el.id === "inbox-search") {
        var first = conversationLinks()[0];
        if (first) { event.preventDefault(); first.focus(); }
      } else if (event.key === "Escape" && el.matches("textarea[data-enter-sends]")) {
        el.blur();
      } else if (event.key === "ArrowDown" && el.id === "inbox-search") {
        var top = conversationLinks()[0];
        if (top) { event.preventDefault(); top.focus(); }
      }
      return;
    }
    if (event.key === "/") {
      var search = document.getElementById("inbox-search");
      if (search) { event.preventDefault(); search.focus(); search.select(); }
      return;
    }
    if (event.key === "r") {
      var reply = document.querySelector("#thread-pane textarea[data-enter-sends]");
      if (reply) { event.preventDefault(); reply.focus(); }
      return;
    }
    var step = { ArrowDown: 1, j: 1, ArrowUp: -1, k: -1 }[event.key];
    if (!step) return;
    var links = conversationLinks();
    if (!links.length) return;
    var index = links.indexOf(document.activeElement);
    if (index < 0) {
      var current = document.querySelector("#conversation-list .conversation-item[aria-current='true'] .conversation-link");
      index = current ? links.indexOf(current) : (step > 0 ? -1 : links.length);
    }
    var next = links[Math.max(0, Math.min(links.length - 1, index + step))];
    event.preventDefault();
    next.focus();
    next.scrollIntoView({ block: "nearest" });
  });

  // The sandbox compose box empties after a send.
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail.elt;
    if (form && form.matches && form.matches("form[data-reset-on-send]") && event.detail.successful) form.reset();
  });
})();
