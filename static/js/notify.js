// Notifications in the agent workspace: a short chime, a desktop notification and a count in the
// tab title when a chat or a customer's message arrives that the agent is not looking at.
//
// The socket delivers signals as #live-signal (chats/partials/live.html#signal; chats/live.py
// decides per viewer whether a push is one). "Looking" means: that chat is open and the tab is
// visible and focused; then nothing happens. The bell in the header (#mute-switch, saved on the
// server) silences the sound and the desktop notification; the title count always works.
//
// Browsers allow a permission request and audio only inside a user's gesture, so nothing is
// asked by itself: the header's "Enable notifications" button asks for permission and unlocks
// sound in one click, then hides. A page loaded later unlocks sound on the agent's first click
// or key press (invisible; a browser would refuse the sound before it).
(function () {
  "use strict";

  var SOUND_KEY = "sapa.soundEnabled", ALERT_KEY = "sapa.lastAlert";
  var BURST_MS = 4000; // messages in a burst chime once
  var audio = null, seenSeq = {}, unseen = {}, lastAlert = {};

  function storageGet(key) { try { return window.localStorage.getItem(key); } catch (e) { return null; } }
  function storageSet(key, value) { try { window.localStorage.setItem(key, value); } catch (e) { /* private mode */ } }
  function capitalized(word) { return word.charAt(0).toUpperCase() + word.slice(1); }

  function permission() { return "Notification" in window ? window.Notification.permission : "unsupported"; }
  function muted() {
    var bell = document.getElementById("mute-switch");
    return !!bell && bell.dataset.muted === "1";
  }
  function soundEnabled() { return storageGet(SOUND_KEY) === "1"; }

  // --- Sound ---------------------------------------------------------------------------------
  function audioContext() {
    if (!audio) {
      var Context = window.AudioContext || window.webkitAudioContext;
      if (!Context) return null;
      audio = new Context();
    }
    return audio;
  }

  // Inside a gesture: the browser lets a context resumed here play from now on.
  function unlockAudio() {
    var context = audioContext();
    if (!context) return Promise.resolve(null);
    if (context.state === "running") return Promise.resolve(context);
    return context.resume().then(function () { return context; }, function () { return null; });
  }

  // Two soft sine tones, E5 then A5: synthesized, so there is no file to fetch or to block.
  function chime() {
    if (!audio || audio.state !== "running") return false;
    var start = audio.currentTime + 0.01;
    [[659.25, 0], [880, 0.14]].forEach(function (tone) {
      var oscillator = audio.createOscillator(), gain = audio.createGain(), at = start + tone[1];
      oscillator.type = "sine";
      oscillator.frequency.value = tone[0];
      gain.gain.setValueAtTime(0.0001, at);
      gain.gain.exponentialRampToValueAtTime(0.18, at + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.45);
      oscillator.connect(gain);
      gain.connect(audio.destination);
      oscillator.start(at);
      oscillator.stop(at + 0.5);
    });
    return true;
  }

  function unlockOnGesture() { if (soundEnabled() && !muted()) unlockAudio(); }
  document.addEventListener("pointerdown", unlockOnGesture, true);
  document.addEventListener("keydown", unlockOnGesture, true);

  // --- Header controls -----------------------------------------------------------------------
  function refreshControls() {
    var state = permission(), button = document.getElementById("notify-enable");
    if (button) {
      button.hidden = muted() || (state !== "default" && soundEnabled());
      var label = button.querySelector(".label");
      if (!label.dataset.full) label.dataset.full = label.textContent;
      label.textContent = state === "default" ? label.dataset.full : button.dataset.labelSound;
    }
    var status = document.getElementById("notify-status");
    if (status) {
      status.dataset.state = state;
      status.textContent = status.dataset["label" + capitalized(state)] || "";
    }
    document.querySelectorAll("[data-when-muted]").forEach(function (node) {
      node.hidden = (node.dataset.whenMuted === "1") !== muted();
    });
  }

  function showHint(show) {
    var hint = document.getElementById("notify-hint");
    if (hint) hint.hidden = !show;
  }

  function enable() {
    storageSet(SOUND_KEY, "1");
    var sound = unlockAudio(); // first, while the click still counts as a gesture
    var asked = permission() === "default"
      ? new Promise(function (resolve) {
          var answer = window.Notification.requestPermission(resolve); // old Safari: callback
          if (answer && answer.then) answer.then(resolve);
        })
      : Promise.resolve(permission());
    Promise.all([sound, asked]).then(function () {
      refreshControls();
      showHint(permission() === "denied");
      chime(); // what a new chat will sound like
      document.dispatchEvent(new CustomEvent("sapa:notifications-enabled", { detail: { permission: permission() } }));
    });
  }

  document.addEventListener("click", function (event) {
    var target = event.target.closest ? event.target : null;
    if (!target) return;
    if (target.closest("#notify-enable")) { enable(); return; }
    if (target.closest(".notify-hint-close")) { showHint(false); return; }
    var use = target.closest(".browser-time-zone-use");
    if (use) {
      var select = use.closest("form").querySelector("select[name=time_zone]");
      select.value = use.dataset.zone;
      select.focus();
      return;
    }
    // A click elsewhere closes the open Preferences menu and the hint.
    var menu = document.getElementById("prefs-menu"), hint = document.getElementById("notify-hint");
    if (menu && menu.open && !menu.contains(target)) menu.open = false;
    if (hint && !hint.hidden && !hint.contains(target)) showHint(false);
  });
  document.addEventListener("keydown", function (event) {
    var menu = document.getElementById("prefs-menu");
    if (event.key === "Escape" && menu && menu.open) {
      menu.open = false;
      menu.querySelector("summary").focus();
    }
  });
  // The bell's form comes back with the new state after a press.
  document.addEventListener("htmx:afterSettle", refreshControls);

  // Show the browser's own zone beside the agent's when they differ; choosing it is up to them.
  function suggestBrowserZone() {
    var zone = null;
    try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { /* old browser */ }
    document.querySelectorAll(".browser-time-zone").forEach(function (line) {
      if (!zone || zone === line.dataset.agentZone) return;
      var select = line.closest("form").querySelector("select[name=time_zone]");
      var known = select && Array.prototype.some.call(select.options, function (o) { return o.value === zone; });
      line.querySelector(".browser-time-zone-text").textContent = line.dataset.label.replace("%(zone)s", zone);
      var use = line.querySelector(".browser-time-zone-use");
      use.dataset.zone = zone;
      use.hidden = !known;
      line.hidden = false;
    });
  }

  // --- Signals -------------------------------------------------------------------------------
  function openConversationId() {
    var pane = document.getElementById("thread-pane");
    return pane ? pane.dataset.conversationId || null : null;
  }
  function attending() { return document.visibilityState === "visible" && document.hasFocus(); }

  function updateTitle() {
    var count = 0;
    Object.keys(unseen).forEach(function (id) { count += unseen[id]; });
    var base = document.title.replace(/^\(\d+\) /, "");
    document.title = count ? "(" + count + ") " + base : base;
  }

  // The agent looks at the open chat: its signals are seen.
  function markSeen() {
    var id = openConversationId();
    if (id && unseen[id] && attending()) delete unseen[id];
    updateTitle();
  }
  document.addEventListener("htmx:afterSettle", markSeen);
  document.addEventListener("visibilitychange", markSeen);
  window.addEventListener("focus", markSeen);

  function openConversation(id, url) {
    var link = document.querySelector("#conversation-" + CSS.escape(id) + " .conversation-link");
    if (link) link.click();
    else if (url) window.location.assign(url);
  }

  // Several tabs of the same agent hear the same push: one of them alerts.
  function claimAlert(seq) {
    if (storageGet(ALERT_KEY) === seq) return false;
    storageSet(ALERT_KEY, seq);
    return true;
  }

  function notifyDesktop(data) {
    if (permission() !== "granted") return false;
    try {
      var icon = document.querySelector("link[rel=icon]");
      var note = new window.Notification(data.title || "Sapa", {
        body: data.body || "",
        tag: "sapa-" + data.conversationId, // a newer message replaces the chat's notification
        icon: icon ? icon.href : undefined
      });
      note.onclick = function () {
        window.focus();
        openConversation(data.conversationId, data.url);
        note.close();
      };
      return true;
    } catch (e) {
      return false; // Chrome on Android allows notifications only from a service worker
    }
  }

  function handle(data) {
    var id = data.conversationId, detail = { kind: data.kind, conversationId: id, title: data.title, body: data.body, counted: false, sound: false, desktop: false };
    if (!(attending() && openConversationId() === id)) {
      unseen[id] = (unseen[id] || 0) + 1;
      detail.counted = true;
      updateTitle();
      if (!muted() && claimAlert(data.seq)) {
        var now = Date.now();
        if (!lastAlert[id] || now - lastAlert[id] > BURST_MS) detail.sound = chime();
        lastAlert[id] = now;
        detail.desktop = notifyDesktop(data);
      }
    }
    document.dispatchEvent(new CustomEvent("sapa:signal", { detail: detail }));
  }

  // A chat that left this agent (taken, transferred away, resolved) no longer counts.
  document.addEventListener("htmx:wsBeforeMessage", function (event) {
    var text = event.detail && typeof event.detail.message === "string" ? event.detail.message : "";
    var gone = /delete:#conversation-(\d+)/g, match, changed = false;
    while ((match = gone.exec(text))) {
      if (unseen[match[1]]) { delete unseen[match[1]]; changed = true; }
    }
    if (changed) updateTitle();
  });

  document.addEventListener("htmx:wsAfterMessage", function () {
    var signal = document.getElementById("live-signal");
    if (!signal || !signal.dataset.seq || seenSeq[signal.dataset.seq]) return;
    seenSeq[signal.dataset.seq] = true;
    handle(Object.assign({}, signal.dataset));
  });

  document.addEventListener("DOMContentLoaded", function () {
    refreshControls();
    suggestBrowserZone();
  });
})();
