/* Phone simulator: plays the mobile app. Every device call goes through the example site's
   simulator views, which sign it with the simulated phone's key (django_pushmfa.testing.phone). */
(function () {
  "use strict";
  var API = window.location.pathname.replace(/\/$/, "") + "/api/";
  var $ = function (sel, root) { return (root || document).querySelector(sel); };
  var $$ = function (sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); };

  var phones = JSON.parse(document.getElementById("sim-phones").textContent || "[]");
  var select = $("[data-sim-phone-select]");
  var state = { phone: null, seen: [], listener: null, challenge: null, timer: null, entry: "" };

  function csrfToken() {
    var m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : "";
  }

  function call(method, path, body, signal) {
    var opts = { method: method, headers: { Accept: "application/json" }, credentials: "same-origin", signal: signal };
    if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.headers["X-CSRFToken"] = csrfToken();
      opts.body = JSON.stringify(body);
    }
    return fetch(API + path, opts).then(function (resp) {
      return resp.json().catch(function () { return {}; }).then(function (data) {
        return { ok: resp.ok, status: resp.status, data: data || {} };
      });
    });
  }

  function show(name) {
    $$("[data-sim-screen]").forEach(function (el) { el.hidden = el.getAttribute("data-sim-screen") !== name; });
    $("[data-sim-phone]").setAttribute("data-sim-state", name);
  }

  function tickClock() {
    var now = new Date();
    $("[data-sim-clock]").textContent = now.getHours() + ":" + String(now.getMinutes()).padStart(2, "0");
  }

  // --- phones -----------------------------------------------------------------------------------
  function phoneById(id) {
    for (var i = 0; i < phones.length; i++) { if (String(phones[i].id) === String(id)) return phones[i]; }
    return null;
  }

  function renderPhoneOptions(selectedId) {
    select.innerHTML = "";
    if (!phones.length) {
      select.add(new Option("No simulated phone yet", ""));
    }
    phones.forEach(function (p) {
      var label = p.name + " — " + p.user + (p.status !== "active" ? " (" + p.status + ")" : "");
      select.add(new Option(label, p.id, false, String(p.id) === String(selectedId)));
    });
    $("[data-sim-forget]").hidden = !phones.length;
  }

  function selectPhone(id) {
    stopListening();
    clearNotifications();
    state.phone = phoneById(id);
    var params = new URLSearchParams(window.location.search);
    if (state.phone) { params.set("phone", state.phone.id); } else { params.delete("phone"); }
    history.replaceState(null, "", window.location.pathname + (params.toString() ? "?" + params : ""));
    if (!state.phone) { $("[data-sim-device-name]").textContent = ""; show("empty"); return; }
    $("[data-sim-device-name]").textContent = state.phone.name;
    $("[data-sim-user]").textContent = state.phone.user;
    if (state.phone.status !== "active") {
      $("[data-sim-inactive-title]").textContent = state.phone.status === "dead"
        ? "Notifications are switched off" : "This phone was removed";
      show("inactive");
      return;
    }
    show("idle");
    startListening(state.phone);
  }

  // --- receiving pushes: long-poll the inbox (woken by the push backend, no page reload) --------
  function stopListening() {
    if (state.listener) { state.listener.abort(); state.listener = null; }
  }

  function startListening(phone) {
    var controller = new AbortController();
    state.listener = controller;
    state.seen = [];
    call("GET", "phones/" + phone.id + "/inbox/", undefined, controller.signal).then(function (r) {
      state.seen = (r.data.known || []).slice(-150);
      checkPending(true);
      loop();
    }).catch(function () {});

    function loop() {
      if (controller.signal.aborted) return;
      var q = "?wait=25&seen=" + encodeURIComponent(state.seen.join(","));
      call("GET", "phones/" + phone.id + "/inbox/" + q, undefined, controller.signal).then(function (r) {
        if (!r.ok) { throw new Error("inbox " + r.status); }
        (r.data.pushes || []).forEach(function (push) {
          state.seen.push(push.challenge_id);
          notify(push.challenge_id, push.title, push.body);
        });
        state.seen = state.seen.slice(-150);
        loop();
      }).catch(function () {
        if (!controller.signal.aborted) { setTimeout(loop, 2000); }
      });
    }
  }

  // Pending requests whose push was missed (e.g. the page was closed): the app asks the server.
  function checkPending(quiet) {
    if (!state.phone) return;
    call("GET", "phones/" + state.phone.id + "/challenges/").then(function (r) {
      if (!r.ok) { if (r.data.code === "invalid_signature") { markInactive(); } return; }
      var list = r.data.challenges || [];
      list.forEach(function (c) {
        if (!$('[data-sim-notification="' + c.challenge_id + '"]') && (!state.challenge || state.challenge.challenge_id !== c.challenge_id)) {
          notify(c.challenge_id, "Sign-in request", "Pending — tap to review");
        }
      });
      if (!list.length && !quiet) { flash("No pending requests"); }
    });
  }

  function markInactive() {
    if (state.phone) { state.phone.status = "revoked"; }
    stopListening();
    $("[data-sim-inactive-title]").textContent = "This phone was removed";
    show("inactive");
  }

  function clearNotifications() { $("[data-sim-notifications]").innerHTML = ""; }

  function notify(challengeId, title, body) {
    var box = $("[data-sim-notifications]");
    if ($('[data-sim-notification="' + challengeId + '"]', box)) return;
    if (state.challenge && state.challenge.challenge_id === challengeId) return;  // already open
    var el = document.createElement("button");
    el.type = "button";
    el.className = "notification";
    el.setAttribute("data-sim-notification", challengeId);
    el.innerHTML = '<span class="n-app"><span class="n-icon">A</span><span class="n-appname"></span><span class="n-time">now</span></span>' +
      '<span class="n-title"></span><span class="n-body"></span>';
    $(".n-appname", el).textContent = document.title.split("·").pop().trim();
    $(".n-title", el).textContent = title || "Sign-in request";
    $(".n-body", el).textContent = body || "";
    // Opening the app clears the notification stack (as a phone does); what is still pending comes
    // back after the answer (checkPending), so no stale notification covers the request or its result.
    el.addEventListener("click", function () { clearNotifications(); openChallenge(challengeId); });
    box.prepend(el);
    if (navigator.vibrate) { try { navigator.vibrate(80); } catch (e) { /* not allowed */ } }
  }

  function flash(text) {
    var p = $("[data-sim-flash]");
    p.textContent = text;
    p.hidden = false;
    clearTimeout(flash.timer);
    flash.timer = setTimeout(function () { p.hidden = true; }, 2000);
  }

  // --- one challenge ------------------------------------------------------------------------------
  function openChallenge(challengeId) {
    if (!state.phone) return;
    show("loading");
    call("GET", "phones/" + state.phone.id + "/challenges/" + challengeId + "/").then(function (r) {
      if (!r.ok) { showResult(r.data.code || "error", r.data.detail); return; }
      renderChallenge(r.data);
    }).catch(function () { showResult("unreachable"); });
  }

  function formatTime(iso) {
    if (!iso) return "—";
    var d = new Date(iso);
    return isNaN(d) ? iso : d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
  }

  function renderChallenge(c) {
    state.challenge = c;
    state.entry = "";
    var ctx = c.context || {};
    // Who is asking (v1.1): the site, the service it names, and why (login / reauthentication).
    $("[data-sim-title]").textContent = ctx.purpose === "reauthentication" ? "Confirm it's you" : "Are you trying to sign in?";
    if (ctx.site_name) $("[data-sim-who]").textContent = ctx.service ? ctx.service + " on " + ctx.site_name : ctx.site_name;
    $('[data-sim-ctx="location"]').textContent = ctx.location || "Unknown location";
    var device = [ctx.browser, ctx.os].filter(Boolean).join(" on ");
    $('[data-sim-ctx="device"]').textContent = device || "Unknown browser";
    $('[data-sim-ctx="ip"]').textContent = ctx.ip || "—";
    $('[data-sim-ctx="time"]').textContent = formatTime(ctx.requested_at);

    var choices = $("[data-sim-choices]");
    choices.innerHTML = "";
    var entryMode = !c.choices;
    $("[data-sim-choices-wrap]").hidden = entryMode;
    $("[data-sim-keypad-wrap]").hidden = !entryMode;
    if (!entryMode) {
      c.choices.forEach(function (n) {
        var b = document.createElement("button");
        b.type = "button";
        b.className = "choice";
        b.textContent = n;
        b.setAttribute("data-sim-choice", n);
        b.addEventListener("click", function () { answer("approve", n); });
        choices.appendChild(b);
      });
    } else {
      renderKeypad();
    }
    setButtonsDisabled(false);
    startCountdown(c.expires_at);
    show("challenge");
  }

  function renderKeypad() {
    var pad = $("[data-sim-keypad]");
    pad.innerHTML = "";
    ["1", "2", "3", "4", "5", "6", "7", "8", "9", "", "0", "⌫"].forEach(function (k) {
      var b = document.createElement("button");
      b.type = "button";
      b.className = "key" + (k === "" ? " key-empty" : "");
      b.textContent = k;
      if (k === "") { b.disabled = true; }
      b.setAttribute("data-sim-key", k === "⌫" ? "back" : k);
      b.addEventListener("click", function () {
        if (k === "⌫") { state.entry = state.entry.slice(0, -1); } else if (k && state.entry.length < 6) { state.entry += k; }
        $("[data-sim-entry]").textContent = state.entry;
        $("[data-sim-submit-entry]").disabled = state.entry.length < 2;
      });
      pad.appendChild(b);
    });
    $("[data-sim-entry]").textContent = "";
    $("[data-sim-submit-entry]").disabled = true;
  }

  function startCountdown(expiresAt) {
    clearInterval(state.timer);
    var end = new Date(expiresAt).getTime();
    var el = $("[data-sim-expires]");
    function tick() {
      var left = Math.max(0, Math.round((end - Date.now()) / 1000));
      el.textContent = left > 0 ? "Expires in " + Math.floor(left / 60) + ":" + String(left % 60).padStart(2, "0") : "Expired";
      el.classList.toggle("expires-soon", left <= 15);
      if (left <= 0) { clearInterval(state.timer); }
    }
    tick();
    state.timer = setInterval(tick, 500);
  }

  function setButtonsDisabled(disabled) {
    $$("[data-sim-screen=challenge] button").forEach(function (b) {
      if (!b.classList.contains("key-empty")) { b.disabled = disabled; }
    });
    if (!disabled) { $("[data-sim-submit-entry]").disabled = state.entry.length < 2; }
  }

  function answer(decision, number) {
    if (!state.challenge || !state.phone) return;
    setButtonsDisabled(true);
    var body = { decision: decision };
    if (number !== undefined) { body.selected_number = number; }
    var id = state.challenge.challenge_id;
    call("POST", "phones/" + state.phone.id + "/challenges/" + id + "/respond/", body).then(function (r) {
      if (!r.ok) { showResult(r.data.code || "error", r.data.detail); return; }
      showResult(decision === "report" ? "reported" : r.data.status);
    }).catch(function () { showResult("unreachable"); });
  }

  var RESULTS = {
    approved: ["ok", "✓", "Approved", "You're signing in. Return to your computer."],
    denied: ["bad", "✕", "Request denied", "Nobody was signed in."],
    reported: ["bad", "⚑", "Reported", "The sign-in was blocked and your account's security team was told. Consider changing your password."],
    wrong_number: ["bad", "✕", "Wrong number", "That was not the number on the sign-in screen, so the request was denied. If it was you, start again on your computer."],
    challenge_expired: ["warn", "⏱", "Request expired", "It was not answered in time. Start again on your computer."],
    challenge_resolved: ["warn", "•", "Already answered", "This request was answered before."],
    not_found: ["warn", "?", "Request not found", "It may have been replaced by a newer one."],
    invalid_signature: ["bad", "⛔", "Phone not recognised", "This phone is no longer paired with the account."],
    unreachable: ["bad", "!", "No connection", "The site could not be reached."],
    error: ["bad", "!", "Something went wrong", ""]
  };

  function showResult(code, detail) {
    clearInterval(state.timer);
    var r = RESULTS[code] || RESULTS.error;
    var icon = $("[data-sim-result-icon]");
    icon.className = "screen-icon screen-icon-" + r[0];
    icon.textContent = r[1];
    $("[data-sim-result-title]").textContent = r[2];
    $("[data-sim-result-text]").textContent = r[3] || detail || "";
    var screen = $('[data-sim-screen="result"]');
    screen.setAttribute("data-sim-result", code);
    state.challenge = null;
    show("result");
    if (code === "invalid_signature") { stopListening(); } else { checkPending(true); }
  }

  // --- wiring -------------------------------------------------------------------------------------
  $("[data-sim-deny]").addEventListener("click", function () { answer("deny"); });
  $("[data-sim-report]").addEventListener("click", function () { answer("report"); });
  $("[data-sim-submit-entry]").addEventListener("click", function () { answer("approve", state.entry); });
  $("[data-sim-check]").addEventListener("click", function () { checkPending(false); });
  $("[data-sim-done]").addEventListener("click", function () {
    if (state.phone && state.phone.status === "active") { show("idle"); } else { show("inactive"); }
  });
  select.addEventListener("change", function () { selectPhone(select.value); });

  $("[data-sim-forget]").addEventListener("click", function () {
    if (!state.phone || !window.confirm("Forget " + state.phone.name + "? It is unregistered from the site too.")) return;
    var id = state.phone.id;
    call("POST", "phones/" + id + "/forget/", {}).then(function () {
      phones = phones.filter(function (p) { return p.id !== id; });
      renderPhoneOptions(phones.length ? phones[0].id : "");
      selectPhone(phones.length ? phones[0].id : "");
    });
  });

  $("[data-sim-pair-form]").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var error = $("[data-sim-pair-error]");
    error.hidden = true;
    var button = $("[data-sim-pair-submit]");
    button.disabled = true;
    call("POST", "pair/", { pairing_uri: $("[data-sim-pair-uri]").value, name: $("[data-sim-pair-name]").value })
      .then(function (r) {
        button.disabled = false;
        if (!r.ok) { error.textContent = r.data.detail || "Pairing failed."; error.hidden = false; return; }
        phones.unshift(r.data);
        renderPhoneOptions(r.data.id);
        $("[data-sim-pair-uri]").value = "";
        $(".sim-pair").open = false;
        selectPhone(r.data.id);
      }).catch(function () { button.disabled = false; error.textContent = "The simulator could not be reached."; error.hidden = false; });
  });

  tickClock();
  setInterval(tickClock, 15000);
  var initial = new URLSearchParams(window.location.search).get("phone") || (phones[0] && phones[0].id) || "";
  if (initial && phoneById(initial)) { select.value = String(initial); }
  selectPhone(initial && phoneById(initial) ? initial : "");
})();
