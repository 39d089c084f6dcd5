import assert from "node:assert/strict";
import { test } from "node:test";

import { derEcdsaToRaw } from "../src/der.js";
import { fromBase64, toBase64, utf8 } from "../src/encoding.js";
import { authorizationHeader, bodyHash, canonicalMessage, newNonce } from "../src/signing.js";
import { p256SpkiFromRawPoint, WebCryptoSigner } from "../src/signer.js";
import { ed25519Signer, p256PublicKey, p256Signer, subtle } from "./keys.js";
import { ED25519, P256 } from "./vectors.js";

test("the body hash of the worked example", async () => {
  assert.equal(await bodyHash(utf8(ED25519.body)), ED25519.bodyHash);
  assert.equal(await bodyHash(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
});

test("the canonical bytes of both worked examples", async () => {
  const ed = canonicalMessage(ED25519.method, ED25519.path, ED25519.ts, ED25519.nonce, await bodyHash(utf8(ED25519.body)));
  assert.deepEqual(ed, utf8(ED25519.signed));
  const p = canonicalMessage("get", P256.path, P256.ts, P256.nonce, await bodyHash());
  assert.deepEqual(p, utf8(P256.signed)); // the method is upper-cased
});

test("Ed25519: the documented header, byte for byte", async () => {
  const signer = await ed25519Signer();
  assert.equal(signer.algorithm, "ed25519");
  assert.equal(toBase64(await signer.publicKeySpki()), ED25519.publicKeyB64);
  const header = await authorizationHeader(signer, {
    deviceId: ED25519.deviceId,
    method: ED25519.method,
    path: ED25519.path,
    body: utf8(ED25519.body),
    ts: ED25519.ts,
    nonce: ED25519.nonce,
  });
  assert.equal(header, ED25519.header);
});

test("P-256: the documented DER signature verifies over the documented bytes", async () => {
  const raw = derEcdsaToRaw(fromBase64(P256.signatureB64));
  const ok = await subtle.verify({ name: "ECDSA", hash: "SHA-256" }, await p256PublicKey(), raw, utf8(P256.signed));
  assert.equal(ok, true);
  const tampered = utf8(P256.signed.replace("GET", "PUT"));
  assert.equal(await subtle.verify({ name: "ECDSA", hash: "SHA-256" }, await p256PublicKey(), raw, tampered), false);
});

test("P-256: the WebCrypto signer makes DER signatures of the documented key that verify", async () => {
  const signer = await p256Signer();
  assert.equal(toBase64(await signer.publicKeySpki()), P256.publicKeyB64);
  const header = await authorizationHeader(signer, {
    deviceId: ED25519.deviceId,
    method: P256.method,
    path: P256.path,
    ts: P256.ts,
    nonce: P256.nonce,
  });
  const match = /^PushMFA-Signature device="([^"]+)", ts="(\d+)", nonce="([^"]+)", sig="([^"]+)"$/.exec(header);
  assert.ok(match, header);
  assert.deepEqual(match.slice(1, 4), [ED25519.deviceId, P256.ts, P256.nonce]);
  const der = fromBase64(match[4]!);
  assert.equal(der[0], 0x30);
  assert.ok(der.length >= 8 && der.length <= 72, `DER length ${der.length}`);
  const raw = derEcdsaToRaw(der);
  assert.ok(await subtle.verify({ name: "ECDSA", hash: "SHA-256" }, await p256PublicKey(), raw, utf8(P256.signed)));
});

test("generated keys: private key not extractable, public key is SPKI", async () => {
  for (const algorithm of ["p256", "ed25519"] as const) {
    const signer = await WebCryptoSigner.generate(algorithm);
    assert.equal(signer.algorithm, algorithm);
    assert.equal(signer.keyPair.privateKey.extractable, false);
    await assert.rejects(subtle.exportKey("pkcs8", signer.keyPair.privateKey));
    const spki = await signer.publicKeySpki();
    assert.equal(spki.length, algorithm === "p256" ? 91 : 44);
    if (algorithm === "p256") assert.deepEqual(p256SpkiFromRawPoint(spki.subarray(26)), spki);
  }
});

test("nonces are fresh and within the allowed alphabet and length", () => {
  const seen = new Set<string>();
  for (let i = 0; i < 200; i++) {
    const nonce = newNonce();
    assert.match(nonce, /^[A-Za-z0-9_-]{32}$/);
    seen.add(nonce);
  }
  assert.equal(seen.size, 200);
});

test("the header refuses a malformed nonce, ts or device id", async () => {
  const signer = await ed25519Signer();
  const base = { deviceId: ED25519.deviceId, method: "GET", path: "/x/", ts: 1, nonce: "a".repeat(16) };
  await assert.doesNotReject(authorizationHeader(signer, base));
  await assert.rejects(authorizationHeader(signer, { ...base, nonce: "short" }), TypeError);
  await assert.rejects(authorizationHeader(signer, { ...base, nonce: "a".repeat(15) + '"' }), TypeError);
  await assert.rejects(authorizationHeader(signer, { ...base, ts: "-1" }), TypeError);
  await assert.rejects(authorizationHeader(signer, { ...base, deviceId: 'x", sig="y' }), TypeError);
});
