/*
 * django-pushmfa: drives the push section of the MFA step page. Dependency free, no build step.
 *
 * Markup (see templates/pushmfa/authenticate.html): an element with [data-pushmfa-push] and
 *   data-start-url   POST here to start a push (api/push/)
 *   data-autostart   "true": start a push as soon as the page loads
 *   data-challenge-id, data-poll-url, data-display-number, data-expires-at: follow an existing one
 *   data-retry-after  seconds until a push may be sent (rate limited): the button waits until then
 * holding [data-pushmfa-state="idle|sending|pending|approved|denied|expired|error"] blocks (one shown
 * at a time), [data-pushmfa-number], [data-pushmfa-countdown], [data-pushmfa-error], a form
 * [data-pushmfa-push-form] whose submit starts a new push, and an optional [data-pushmfa-remember].
 * A [data-pushmfa-announce] live region, present from the start, announces the number and the
 * countdown's milestones (data-msg-number, data-msg-left); the countdown itself is not live. On
 * every state change the focus moves to the new state's [data-pushmfa-focus]. A 429 disables the
 * send button for the Retry-After seconds (data-msg-retry, data-msg-retry-button; "{time}").
 *
 * The account page: [data-pushmfa-pairing] watches api/credentials/ (data-credentials-url) for a
 * push credential not in data-known-ids and then shows its "paired" state; [data-pushmfa-copy]
 * buttons copy their value to the clipboard.
 *
 * Events, dispatched on the [data-pushmfa-push] element (they bubble, so listen on document):
 *   pushmfa:started   detail {challengeId, displayNumber, expiresAt}
 *   pushmfa:approved  detail {redirectUrl}     cancelable: preventDefault() stops the navigation
 *   pushmfa:denied    detail {}
 *   pushmfa:expired   detail {}
 *   pushmfa:error     detail {code, detail, status}   cancelable: for "mfa_not_in_progress" (the login
 *                     attempt timed out) the page reloads, which leads back to the login page
 * Without this script the page still works: the form starts a push and the page refreshes itself.
 */
(function () {
  "use strict";

  var WAIT_SECONDS = 25;        // long-poll window per request (the server caps it at 30)
  var MAX_NETWORK_RETRIES = 5;  // consecutive network failures before giving up
  var CONSUMED_RELOAD_DELAY_MS = 2000;  // see "consumed" in handle()
  var MILESTONES = [60, 30, 10];  // seconds left that are announced (never every second)
  var URGENT_SECONDS = 20;      // the countdown turns urgent below this
  var PAIRING_POLL_MS = 2000;   // how often the account page looks for the newly paired phone
  var REASON_TRIES = 4;         // re-reads of a denied push whose reason is not logged yet
  var REASON_DELAY_MS = 300;

  function clock(seconds) {
    return Math.floor(seconds / 60) + ":" + ("0" + (seconds % 60)).slice(-2);
  }

  function fill(template, values) {
    return String(template || "").replace(/\{(\w+)\}/g, function (all, key) {
      return Object.prototype.hasOwnProperty.call(values, key) ? values[key] : all;
    });
  }

  function focusFirst(container) {
    if (!container) return;
    var targets = container.querySelectorAll("[data-pushmfa-focus], h2[tabindex]");
    for (var i = 0; i < targets.length; i++) {
      if (!targets[i].hidden) { targets[i].focus({ preventScroll: false }); return; }
    }
  }

  function csrfToken(root) {
    var input = root.querySelector("input[name=csrfmiddlewaretoken]") ||
      document.querySelector("input[name=csrfmiddlewaretoken]");
    if (input && input.value) return input.value;
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function PushSection(root) {
    this.root = root;
    this.form = root.querySelector("[data-pushmfa-push-form]");
    this.remember = root.querySelector("[data-pushmfa-remember]");
    this.announcer = root.querySelector("[data-pushmfa-announce]");
    this.challenge = null;
    this.generation = 0;   // bumps on every new challenge: stale poll loops stop
    this.timer = null;
    this.retryTimer = null;
  }

  PushSection.prototype.announce = function (text) {
    if (this.announcer && text) this.announcer.textContent = text;
  };

  PushSection.prototype.message = function (name, values) {
    return fill(this.root.getAttribute("data-msg-" + name), values || {});
  };

  PushSection.prototype.emit = function (name, detail) {
    var event;
    try {
      event = new CustomEvent("pushmfa:" + name, { bubbles: true, cancelable: true, detail: detail || {} });
    } catch (e) {  // very old browsers
      event = document.createEvent("CustomEvent");
      event.initCustomEvent("pushmfa:" + name, true, true, detail || {});
    }
    return this.root.dispatchEvent(event);
  };

  PushSection.prototype.show = function (state) {
    var blocks = this.root.querySelectorAll("[data-pushmfa-state]");
    for (var i = 0; i < blocks.length; i++) {
      blocks[i].hidden = blocks[i].getAttribute("data-pushmfa-state") !== state;
    }
    if (this.form) this.form.hidden = state === "pending" || state === "sending" || state === "approved";
    var send = this.root.querySelector("[data-pushmfa-send]");
    if (send) {
      send.disabled = state === "sending";
      if (state !== "idle" && send.getAttribute("data-again-label")) send.textContent = send.getAttribute("data-again-label");
    }
    var remember = this.root.querySelector("[data-pushmfa-remember]");
    if (remember && remember.closest) {
      var label = remember.closest("label");
      if (label) label.hidden = state === "approved";
    }
    var previous = this.root.getAttribute("data-pushmfa-current");
    this.root.setAttribute("data-pushmfa-current", state);
    if (state !== "pending") this.stopCountdown();
    // Every change of state moves the focus to what the new state says (screen readers read it).
    if (previous && previous !== state) {
      focusFirst(this.root.querySelector('[data-pushmfa-state="' + state + '"]'));
    }
  };

  PushSection.prototype.fail = function (code, detail, status) {
    this.generation++;
    var message = this.root.querySelector("[data-pushmfa-error]");
    if (message) message.textContent = detail || "";
    this.show("error");
    var proceed = this.emit("error", { code: code, detail: detail, status: status });
    // The login attempt itself is over (timed out, signed out in another tab): reloading the page
    // takes the browser back to the login page. preventDefault() on the event keeps the page.
    if (proceed && code === "mfa_not_in_progress") window.location.reload();
  };

  PushSection.prototype.start = function () {
    var self = this;
    var generation = ++this.generation;
    this.show("sending");
    var body = {};
    if (this.remember && this.remember.checked) body.remember_browser = true;
    fetch(this.root.getAttribute("data-start-url"), {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "X-CSRFToken": csrfToken(this.root),
        "X-Requested-With": "XMLHttpRequest"
      },
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (generation !== self.generation) return;
        if (response.status !== 201) {
          var wait = parseInt(response.headers.get("Retry-After") || "", 10);
          self.fail(data.code || "error", data.detail || response.statusText, response.status);
          if (response.status === 429 && wait > 0) self.holdOff(wait);
          return;
        }
        self.follow({
          id: data.challenge_id,
          number: data.display_number,
          pollUrl: data.poll_url,
          expiresAt: Date.parse(data.expires_at)
        });
      });
    }, function () {
      if (generation === self.generation) self.fail("network_error", self.networkMessage(), 0);
    });
  };

  // Rate limited: say when a new push can be sent, and keep the button disabled until then.
  PushSection.prototype.holdOff = function (seconds) {
    var self = this;
    var until = Date.now() + seconds * 1000;
    var send = this.root.querySelector("[data-pushmfa-send]");
    var out = this.root.querySelector("[data-pushmfa-error]");
    var label = send ? send.textContent : "";
    if (this.retryTimer) clearInterval(this.retryTimer);
    function tick() {
      var left = Math.max(0, Math.ceil((until - Date.now()) / 1000));
      if (left <= 0) {
        clearInterval(self.retryTimer);
        self.retryTimer = null;
        if (send) { send.disabled = false; send.textContent = label; }
        return;
      }
      if (out && self.root.getAttribute("data-pushmfa-current") === "error") out.textContent = self.message("retry", { time: clock(left) });
      if (send) { send.disabled = true; send.textContent = self.message("retry-button", { time: clock(left) }); }
    }
    tick();
    this.root.setAttribute("data-pushmfa-retry-after", String(seconds));
    this.retryTimer = setInterval(tick, 1000);
  };

  PushSection.prototype.networkMessage = function () {
    return this.root.getAttribute("data-network-error") || "Network error.";
  };

  PushSection.prototype.follow = function (challenge) {
    this.challenge = challenge;
    this.reasonTries = 0;
    var generation = ++this.generation;
    var number = this.root.querySelector("[data-pushmfa-number]");
    if (number) number.textContent = challenge.number;
    this.show("pending");
    this.announce(this.message("number", { number: challenge.number }));
    this.startCountdown(challenge.expiresAt);
    this.emit("started", { challengeId: challenge.id, displayNumber: challenge.number, expiresAt: challenge.expiresAt });
    this.poll(generation, 0);
  };

  PushSection.prototype.poll = function (generation, failures) {
    var self = this;
    if (generation !== this.generation) return;
    var url = this.challenge.pollUrl + (this.challenge.pollUrl.indexOf("?") < 0 ? "?" : "&") + "wait=" + WAIT_SECONDS;
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" }, cache: "no-store" })
      .then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (data) {
          if (generation !== self.generation) return;
          if (response.status !== 200) {
            if (response.status >= 500 && failures < MAX_NETWORK_RETRIES) {
              self.retry(generation, failures + 1);
            } else {
              self.fail(data.code || "error", data.detail || response.statusText, response.status);
            }
            return;
          }
          self.handle(generation, data);
        });
      }, function () {
        if (generation !== self.generation) return;
        if (failures < MAX_NETWORK_RETRIES) self.retry(generation, failures + 1);
        else self.fail("network_error", self.networkMessage(), 0);
      });
  };

  PushSection.prototype.pollOnce = function (generation) {
    var self = this;
    if (generation !== this.generation) return;
    fetch(this.challenge.pollUrl, { credentials: "same-origin", headers: { "Accept": "application/json" }, cache: "no-store" })
      .then(function (response) { return response.json(); })
      .then(function (data) { if (generation === self.generation) self.handle(generation, data); },
            function () { if (generation === self.generation) self.handle(generation, { status: "denied", reason: null, final: true }); });
  };

  PushSection.prototype.retry = function (generation, failures) {
    var self = this;
    setTimeout(function () { self.poll(generation, failures); }, Math.min(8000, 500 * Math.pow(2, failures)));
  };

  PushSection.prototype.handle = function (generation, data) {
    switch (data.status) {
      case "pending":
        this.poll(generation, 0);
        return;
      case "approved":
        this.generation++;
        this.show("approved");
        if (this.emit("approved", { redirectUrl: data.redirect_url }) && data.redirect_url) {
          window.location.assign(data.redirect_url);
        }
        return;
      case "denied":
        // The phone's answer reaches the log a moment after the challenge: ask again, briefly, so
        // the page can say what happened (a wrong number, a denial, a report) rather than guess.
        if (!data.reason && !data.final && (this.reasonTries = (this.reasonTries || 0) + 1) <= REASON_TRIES) {
          var self = this;
          setTimeout(function () { self.pollOnce(generation); }, REASON_DELAY_MS);
          return;
        }
        this.reasonTries = 0;
        this.generation++;
        this.showReason(data.reason);
        this.show("denied");
        this.emit("denied", { reason: data.reason || null });
        return;
      case "consumed":
        // Approved, and another tab (or an earlier poll) of this same session used it: the session is
        // signed in now. Reloading lets the server send the page on to where the login was going; it
        // waits a moment so that the winning tab's answer (the new session cookie) lands first.
        this.generation++;
        this.show("approved");
        setTimeout(function () { window.location.reload(); }, CONSUMED_RELOAD_DELAY_MS);
        return;
      case "expired":
        this.generation++;
        this.show("expired");
        this.emit("expired", {});
        return;
      default:
        this.fail("error", "", 200);
    }
  };

  // The server knows why a push was denied ("wrong_number", "denied", "reported"): say it.
  PushSection.prototype.showReason = function (reason) {
    var lines = this.root.querySelectorAll("[data-pushmfa-denied]");
    var known = false;
    for (var i = 0; i < lines.length; i++) known = known || lines[i].getAttribute("data-pushmfa-denied") === reason;
    for (var j = 0; j < lines.length; j++) {
      lines[j].hidden = lines[j].getAttribute("data-pushmfa-denied") !== (known ? reason : "denied");
    }
  };

  PushSection.prototype.startCountdown = function (expiresAt) {
    var self = this;
    var wrap = this.root.querySelector("[data-pushmfa-countdown-wrap]");
    var out = this.root.querySelector("[data-pushmfa-countdown]");
    var announced = {};
    this.stopCountdown();
    if (!out || !expiresAt || isNaN(expiresAt)) return;
    if (wrap) wrap.hidden = false;
    function tick() {
      var left = Math.max(0, Math.round((expiresAt - Date.now()) / 1000));
      out.textContent = clock(left);
      if (wrap) wrap.classList.toggle("pushmfa-countdown--urgent", left <= URGENT_SECONDS);
      for (var i = 0; i < MILESTONES.length; i++) {
        var mark = MILESTONES[i];
        if (left <= mark && left > mark - 5 && !announced[mark]) {
          announced[mark] = true;
          self.announce(self.message("left", { time: clock(left) }));
        }
        if (left <= mark) announced[mark] = true;  // a page opened late announces no stale milestone
      }
    }
    for (var m = 0; m < MILESTONES.length; m++) {
      if (Math.round((expiresAt - Date.now()) / 1000) <= MILESTONES[m]) announced[MILESTONES[m]] = true;
    }
    tick();
    this.timer = setInterval(tick, 1000);
  };

  PushSection.prototype.stopCountdown = function () {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  };

  // "Trust this browser" ticked or unticked after the push was sent: the MFA page keeps the choice
  // in the session, where the poll that sees the approval reads it.
  PushSection.prototype.sendRemember = function () {
    if (!this.form || !window.FormData) return;
    var data = new FormData();
    data.append("csrfmiddlewaretoken", csrfToken(this.root));
    data.append("action", "remember");
    if (this.remember.checked) data.append("remember", "on");
    fetch(this.form.getAttribute("action"), {
      method: "POST", credentials: "same-origin", body: data, headers: { "X-Requested-With": "XMLHttpRequest" }
    }).catch(function () { /* the choice is also sent with the next push */ });
  };

  // The page goes away (reload, close, navigation) while its long poll waits on the server: tell the
  // server, so that poll never claims an approval whose login nobody would receive (the page still
  // open, or the reloaded one, claims it instead).
  PushSection.prototype.leave = function () {
    if (!this.challenge || !this.form || !navigator.sendBeacon || !window.FormData) return;
    if (this.root.getAttribute("data-pushmfa-current") !== "pending") return;
    var data = new FormData();
    data.append("csrfmiddlewaretoken", csrfToken(this.root));
    data.append("action", "leave");
    data.append("challenge", this.challenge.id);
    navigator.sendBeacon(this.form.getAttribute("action"), data);
  };

  PushSection.prototype.init = function () {
    var self = this;
    window.addEventListener("pagehide", function () { self.leave(); });
    // Back from the back/forward cache: the poll that was cut off when the page was hidden resumes.
    window.addEventListener("pageshow", function (event) {
      if (event.persisted && self.challenge && self.root.getAttribute("data-pushmfa-current") === "pending") {
        self.poll(++self.generation, 0);
      }
    });
    if (this.remember) {
      this.remember.addEventListener("change", function () {
        if (self.root.getAttribute("data-pushmfa-current") === "pending") self.sendRemember();
      });
    }
    if (this.form) {
      this.form.addEventListener("submit", function (event) {
        event.preventDefault();
        self.start();
      });
    }
    // Rate limited when the page was made (the form without this script): count down to the retry.
    var retryAfter = parseInt(this.root.getAttribute("data-retry-after") || "", 10);
    if (retryAfter > 0) this.holdOff(retryAfter);
    var id = this.root.getAttribute("data-challenge-id");
    if (id && this.root.getAttribute("data-poll-url")) {
      this.follow({
        id: id,
        number: this.root.getAttribute("data-display-number"),
        pollUrl: this.root.getAttribute("data-poll-url"),
        expiresAt: Date.parse(this.root.getAttribute("data-expires-at"))
      });
    } else if (this.root.getAttribute("data-autostart") === "true") {
      this.start();
    }
  };

  // --- the account page: pairing a phone ---------------------------------------------------------
  function PairingWatch(root) {
    this.root = root;
    this.known = (root.getAttribute("data-known-ids") || "").split(/\s+/).filter(Boolean);
    this.expiresAt = Date.parse(root.getAttribute("data-expires-at") || "");
  }

  PairingWatch.prototype.show = function (state) {
    var blocks = this.root.querySelectorAll("[data-pushmfa-pairing-state]");
    for (var i = 0; i < blocks.length; i++) blocks[i].hidden = blocks[i].getAttribute("data-pushmfa-pairing-state") !== state;
    this.root.setAttribute("data-pushmfa-pairing-current", state);
    focusFirst(this.root.querySelector('[data-pushmfa-pairing-state="' + state + '"]'));
  };

  PairingWatch.prototype.check = function () {
    var self = this;
    if (!isNaN(this.expiresAt) && Date.now() > this.expiresAt) { this.show("expired"); return; }
    fetch(this.root.getAttribute("data-credentials-url"), {
      credentials: "same-origin", headers: { "Accept": "application/json" }, cache: "no-store"
    }).then(function (response) {
      return response.ok ? response.json() : null;
    }).then(function (data) {
      var found = null;
      var list = (data && data.credentials) || [];
      for (var i = 0; i < list.length; i++) {
        if (list[i].method === "push" && self.known.indexOf(String(list[i].id)) < 0) found = list[i];
      }
      if (found) {
        var name = self.root.querySelector("[data-pushmfa-paired-name]");
        if (name) name.textContent = found.label;
        self.show("paired");
      } else {
        setTimeout(function () { self.check(); }, PAIRING_POLL_MS);
      }
    }, function () {
      setTimeout(function () { self.check(); }, PAIRING_POLL_MS * 2);
    });
  };

  PairingWatch.prototype.init = function () {
    var wait = this.root.querySelector("[data-pushmfa-pairing-wait]");
    if (!this.root.getAttribute("data-credentials-url")) return;
    if (wait) wait.hidden = false;
    this.check();
  };

  function initCopyButtons() {
    var buttons = document.querySelectorAll("[data-pushmfa-copy]");
    for (var i = 0; i < buttons.length; i++) {
      var button = buttons[i];
      if (!navigator.clipboard || !window.isSecureContext) continue;  // stays hidden: the link is shown instead
      button.hidden = false;
      button.addEventListener("click", function (event) {
        var target = event.currentTarget;
        navigator.clipboard.writeText(target.getAttribute("data-pushmfa-copy")).then(function () {
          target.textContent = target.getAttribute("data-copied-label") || target.textContent;
        });
      });
    }
  }

  function init() {
    if (!window.fetch) return;  // the form + page refresh path keeps working
    var roots = document.querySelectorAll("[data-pushmfa-push]");
    for (var i = 0; i < roots.length; i++) {
      if (roots[i].pushmfa) continue;
      roots[i].pushmfa = new PushSection(roots[i]);
      roots[i].pushmfa.init();
    }
    var pairings = document.querySelectorAll("[data-pushmfa-pairing]");
    for (var j = 0; j < pairings.length; j++) {
      if (pairings[j].pushmfa) continue;
      pairings[j].pushmfa = new PairingWatch(pairings[j]);
      pairings[j].pushmfa.init();
    }
    initCopyButtons();
    // A mistyped code comes back selected, ready to be corrected.
    var mistyped = document.querySelector("[data-pushmfa-select]");
    if (mistyped) { mistyped.focus(); mistyped.select(); }
  }

  // Forms marked data-pushmfa-confirm="<question>" ask before submitting (the account page's "Remove").
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form && form.getAttribute && form.getAttribute("data-pushmfa-confirm");
    if (question && !window.confirm(question)) event.preventDefault();
  });

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
  window.PushMFA = { init: init };
})();
