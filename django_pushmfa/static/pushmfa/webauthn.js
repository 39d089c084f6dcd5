/*
 * django-pushmfa: WebAuthn ceremonies (security keys and passkeys). Dependency-free.
 *
 * Markup (see templates/pushmfa/webauthn/register.html and pushmfa/authenticate.html):
 *   <div data-pushmfa-webauthn="authenticate" | "register"
 *        data-begin-url="..." data-complete-url="..." [data-success-url="..."] [data-csrf="..."]>
 *     <button data-pushmfa-webauthn-button>...</button>
 *     <p data-pushmfa-webauthn-error hidden></p>
 *     register only: <input data-pushmfa-webauthn-label>, <input type=checkbox data-pushmfa-webauthn-passkey>
 *     authenticate only: <input type=checkbox data-pushmfa-remember> (optional)
 *   </div>
 *
 * Events (bubbling, on the element): "pushmfa:webauthn-success" (detail: the server's JSON) and
 * "pushmfa:webauthn-error" (detail: {message, code}). Call preventDefault() on the success event to
 * stop the default navigation. Messages can be overridden with data-msg-cancelled,
 * data-msg-unsupported and data-msg-failed attributes (for translation).
 */
(function () {
  "use strict";

  function b64urlToBuffer(value) {
    var b64 = String(value).replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) { b64 += "="; }
    var binary = atob(b64);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) { bytes[i] = binary.charCodeAt(i); }
    return bytes.buffer;
  }

  function bufferToB64url(buffer) {
    var bytes = new Uint8Array(buffer);
    var binary = "";
    for (var i = 0; i < bytes.length; i++) { binary += String.fromCharCode(bytes[i]); }
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function csrfToken(el) {
    if (el.dataset.csrf) { return el.dataset.csrf; }
    var input = el.querySelector("input[name=csrfmiddlewaretoken]") ||
      document.querySelector("input[name=csrfmiddlewaretoken]");
    if (input && input.value) { return input.value; }
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function endpoint(el, name, fallback) {
    return el.getAttribute("data-" + name + "-url") || new URL(fallback, window.location.href).pathname;
  }

  function postJSON(el, url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "X-CSRFToken": csrfToken(el)
      },
      body: JSON.stringify(body || {})
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) {
          var error = new Error(data.detail || ("HTTP " + response.status));
          error.code = data.code || "http_" + response.status;
          error.fromServer = true;
          throw error;
        }
        return data;
      });
    });
  }

  function descriptors(list) {
    return (list || []).map(function (c) {
      var d = { type: c.type || "public-key", id: b64urlToBuffer(c.id) };
      if (c.transports) { d.transports = c.transports; }
      return d;
    });
  }

  function requestOptions(json) {
    var o = Object.assign({}, json);
    o.challenge = b64urlToBuffer(json.challenge);
    o.allowCredentials = descriptors(json.allowCredentials);
    return o;
  }

  function creationOptions(json) {
    var o = Object.assign({}, json);
    o.challenge = b64urlToBuffer(json.challenge);
    o.user = Object.assign({}, json.user, { id: b64urlToBuffer(json.user.id) });
    o.excludeCredentials = descriptors(json.excludeCredentials);
    return o;
  }

  function credentialJSON(credential) {
    var r = credential.response;
    var response = { clientDataJSON: bufferToB64url(r.clientDataJSON) };
    if (r.attestationObject) {
      response.attestationObject = bufferToB64url(r.attestationObject);
      if (typeof r.getTransports === "function") { response.transports = r.getTransports(); }
    } else {
      response.authenticatorData = bufferToB64url(r.authenticatorData);
      response.signature = bufferToB64url(r.signature);
      if (r.userHandle) { response.userHandle = bufferToB64url(r.userHandle); }
    }
    return {
      id: credential.id,
      rawId: bufferToB64url(credential.rawId),
      type: credential.type,
      response: response,
      authenticatorAttachment: credential.authenticatorAttachment || null,
      clientExtensionResults: credential.getClientExtensionResults ? credential.getClientExtensionResults() : {}
    };
  }

  function message(el, error) {
    if (error && error.fromServer) { return error.message; }
    if (error && (error.name === "NotAllowedError" || error.name === "AbortError")) {
      return el.dataset.msgCancelled || "The request was cancelled or timed out. Try again.";
    }
    if (error && error.name === "InvalidStateError") {
      return el.dataset.msgFailed || "This security key is already registered.";
    }
    return el.dataset.msgFailed || "The security key or passkey could not be used. Try again or use another method.";
  }

  function fire(el, name, detail) {
    return el.dispatchEvent(new CustomEvent(name, { bubbles: true, cancelable: true, detail: detail }));
  }

  function authenticate(el) {
    var remember = el.querySelector("[data-pushmfa-remember]");
    return postJSON(el, endpoint(el, "begin", "../api/webauthn/begin/"), {})
      .then(function (options) {
        return navigator.credentials.get({ publicKey: requestOptions(options) });
      })
      .then(function (credential) {
        var body = { credential: credentialJSON(credential) };
        if (remember) { body.remember_browser = !!remember.checked; }
        return postJSON(el, endpoint(el, "complete", "../api/webauthn/complete/"), body);
      })
      .then(function (data) {
        if (fire(el, "pushmfa:webauthn-success", data) && data.redirect_url) {
          window.location.assign(data.redirect_url);
        }
      });
  }

  function register(el) {
    var passkey = el.querySelector("[data-pushmfa-webauthn-passkey]");
    var label = el.querySelector("[data-pushmfa-webauthn-label]");
    return postJSON(el, endpoint(el, "begin", "../../api/webauthn/register/begin/"), { passkey: !!(passkey && passkey.checked) })
      .then(function (options) {
        return navigator.credentials.create({ publicKey: creationOptions(options) });
      })
      .then(function (credential) {
        return postJSON(el, endpoint(el, "complete", "../../api/webauthn/register/complete/"), {
          credential: credentialJSON(credential),
          label: label ? label.value : ""
        });
      })
      .then(function (data) {
        var done = el.querySelector("[data-pushmfa-webauthn-done]");
        if (done) { done.hidden = false; }
        if (fire(el, "pushmfa:webauthn-success", data)) {
          if (el.dataset.successUrl) { window.location.assign(el.dataset.successUrl); } else { window.location.reload(); }
        }
      });
  }

  function setup(el) {
    var mode = el.getAttribute("data-pushmfa-webauthn");
    var button = el.querySelector("[data-pushmfa-webauthn-button]") || el;
    var errorBox = el.querySelector("[data-pushmfa-webauthn-error]");
    if (!window.PublicKeyCredential || !navigator.credentials) {
      if (errorBox) {
        errorBox.textContent = el.dataset.msgUnsupported || "This browser does not support security keys or passkeys.";
        errorBox.hidden = false;
      }
      if (button !== el) { button.disabled = true; }
      return;
    }
    button.addEventListener("click", function (event) {
      event.preventDefault();
      if (button.disabled) { return; }
      button.disabled = true;
      if (errorBox) { errorBox.hidden = true; errorBox.textContent = ""; }
      var run = mode === "register" ? register : authenticate;
      run(el).catch(function (error) {
        var text = message(el, error);
        if (errorBox) { errorBox.textContent = text; errorBox.hidden = false; }
        fire(el, "pushmfa:webauthn-error", { message: text, code: (error && (error.code || error.name)) || "error" });
      }).then(function () { button.disabled = false; });
    });
  }

  function init() {
    var nodes = document.querySelectorAll("[data-pushmfa-webauthn]");
    for (var i = 0; i < nodes.length; i++) { setup(nodes[i]); }
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
  window.PushMFAWebAuthn = { init: init, b64urlToBuffer: b64urlToBuffer, bufferToB64url: bufferToB64url };
})();
