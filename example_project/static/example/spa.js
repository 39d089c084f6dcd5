/*
 * The example site's single-page app: signs in over django-pushmfa's API as an app client.
 * No cookies ("credentials: omit"), no CSRF token: the session key travels in X-Session-Token.
 *   1. POST api/app/login/ {username, password} -> {status, session_token, methods}
 *   2. mfa_required: POST api/push/, then long-poll its poll_url until "approved" (or verify a TOTP code)
 *   3. the approving answer carries the new session_token (the old one stops working)
 *   4. GET /api/me/ (the site's own DRF view, SessionTokenAuthentication) with the token
 * The token is kept in memory only: a reload signs the app out.
 */
(function () {
  "use strict";

  var root = document.querySelector("[data-spa]");
  if (!root) return;
  var token = null;
  var generation = 0;

  function url(name) { return root.getAttribute("data-" + name + "-url"); }

  function call(method, path, body) {
    var headers = { "Accept": "application/json" };
    if (token) headers["X-Session-Token"] = token;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    return fetch(path, {
      method: method,
      credentials: "omit",
      cache: "no-store",
      headers: headers,
      body: body === undefined ? undefined : JSON.stringify(body)
    }).then(function (response) {
      if (response.status === 204) return { status: 204, data: {} };
      return response.json().catch(function () { return {}; }).then(function (data) {
        return { status: response.status, data: data, retryAfter: response.headers.get("Retry-After") };
      });
    });
  }

  function show(step) {
    var steps = root.querySelectorAll("[data-spa-step]");
    for (var i = 0; i < steps.length; i++) steps[i].hidden = steps[i].getAttribute("data-spa-step") !== step;
    error("");
  }

  function error(text) {
    var box = root.querySelector("[data-spa-error]");
    box.textContent = text;
    box.hidden = !text;
  }

  function signedIn(data) {
    if (data.session_token) token = data.session_token;
    generation++;
    call("GET", url("me")).then(function (res) {
      if (res.status !== 200) { error(res.data.detail || "The protected view refused the token."); return; }
      show("done");
      root.querySelector("[data-spa-me]").textContent = "Signed in as " + res.data.username + " (the API said so).";
    });
  }

  function poll(pollUrl, mine) {
    if (mine !== generation) return;
    call("GET", pollUrl + "?wait=25").then(function (res) {
      if (mine !== generation) return;
      var status = res.data.status;
      if (res.status === 200 && status === "approved") { signedIn(res.data); return; }
      if (res.status === 200 && status === "pending") { poll(pollUrl, mine); return; }
      root.querySelector("[data-spa-push-status]").textContent =
        status === "denied" ? "The request was denied on your phone." :
        status ? "The request " + status + ". Sign in again." : (res.data.detail || "Error.");
    }, function () { if (mine === generation) setTimeout(function () { poll(pollUrl, mine); }, 2000); });
  }

  function startPush() {
    var mine = ++generation;
    call("POST", url("push"), {}).then(function (res) {
      if (res.status !== 201) { error(res.data.detail || "The push could not be sent."); return; }
      root.querySelector("[data-spa-number]").textContent = res.data.display_number;
      poll(res.data.poll_url, mine);
    });
  }

  root.querySelector('[data-spa-step="login"]').addEventListener("submit", function (event) {
    event.preventDefault();
    var form = event.target;
    call("POST", url("login"), { username: form.username.value, password: form.password.value }).then(function (res) {
      if (res.status === 429) { error("Too many attempts. Try again in " + res.retryAfter + " seconds."); return; }
      if (res.status !== 200) { error(res.data.detail || "Sign-in failed."); return; }
      token = res.data.session_token;
      if (res.data.status === "authenticated") { signedIn(res.data); return; }
      show("push");
      var methods = (res.data.methods || []).map(function (m) { return m.method; });
      root.querySelector("[data-spa-totp]").hidden = methods.indexOf("totp") < 0;
      if (methods.indexOf("push") >= 0) startPush();
      else root.querySelector("[data-spa-push-status]").textContent = "Use a code from your authenticator app.";
    });
  });

  root.querySelector("[data-spa-totp]").addEventListener("submit", function (event) {
    event.preventDefault();
    call("POST", url("totp"), { code: event.target.code.value }).then(function (res) {
      if (res.status === 200 && res.data.status === "approved") signedIn(res.data);
      else error(res.data.detail || "That code is not valid.");
    });
  });

  root.querySelector("[data-spa-logout]").addEventListener("click", function () {
    call("POST", url("logout")).then(function () {
      token = null;
      generation++;
      show("login");
    });
  });
})();
