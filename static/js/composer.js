// The reply box's tools (issue 6): Reply / Note mode, the "/" quick-reply picker, attachment,
// poll and location panels, and quote-reply. Behaviour only: the server checks everything again.
// Loaded after sapa.js, which owns Enter-to-send, the box's growth, the double-send guard of
// form[data-composer] and the reset after `sapa:sent`.
(function () {
  "use strict";

  function composerIn(el) {
    var slot = el && el.closest ? el.closest(".composer-slot") : null;
    return slot ? slot.querySelector("form.composer[data-composer]:not(.composer-note-only)") : null;
  }
  function boxOf(form) { return form ? form.querySelector("textarea[name=text]") : null; }
  function slotOf(form) { return form.closest(".composer-slot"); }
  function toolButton(form, name) { return form.querySelector("[data-tool='" + name + "']"); }

  function humanSize(bytes) {
    // Like Django's filesizeformat (1024-based), which the thread uses.
    if (bytes < 1024) return bytes + " B";
    if (bytes < 1024 * 1024) return (bytes / 1024).toFixed(1) + " KB";
    return (bytes / 1024 / 1024).toFixed(1) + " MB";
  }

  // --- Chips and the send's requirements ---------------------------------------------------

  function showChip(form, name, label) {
    var chip = form.querySelector("[data-chip='" + name + "']");
    if (!chip) return;
    chip.querySelector("[data-chip-label]").textContent = label;
    chip.hidden = !label;
    updateRequired(form);
  }

  // Text is optional when something else goes with the reply (the text becomes its caption).
  function updateRequired(form) {
    var box = boxOf(form);
    if (!box) return;
    var carries = form.dataset.mode !== "note" && (
      !form.querySelector("[data-chip='attachment']").hidden ||
      form.querySelector("[data-chip='quick-reply']").dataset.carries === "1");
    box.required = !carries;
  }

  function chipIcon(form, name) {
    var icon = form.querySelector("[data-chip-icon]");
    if (icon) icon.className = "icon icon-" + name;
  }

  function clearQuickReply(form) {
    form.querySelector("[data-quick-reply-id]").value = "";
    form.querySelector("[data-chip='quick-reply']").dataset.carries = "";
    showChip(form, "quick-reply", "");
  }

  function clearAttachment(form) {
    var file = form.querySelector("input[type=file][name=attachment]");
    var url = form.querySelector("input[name=attachment_url]");
    if (file) file.value = "";
    if (url) url.value = "";
    var error = form.querySelector("[data-attach-error]");
    if (error) error.textContent = "";
    showChip(form, "attachment", "");
  }

  // --- Panels (attachment, poll, location): one open at a time -----------------------------

  function panelFor(form, name) {
    var button = toolButton(form, name);
    return button ? document.getElementById(button.getAttribute("aria-controls")) : null;
  }

  function closePanels(form, except) {
    ["attach", "poll", "location"].forEach(function (name) {
      if (name === except) return;
      var panel = panelFor(form, name), button = toolButton(form, name);
      if (panel) panel.hidden = true;
      if (button) button.setAttribute("aria-expanded", "false");
    });
  }

  function openPanel(form, name) {
    closePanels(form, name);
    closePicker(boxOf(form));
    var panel = panelFor(form, name);
    toolButton(form, name).setAttribute("aria-expanded", "true");
    if (name === "poll") {
      // Loaded fresh each time: the saved polls may have changed.
      window.htmx.ajax("GET", toolButton(form, "poll").dataset.url, { target: panel, swap: "outerHTML" });
      return;
    }
    panel.hidden = false;
    if (name === "location") updateMapLink(panel);
    var first = panel.querySelector("input:not([type=hidden]), select");
    if (first) first.focus();
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-tool]") : null;
    if (!button) return;
    var form = composerIn(button);
    if (!form) return;
    var name = button.dataset.tool;
    if (name === "quick-replies") {
      startQuickReply(form);
      return;
    }
    if (button.getAttribute("aria-expanded") === "true") {
      closePanels(form);
      boxOf(form).focus();
    } else {
      openPanel(form, name);
    }
  });

  document.addEventListener("click", function (event) {
    var close = event.target.closest ? event.target.closest("[data-panel-close]") : null;
    if (!close) return;
    var form = composerIn(close);
    if (!form) return;
    closePanels(form);
    boxOf(form).focus();
  });

  // A panel loaded or re-shown by htmx (the poll panel, a refused poll or location): focus its
  // first field, or the first one with an error.
  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail && event.detail.target;
    if (!target || !target.id || !/^composer-\d+-(poll|location)$/.test(target.id)) return;
    // An outerHTML swap leaves `target` detached: the panel now in the page has its id.
    var panel = document.getElementById(target.id);
    if (!panel) return;
    var form = composerIn(panel);
    if (form) {
      syncQuote(form);
      var button = toolButton(form, panel.dataset.composerTool);
      if (button) button.setAttribute("aria-expanded", panel.hidden ? "false" : "true");
    }
    if (panel.hidden) return;
    updateMapLink(panel);
    showGeolocation(panel);
    var invalid = panel.querySelector("[aria-invalid=true]");
    var first = invalid || panel.querySelector("input:not([type=hidden]):not([disabled]), select");
    if (first) first.focus();
  });

  // --- Attachment -------------------------------------------------------------------------

  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches("input[type=file][name=attachment], input[name=attachment_url]")) return;
    var form = composerIn(input);
    if (!form) return;
    var panel = panelFor(form, "attach"), error = form.querySelector("[data-attach-error]");
    error.textContent = "";
    if (input.type === "file") {
      var file = input.files && input.files[0];
      if (!file) { showChip(form, "attachment", ""); return; }
      var ext = (file.name.split(".").pop() || "").toLowerCase();
      var allowed = (panel.dataset.extensions || "").split(",");
      var problem = "";
      if (allowed.indexOf("." + ext) < 0 || file.name.indexOf(".") < 0) problem = panel.dataset.msgType;
      else if (file.size > Number(panel.dataset.maxBytes)) problem = panel.dataset.msgTooBig;
      else if (file.size === 0) problem = panel.dataset.msgEmpty;
      if (problem) {
        input.value = "";
        error.textContent = problem;
        showChip(form, "attachment", "");
        return;
      }
      form.querySelector("input[name=attachment_url]").value = "";
      clearQuickReply(form);
      chipIcon(form, "attach");
      showChip(form, "attachment", file.name + " · " + humanSize(file.size));
    } else {
      var link = input.value.trim();
      if (!link) { showChip(form, "attachment", ""); return; }
      form.querySelector("input[type=file][name=attachment]").value = "";
      clearQuickReply(form);
      chipIcon(form, "link");
      showChip(form, "attachment", link.replace(/^https?:\/\//, ""));
    }
    closePanels(form);
    boxOf(form).focus();
  });

  document.addEventListener("click", function (event) {
    var remove = event.target.closest ? event.target.closest("[data-chip-remove]") : null;
    if (!remove) return;
    var form = composerIn(remove);
    if (!form) return;
    if (remove.dataset.chipRemove === "attachment") clearAttachment(form);
    else clearQuickReply(form);
    boxOf(form).focus();
  });

  // --- Quick replies: the "/" picker (a combobox on the reply box) --------------------------

  // The "/word" being typed just before the caret, at the start or after a space.
  function slashToken(box) {
    if (!box || box.selectionStart !== box.selectionEnd) return null;
    var before = box.value.slice(0, box.selectionStart);
    var match = /(^|\s)\/([^\s/]*)$/.exec(before);
    return match ? { start: before.length - match[2].length - 1, query: match[2] } : null;
  }

  function pickerOf(box) { return box ? document.getElementById(box.getAttribute("aria-controls")) : null; }
  function options(picker) { return Array.prototype.slice.call(picker.querySelectorAll(".picker-option")); }

  function closePicker(box) {
    var picker = pickerOf(box);
    if (!picker) return;
    picker.hidden = true;
    picker.innerHTML = "";
    box.setAttribute("aria-expanded", "false");
    box.removeAttribute("aria-activedescendant");
  }

  function highlight(box, option) {
    var picker = pickerOf(box);
    options(picker).forEach(function (item) {
      var on = item === option;
      item.setAttribute("aria-selected", on ? "true" : "false");
      item.classList.toggle("is-active", on);
    });
    if (option) {
      box.setAttribute("aria-activedescendant", option.id);
      option.scrollIntoView({ block: "nearest" });
    } else {
      box.removeAttribute("aria-activedescendant");
    }
  }

  var pickerSeq = 0, pickerTimer = null;
  function refreshPicker(box) {
    var form = box.form, token = slashToken(box);
    if (!token || form.dataset.mode === "note") { closePicker(box); return; }
    var seq = ++pickerSeq;
    fetch(form.dataset.pickerUrl + "?q=" + encodeURIComponent(token.query), {
      credentials: "same-origin", headers: { "HX-Request": "true" }
    }).then(function (response) {
      if (!response.ok) throw new Error(String(response.status));
      return response.text();
    }).then(function (html) {
      // An older answer, or the agent moved on meanwhile.
      if (seq !== pickerSeq || !slashToken(box) || document.activeElement !== box) return;
      var picker = pickerOf(box);
      picker.innerHTML = html; // server-rendered and escaped, like any htmx swap
      picker.hidden = false;
      box.setAttribute("aria-expanded", "true");
      highlight(box, options(picker)[0] || null);
    }).catch(function () { closePicker(box); });
  }

  function startQuickReply(form) {
    var box = boxOf(form);
    if (form.dataset.mode === "note") return;
    closePanels(form);
    box.focus();
    if (!slashToken(box)) {
      var at = box.selectionStart, before = box.value.slice(0, at);
      var insert = (before && !/\s$/.test(before) ? " " : "") + "/";
      box.setRangeText(insert, at, box.selectionEnd, "end");
    }
    refreshPicker(box);
  }

  function choose(box, option) {
    var form = box.form, token = slashToken(box), text = option.dataset.text || "";
    var start = token ? token.start : box.selectionStart;
    box.setRangeText(text, start, box.selectionStart, "end");
    closePicker(box);
    var extras = [];
    if (option.dataset.attachment) extras.push(option.dataset.attachment);
    if (option.dataset.location) extras.push(option.dataset.location);
    if (extras.length) {
      // The send goes through the template (by id): the server adds its attachment/location.
      clearAttachment(form);
      form.querySelector("[data-quick-reply-id]").value = option.dataset.quickReply;
      var chip = form.querySelector("[data-chip='quick-reply']");
      chip.dataset.carries = "1";
      showChip(form, "quick-reply", "/" + option.dataset.shortcut + ": " + extras.join(" · "));
    } else {
      clearQuickReply(form);
    }
    box.dispatchEvent(new Event("input", { bubbles: true })); // let the box grow
    box.focus();
  }

  document.addEventListener("input", function (event) {
    var box = event.target;
    if (!box.matches || !box.matches("form[data-composer] textarea[role=combobox]")) return;
    window.clearTimeout(pickerTimer);
    if (!slashToken(box)) { closePicker(box); return; }
    pickerTimer = window.setTimeout(function () { refreshPicker(box); }, 120);
  });

  // Capture phase: runs before sapa.js's Enter-to-send while the picker is open.
  document.addEventListener("keydown", function (event) {
    var box = event.target;
    if (!box.matches || !box.matches("form[data-composer] textarea[name=text]")) return;
    var picker = pickerOf(box);
    if (picker && !picker.hidden) {
      var list = options(picker);
      var current = list.indexOf(picker.querySelector(".picker-option.is-active"));
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        if (!list.length) return;
        var step = event.key === "ArrowDown" ? 1 : -1;
        highlight(box, list[(current + step + list.length) % list.length]);
      } else if ((event.key === "Enter" || event.key === "Tab") && !event.shiftKey && current >= 0) {
        choose(box, list[current]);
      } else if (event.key === "Escape") {
        closePicker(box);
      } else {
        return;
      }
      event.preventDefault();
      event.stopPropagation();
      return;
    }
    // Enter sends an attachment without a caption too (sapa.js sends only when there is text).
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing && !box.value.trim() && !box.required) {
      event.preventDefault();
      event.stopPropagation();
      box.form.requestSubmit();
    }
  }, true);

  document.addEventListener("mousedown", function (event) {
    // Keep the focus in the box while choosing with the mouse.
    if (event.target.closest && event.target.closest(".picker")) event.preventDefault();
  });
  document.addEventListener("click", function (event) {
    var option = event.target.closest ? event.target.closest(".picker-option") : null;
    if (!option) return;
    var picker = option.closest(".picker");
    var box = document.querySelector("[aria-controls='" + picker.id + "']");
    if (box) choose(box, option);
  });
  document.addEventListener("focusout", function (event) {
    var box = event.target;
    if (box.matches && box.matches("textarea[role=combobox]")) {
      window.setTimeout(function () { if (document.activeElement !== box) closePicker(box); }, 150);
    }
  });

  // --- Reply / Note --------------------------------------------------------------------------

  function applyMode(form) {
    var note = !!form.querySelector("input[name=mode][value=note]:checked");
    form.dataset.mode = note ? "note" : "reply";
    // Notes are text only: what belongs to a reply is not even posted.
    form.querySelectorAll("[data-reply-only]").forEach(function (el) { el.disabled = note; });
    var box = boxOf(form), send = form.querySelector(".composer-send");
    box.placeholder = note ? box.dataset.placeholderNote : box.dataset.placeholderReply;
    send.textContent = note ? send.dataset.labelNote : send.dataset.labelReply;
    if (note) { closePanels(form); closePicker(box); }
    updateRequired(form);
  }

  document.addEventListener("change", function (event) {
    var radio = event.target;
    if (!radio.matches || !radio.matches("input[name=mode]") || !radio.form || !radio.form.matches("[data-composer]")) return;
    applyMode(radio.form);
    boxOf(radio.form).focus();
  });

  // --- Quote-reply ---------------------------------------------------------------------------

  // Every form of the reply box posts the quote: the box and each panel.
  function syncQuote(form) {
    var id = form.querySelector("[data-quoted]").value;
    slotOf(form).querySelectorAll("form[data-composer-tool] [data-quoted]").forEach(function (input) { input.value = id; });
  }

  function setQuote(form, id, author, snippet) {
    form.querySelector("[data-quoted]").value = id || "";
    var bar = form.querySelector(".composer-quote");
    bar.hidden = !id;
    bar.querySelector("[data-quote-author]").textContent = author || "";
    bar.querySelector("[data-quote-snippet]").textContent = snippet || "";
    syncQuote(form);
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-quote]") : null;
    if (!button) return;
    var pane = button.closest("#thread-pane");
    var form = pane ? pane.querySelector("form.composer[data-composer]:not(.composer-note-only)") : null;
    if (!form) return;
    var reply = form.querySelector("input[name=mode][value=reply]");
    if (reply && !reply.checked) { reply.checked = true; applyMode(form); }
    var title = pane.querySelector(".thread-title");
    var author = button.dataset.quoteAuthor || (title ? title.textContent.trim() : "");
    setQuote(form, button.dataset.quote, author, button.dataset.quoteSnippet);
    boxOf(form).focus();
  });

  document.addEventListener("click", function (event) {
    var cancel = event.target.closest ? event.target.closest("[data-quote-cancel]") : null;
    if (!cancel) return;
    var form = composerIn(cancel);
    if (!form) return;
    setQuote(form, "", "", "");
    boxOf(form).focus();
  });

  // --- Poll panel ----------------------------------------------------------------------------

  document.addEventListener("change", function (event) {
    var select = event.target;
    if (!select.matches || !select.matches("select[data-saved-poll]")) return;
    var fields = select.form.querySelector("[data-poll-new]");
    fields.disabled = fields.hidden = !!select.value;
  });

  function renumberChoices(list) {
    var items = list.querySelectorAll("li");
    items.forEach(function (item, index) {
      var input = item.querySelector("input"), label = item.querySelector("label");
      var base = input.id.replace(/-\d+$/, "-");
      input.id = base + (index + 1);
      label.setAttribute("for", input.id);
    });
    list.classList.toggle("is-minimal", items.length <= 2);
    var add = list.parentElement.querySelector("[data-choice-add]");
    if (add) add.hidden = items.length >= Number(list.dataset.max);
  }

  document.addEventListener("click", function (event) {
    var add = event.target.closest ? event.target.closest("[data-choice-add]") : null;
    if (add) {
      var list = add.parentElement.querySelector("[data-choice-list]");
      var items = list.querySelectorAll("li");
      if (items.length >= Number(list.dataset.max)) return;
      var copy = items[items.length - 1].cloneNode(true), input = copy.querySelector("input");
      input.value = "";
      input.removeAttribute("aria-invalid");
      var n = items.length + 1;
      input.placeholder = add.dataset.label + " " + n;
      copy.querySelector("label").textContent = add.dataset.label + " " + n;
      copy.querySelector("[data-choice-remove]").setAttribute("aria-label", add.dataset.removeLabel);
      list.appendChild(copy);
      renumberChoices(list);
      input.focus();
      return;
    }
    var remove = event.target.closest ? event.target.closest("[data-choice-remove]") : null;
    if (remove) {
      var holder = remove.closest("[data-choice-list]");
      if (holder.querySelectorAll("li").length <= 2) return;
      remove.closest("li").remove();
      renumberChoices(holder);
      var last = holder.querySelector("li:last-child input");
      if (last) last.focus();
    }
  });

  // --- Location panel ------------------------------------------------------------------------

  function coordinate(value, limit) {
    // A decimal comma ("-6,2088") is read like the server reads it.
    var text = String(value || "").trim().replace(/^([-+]?\d+),(\d+)$/, "$1.$2");
    if (!/^[-+]?\d+(\.\d+)?$/.test(text)) return null;
    var number = Number(text);
    return Math.abs(number) <= limit ? text : null;
  }

  function updateMapLink(panel) {
    var link = panel && panel.querySelector ? panel.querySelector("[data-location-map]") : null;
    if (!link) return;
    var lat = coordinate(panel.querySelector("[data-location-lat]").value, 90);
    var lng = coordinate(panel.querySelector("[data-location-lng]").value, 180);
    if (lat !== null && lng !== null) {
      link.href = link.dataset.base + "?mlat=" + lat + "&mlon=" + lng + "#map=17/" + lat + "/" + lng;
      link.removeAttribute("aria-disabled");
    } else {
      link.href = link.dataset.base;
      link.setAttribute("aria-disabled", "true");
    }
  }

  function showGeolocation(panel) {
    var button = panel.querySelector ? panel.querySelector("[data-location-mine]") : null;
    if (button) button.hidden = !("geolocation" in navigator) || !window.isSecureContext;
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-composer-tool='location']").forEach(showGeolocation);
  });
  document.addEventListener("htmx:afterSettle", function () {
    document.querySelectorAll("form[data-composer-tool='location']").forEach(showGeolocation);
    // A re-rendered thread keeps the typed text (hx-preserve), not the box's state around it.
    document.querySelectorAll("form.composer[data-composer]:not(.composer-note-only)").forEach(function (form) {
      if (form.dataset.mode !== (form.querySelector("input[name=mode][value=note]:checked") ? "note" : "reply") ||
          boxOf(form).placeholder !== boxOf(form).dataset.placeholderReply) applyMode(form);
    });
  });

  // A "latitude, longitude" pair as maps copy it: "-6.175392, 106.827153", "-6.1,106.8", or
  // with decimal commas "-6,175392; 106,827153". A lone comma between digits ("-6,2088") is a
  // decimal comma, never a pair: that is how Indonesian agents write one number.
  var NUMBER = "([-+]?\\d+(?:[.,]\\d+)?)";
  var PAIR_SPACED = new RegExp("^\\s*" + NUMBER + "\\s*(?:[;\\s]|,\\s)\\s*" + NUMBER + "\\s*$");
  var PAIR_DOTTED = /^\s*([-+]?\d+\.\d+),([-+]?\d+\.\d+)\s*$/;
  function coordinatePair(text) {
    var pair = PAIR_DOTTED.exec(text) || PAIR_SPACED.exec(text);
    return pair ? [pair[1], pair[2]] : null;
  }

  document.addEventListener("input", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches("[data-location-lat], [data-location-lng]")) return;
    var panel = input.form;
    // Only what arrives at once (a paste, a drop, autofill) may be a pair: typed key by key,
    // "-6,2" is on its way to "-6,2088", not a pair.
    var atOnce = event.inputType !== "insertText" || (event.data || "").length > 1;
    var pair = atOnce ? coordinatePair(input.value) : null;
    if (pair) {
      panel.querySelector("[data-location-lat]").value = pair[0];
      panel.querySelector("[data-location-lng]").value = pair[1];
    }
    updateMapLink(panel);
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-location-mine]") : null;
    if (!button) return;
    var panel = button.form, status = panel.querySelector("[data-location-status]");
    status.textContent = button.dataset.msgLocating;
    navigator.geolocation.getCurrentPosition(function (position) {
      panel.querySelector("[data-location-lat]").value = position.coords.latitude.toFixed(6);
      panel.querySelector("[data-location-lng]").value = position.coords.longitude.toFixed(6);
      status.textContent = "";
      updateMapLink(panel);
    }, function () {
      status.textContent = button.dataset.msgDenied;
    }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
  });

  // --- Images in the thread load lazily, after the thread was scrolled to its end ------------

  // Keep the end in view when an image that was below the fold of a thread read at its end
  // arrives (its height was not known when the thread scrolled down).
  document.addEventListener("load", function (event) {
    var img = event.target;
    if (!img.matches || !img.matches(".message-image img")) return;
    var scroller = img.closest(".thread-scroll");
    if (!scroller) return;
    var fromEnd = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight;
    if (fromEnd - img.offsetHeight < 80) scroller.scrollTop = scroller.scrollHeight;
  }, true);

  // --- One send per click for the panels, and a clean box after any send --------------------

  // (The double-send guard itself is sapa.js's, for the box and its panels alike.)

  // After a send: the quote it answered and the open panels go. After a send from the box itself
  // (sapa.js has reset it) its chips go too, and the Reply / Note choice stays (form.reset()
  // would put it back to Reply); a poll or location sent from a panel leaves the box's own
  // attachment or quick reply in place for the agent's next send.
  document.addEventListener("sapa:sent", function (event) {
    var form = composerIn(event.target);
    if (!form) return;
    setQuote(form, "", "", "");
    closePanels(form);
    if (event.target !== form) return;
    var mode = form.dataset.mode;
    var radio = form.querySelector("input[name=mode][value='" + mode + "']");
    if (radio) radio.checked = true;
    clearQuickReply(form);
    clearAttachment(form);
    closePicker(boxOf(form));
    applyMode(form);
  });
})();
