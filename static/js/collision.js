// The collision guard's page side (chats/services/collision.py): tell the server which
// conversation this page shows and when its agent types there, over the workspace socket; show
// who else is there ("Budi is viewing" / "Budi is typing…") for as long as the server's pushes
// say, without a reload.
(function () {
  "use strict";

  var VIEWING_REFRESH_MS = 15000; // chats.services.collision.VIEWING_REFRESH_SECONDS
  var TYPING_REFRESH_MS = 2000; // chats.services.collision.TYPING_REFRESH_SECONDS
  var socket = null; // htmx ws extension's public socket wrapper
  var shown = null; // the conversation id this page last reported
  var lastTyping = 0;

  function report(kind, conversationId) {
    if (!socket || !conversationId) return;
    try {
      socket.send(JSON.stringify({ collision: kind, conversation_id: conversationId }));
    } catch (e) { /* a closed socket: the next (re)connect reports again */ }
  }

  function openConversation() {
    var pane = document.getElementById("thread-pane");
    var id = pane && pane.dataset.conversationId ? parseInt(pane.dataset.conversationId, 10) : 0;
    return id > 0 ? id : null;
  }

  // After any swap: a new thread means "left" the old one and "viewing" the new one; the same
  // thread re-rendered (a resync) is reported again so the server sends who is there now.
  function sync(force) {
    var id = openConversation();
    if (id !== shown && shown) report("left", shown);
    if (id && (id !== shown || force)) report("viewing", id);
    shown = id;
  }

  document.addEventListener("htmx:wsOpen", function (event) {
    socket = event.detail && event.detail.socketWrapper;
    shown = null;
    sync(true);
  });
  document.addEventListener("htmx:wsClose", function () { socket = null; });
  document.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail && event.detail.target;
    sync(!!(target && target.id === "thread-pane"));
  });
  document.addEventListener("htmx:historyRestore", function () { sync(true); });

  window.setInterval(function () {
    if (document.visibilityState === "visible" && shown) report("viewing", shown);
  }, VIEWING_REFRESH_MS);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") sync(true);
  });

  // Typing in the open thread's reply box (reply or note).
  document.addEventListener("input", function (event) {
    var box = event.target;
    if (!box.matches || !box.matches("#thread-pane form[data-composer] textarea")) return;
    var now = Date.now();
    if (now - lastTyping < TYPING_REFRESH_MS) return;
    lastTyping = now;
    report("typing", openConversation());
  });

  // Each person shows for data-ttl seconds ("is typing" for data-typing-ttl) after the push
  // that rendered them; a newer push replaces the whole line.
  function stamp(line) {
    var now = Date.now();
    line.querySelectorAll(".collision-person").forEach(function (person) {
      if (person.dataset.until) return;
      person.dataset.until = String(now + 1000 * parseInt(person.dataset.ttl || "0", 10));
      person.dataset.typingUntil = String(now + 1000 * parseInt(person.dataset.typingTtl || "0", 10));
    });
  }

  function expire() {
    var now = Date.now();
    document.querySelectorAll(".collision").forEach(function (line) {
      stamp(line);
      line.querySelectorAll(".collision-person").forEach(function (person) {
        if (now >= parseInt(person.dataset.until, 10)) person.remove();
        else if (now >= parseInt(person.dataset.typingUntil, 10)) person.classList.remove("is-typing");
      });
      line.hidden = !line.querySelector(".collision-person");
    });
  }

  document.addEventListener("htmx:wsAfterMessage", function () {
    sync(false); // a push may have closed the thread (the chat moved away)
    expire();
  });
  window.setInterval(expire, 1000);
})();
