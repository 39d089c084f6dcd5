/** What the client puts on the wire, captured at the fetch boundary and checked against the contract. */
import assert from "node:assert/strict";
import { test } from "node:test";

import { DeviceClient } from "../src/client.js";
import { derEcdsaToRaw } from "../src/der.js";
import { fromBase64, utf8 } from "../src/encoding.js";
import {
  AuthenticationError,
  ChallengeExpiredError,
  NetworkError,
  PushMFAError,
  RateLimitedError,
  ValidationError,
  WrongNumberError,
} from "../src/errors.js";
import { bodyHash, canonicalMessage } from "../src/signing.js";
import { WebCryptoSigner } from "../src/signer.js";
import { subtle } from "./keys.js";

interface Sent {
  url: string;
  init: RequestInit;
}

function recorder(status: number, answer: unknown, headers: Record<string, string> = {}) {
  const sent: Sent[] = [];
  const fetch = async (url: string, init: RequestInit) => {
    sent.push({ url, init });
    const body = answer === undefined ? null : JSON.stringify(answer);
    return new Response(body, { status, headers: { "Content-Type": "application/json", ...headers } });
  };
  return { sent, fetch };
}

const DEVICE = "6f1c1f2e-8a4b-4c1d-9d7e-0a1b2c3d4e5f";
const CHALLENGE = "0b6f1d9e-3c2a-4e8b-9f1a-2d3c4b5a6e7f";

async function verifies(signer: WebCryptoSigner, sent: Sent): Promise<boolean> {
  const header = (sent.init.headers as Record<string, string>).Authorization!;
  const m = /^PushMFA-Signature device="([^"]+)", ts="(\d+)", nonce="([^"]+)", sig="([^"]+)"$/.exec(header)!;
  const url = new URL(sent.url);
  const body = (sent.init.body as Uint8Array | undefined) ?? new Uint8Array(0);
  const message = canonicalMessage(sent.init.method!, url.pathname + url.search, m[2]!, m[3]!, await bodyHash(body));
  const raw = derEcdsaToRaw(fromBase64(m[4]!));
  return subtle.verify({ name: "ECDSA", hash: "SHA-256" }, signer.keyPair.publicKey, raw, message);
}

test("register sends the SPKI key unsigned and keeps the device id", async () => {
  const signer = await WebCryptoSigner.generate("p256");
  const { sent, fetch } = recorder(201, { device_id: DEVICE });
  const phone = await DeviceClient.pair(
    `pushmfa://pair?token=tok&server=${encodeURIComponent("https://example.com/mfa/api/")}&v=1`,
    { signer, platform: "unifiedpush", pushToken: "https://ntfy.example.net/upAbc?up=1", name: "Pixel", fetch },
  );
  assert.equal(phone.deviceId, DEVICE);
  assert.equal(sent[0]!.url, "https://example.com/mfa/api/device/register/");
  assert.equal(sent[0]!.init.method, "POST");
  const headers = sent[0]!.init.headers as Record<string, string>;
  assert.equal(headers.Authorization, undefined);
  const body = JSON.parse(new TextDecoder().decode(sent[0]!.init.body as Uint8Array));
  assert.deepEqual(Object.keys(body).sort(), ["name", "pairing_token", "platform", "public_key", "push_token"]);
  assert.equal(body.public_key, Buffer.from(await signer.publicKeySpki()).toString("base64"));
  assert.equal(body.platform, "unifiedpush");
});

test("a poll-only registration sends no push token", async () => {
  const signer = await WebCryptoSigner.generate("p256");
  const { sent, fetch } = recorder(201, { device_id: DEVICE });
  const phone = new DeviceClient({ server: "https://example.com/mfa/api/", signer, fetch });
  await phone.register({ pairingToken: "tok", platform: "none" });
  const body = JSON.parse(new TextDecoder().decode(sent[0]!.init.body as Uint8Array));
  assert.equal("push_token" in body, false);
});

test("respond signs exactly the bytes it sends, under the mount path, without cookies or redirects", async () => {
  const signer = await WebCryptoSigner.generate("p256");
  const { sent, fetch } = recorder(200, { status: "approved" });
  const phone = new DeviceClient({ server: "https://example.com/mfa/api/", signer, deviceId: DEVICE, fetch });
  assert.deepEqual(await phone.approve(CHALLENGE, "47"), { status: "approved" });
  const call = sent[0]!;
  assert.equal(call.url, `https://example.com/mfa/api/device/challenges/${CHALLENGE}/respond/`);
  assert.equal(new TextDecoder().decode(call.init.body as Uint8Array), '{"decision":"approve","selected_number":"47"}');
  assert.equal(call.init.credentials, "omit");
  assert.equal(call.init.redirect, "error");
  assert.ok(await verifies(signer, call));
  // Every request gets a new nonce.
  await phone.deny(CHALLENGE);
  const nonce = (s: Sent) => /nonce="([^"]+)"/.exec((s.init.headers as Record<string, string>).Authorization!)![1];
  assert.notEqual(nonce(sent[0]!), nonce(sent[1]!));
  assert.ok(await verifies(signer, sent[1]!));
});

test("the clock comes from the now option", async () => {
  const signer = await WebCryptoSigner.generate("p256");
  const { sent, fetch } = recorder(200, { challenges: [] });
  const phone = new DeviceClient({ server: "https://e.com/mfa/api/", signer, deviceId: DEVICE, fetch, now: () => 1767225600_999 });
  assert.deepEqual(await phone.listChallenges(), []);
  assert.match((sent[0]!.init.headers as Record<string, string>).Authorization!, /ts="1767225600"/);
  assert.equal(sent[0]!.init.body, undefined);
});

test("approving without a number never reaches the server", async () => {
  const signer = await WebCryptoSigner.generate("p256");
  const { sent, fetch } = recorder(200, {});
  const phone = new DeviceClient({ server: "https://e.com/mfa/api/", signer, deviceId: DEVICE, fetch });
  await assert.rejects(phone.respond(CHALLENGE, "approve"), TypeError);
  assert.equal(sent.length, 0);
});

test("error answers become typed errors", async () => {
  const signer = await WebCryptoSigner.generate("p256");
  const cases: [number, unknown, new (...a: never[]) => PushMFAError, string][] = [
    [409, { code: "wrong_number", detail: "Wrong number." }, WrongNumberError, "wrong_number"],
    [410, { code: "challenge_expired", detail: "x" }, ChallengeExpiredError, "challenge_expired"],
    [401, { code: "invalid_signature", detail: "x" }, AuthenticationError, "invalid_signature"],
    [400, { code: "invalid", detail: "Invalid input.", errors: { selected_number: ["Not a number."] } }, ValidationError, "invalid"],
    [418, { code: "something_new", detail: "x" }, PushMFAError, "something_new"],
    [502, undefined, PushMFAError, "http_502"],
  ];
  for (const [status, answer, cls, code] of cases) {
    const { fetch } = recorder(status, answer);
    const phone = new DeviceClient({ server: "https://e.com/mfa/api/", signer, deviceId: DEVICE, fetch });
    const error = await phone.getChallenge(CHALLENGE).then(
      () => assert.fail("no error"),
      (e: unknown) => e,
    );
    assert.ok(error instanceof cls, `${status} → ${(error as Error).name}`);
    assert.equal((error as PushMFAError).code, code);
    assert.equal((error as PushMFAError).status, status);
    if (error instanceof ValidationError) assert.deepEqual(error.fieldErrors, { selected_number: ["Not a number."] });
  }
  const { fetch } = recorder(429, { code: "rate_limited", detail: "x" }, { "Retry-After": "17" });
  const phone = new DeviceClient({ server: "https://e.com/mfa/api/", signer, deviceId: DEVICE, fetch });
  const error = await phone.listChallenges().catch((e: unknown) => e);
  assert.ok(error instanceof RateLimitedError);
  assert.equal(error.retryAfter, 17);
});

test("no answer at all is a NetworkError", async () => {
  const signer = await WebCryptoSigner.generate("p256");
  const fetch = async () => {
    throw new TypeError("fetch failed");
  };
  const phone = new DeviceClient({ server: "https://e.com/mfa/api/", signer, deviceId: DEVICE, fetch });
  await assert.rejects(phone.unregister(), NetworkError);
});

test("a platform without WebCrypto passes its own SHA-256 and random bytes", async () => {
  const signer = await WebCryptoSigner.generate("p256");
  const { createHash, randomBytes } = await import("node:crypto");
  const calls: string[] = [];
  const crypto = {
    async sha256(data: Uint8Array) {
      calls.push("sha256");
      return new Uint8Array(createHash("sha256").update(data).digest());
    },
    randomBytes(n: number) {
      calls.push("random");
      return new Uint8Array(randomBytes(n));
    },
  };
  const { sent, fetch } = recorder(200, { status: "denied" });
  const phone = new DeviceClient({ server: "https://e.com/mfa/api/", signer, deviceId: DEVICE, fetch, crypto });
  await phone.deny(CHALLENGE);
  assert.deepEqual(calls.sort(), ["random", "sha256"]);
  assert.ok(await verifies(signer, sent[0]!));
});

test("utf8 helper is UTF-8", () => {
  assert.deepEqual(utf8("é"), new Uint8Array([0xc3, 0xa9]));
});
