/*
 * django-pushmfa: drives the push section of the MFA step page. Dependency free, no build step.
 *
 * Markup (see templates/pushmfa/authenticate.html): an element with [data-pushmfa-push] and
 *   data-start-url   POST here to start a push (api/push/)
 *   data-autostart   "true": start a push as soon as the page loads
 *   data-challenge-id, data-poll-url, data-display-number, data-expires-at: follow an existing one
 * holding [data-pushmfa-state="idle|sending|pending|approved|denied|expired|error"] blocks (one shown
 * at a time), [data-pushmfa-number], [data-pushmfa-countdown], [data-pushmfa-error], a form
 * [data-pushmfa-push-form] whose submit starts a new push, and an optional [data-pushmfa-remember].
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
    this.challenge = null;
    this.generation = 0;   // bumps on every new challenge: stale poll loops stop
    this.timer = null;
  }

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
    this.root.setAttribute("data-pushmfa-current", state);
    if (state !== "pending") this.stopCountdown();
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
          self.fail(data.code || "error", data.detail || response.statusText, response.status);
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

  PushSection.prototype.networkMessage = function () {
    return this.root.getAttribute("data-network-error") || "Network error.";
  };

  PushSection.prototype.follow = function (challenge) {
    this.challenge = challenge;
    var generation = ++this.generation;
    var number = this.root.querySelector("[data-pushmfa-number]");
    if (number) number.textContent = challenge.number;
    this.show("pending");
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
        this.generation++;
        this.show("denied");
        this.emit("denied", {});
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

  PushSection.prototype.startCountdown = function (expiresAt) {
    var self = this;
    var wrap = this.root.querySelector("[data-pushmfa-countdown-wrap]");
    var out = this.root.querySelector("[data-pushmfa-countdown]");
    this.stopCountdown();
    if (!out || !expiresAt || isNaN(expiresAt)) return;
    if (wrap) wrap.hidden = false;
    function tick() {
      var left = Math.max(0, Math.round((expiresAt - Date.now()) / 1000));
      out.textContent = Math.floor(left / 60) + ":" + ("0" + (left % 60)).slice(-2);
    }
    tick();
    this.timer = setInterval(tick, 1000);
  };

  PushSection.prototype.stopCountdown = function () {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  };

  PushSection.prototype.init = function () {
    var self = this;
    if (this.form) {
      this.form.addEventListener("submit", function (event) {
        event.preventDefault();
        self.start();
      });
    }
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

  function init() {
    if (!window.fetch) return;  // the form + page refresh path keeps working
    var roots = document.querySelectorAll("[data-pushmfa-push]");
    for (var i = 0; i < roots.length; i++) {
      if (roots[i].pushmfa) continue;
      roots[i].pushmfa = new PushSection(roots[i]);
      roots[i].pushmfa.init();
    }
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
