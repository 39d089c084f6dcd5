import assert from "node:assert/strict";
import { webcrypto } from "node:crypto";
import { test } from "node:test";

import { derEcdsaToRaw, rawEcdsaToDer } from "../src/der.js";
import { fromBase64, fromHex, toBase64, toBase64Url, fromBase64Url, toHex } from "../src/encoding.js";

test("DER: a high bit gets a zero byte, leading zeros go", () => {
  const raw = new Uint8Array(64);
  raw[0] = 0x80; // r = 0x80 00..00: needs a 0x00 pad
  raw[63] = 0x01; // s = 1: 31 leading zeros stripped
  assert.equal(toHex(rawEcdsaToDer(raw)), "3026" + "022100" + "80" + "00".repeat(31) + "020101");
});

test("DER: zero halves encode as one zero byte", () => {
  assert.equal(toHex(rawEcdsaToDer(new Uint8Array(64))), "3006020100020100");
});

test("DER: round trip over many random signatures, and Node's own DER verifier agrees", async () => {
  const { privateKey, publicKey } = (await webcrypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
    "sign",
    "verify",
  ])) as CryptoKeyPair;
  const { createPublicKey, verify } = await import("node:crypto");
  const spki = new Uint8Array(await webcrypto.subtle.exportKey("spki", publicKey));
  const nodeKey = createPublicKey({ key: Buffer.from(spki), format: "der", type: "spki" });
  for (let i = 0; i < 50; i++) {
    const message = webcrypto.getRandomValues(new Uint8Array(40));
    const raw = new Uint8Array(await webcrypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, privateKey, message));
    const der = rawEcdsaToDer(raw);
    assert.deepEqual(derEcdsaToRaw(der), raw);
    assert.ok(verify("sha256", message, { key: nodeKey, dsaEncoding: "der" }, der), "Node reads the DER");
  }
});

test("DER: malformed input is refused", () => {
  for (const hex of ["", "3000", "3006020100020100ff", "31060201000201ff", "3006020000020100", "300602010003010001"]) {
    assert.throws(() => derEcdsaToRaw(fromHex(hex)), TypeError, hex);
  }
  assert.throws(() => rawEcdsaToDer(new Uint8Array(63)), TypeError);
});

test("base64: standard with padding, as Node's", () => {
  for (let n = 0; n < 40; n++) {
    const bytes = webcrypto.getRandomValues(new Uint8Array(n));
    const expected = Buffer.from(bytes).toString("base64");
    assert.equal(toBase64(bytes), expected);
    assert.deepEqual(fromBase64(expected), bytes);
    assert.deepEqual(fromBase64Url(toBase64Url(bytes)), bytes);
  }
  for (const bad of ["abc", "ab=c", "a===", "ab$=", "YQ"]) assert.throws(() => fromBase64(bad), TypeError, bad);
});
