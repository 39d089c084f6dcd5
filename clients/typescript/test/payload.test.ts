import assert from "node:assert/strict";
import { test } from "node:test";

import { parsePushData, parseUnifiedPushMessage } from "../src/payload.js";

const ID = "0b6f1d9e-3c2a-4e8b-9f1a-2d3c4b5a6e7f";

test("FCM / APNs data with who is asking", () => {
  const push = parsePushData({ type: "pushmfa.challenge", challenge_id: ID, purpose: "login", site_name: "Acme", service: "" });
  assert.deepEqual(push, { challengeId: ID, purpose: "login", siteName: "Acme", service: null, title: null, body: null });
  // v1 servers send only the two keys.
  assert.equal(parsePushData({ type: "pushmfa.challenge", challenge_id: ID })!.purpose, null);
});

test("anything that is not a challenge push is null", () => {
  for (const data of [null, "x", {}, { type: "other", challenge_id: ID }, { type: "pushmfa.challenge", challenge_id: "../x" }]) {
    assert.equal(parsePushData(data), null);
  }
});

test("UnifiedPush message bytes", () => {
  const json = JSON.stringify({ type: "pushmfa.challenge", challenge_id: ID, title: "Login request", body: "Acme: new login" });
  const push = parseUnifiedPushMessage(new TextEncoder().encode(json));
  assert.equal(push!.challengeId, ID);
  assert.equal(push!.title, "Login request");
  assert.equal(parseUnifiedPushMessage("not json"), null);
});
