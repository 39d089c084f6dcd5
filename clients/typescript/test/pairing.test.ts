import assert from "node:assert/strict";
import { test } from "node:test";

import { parsePairingUri } from "../src/pairing.js";

const SERVER = "https://example.com/mfa/api/";
const uri = (query: string, scheme = "pushmfa") => `${scheme}://pair?${query}`;
const good = `token=Xq3-abc_DEF&server=${encodeURIComponent(SERVER)}&v=1`;

test("a version 1 pairing URI gives the token and the API root", () => {
  assert.deepEqual(parsePairingUri(uri(good)), { token: "Xq3-abc_DEF", server: SERVER });
  // The server URL gets its trailing slash.
  const noSlash = `token=t&server=${encodeURIComponent("https://example.com/mfa/api")}&v=1`;
  assert.equal(parsePairingUri(uri(noSlash)).server, SERVER);
  assert.equal(parsePairingUri(uri(good, "acme-mfa"), { scheme: "acme-mfa" }).token, "Xq3-abc_DEF");
});

test("anything else is refused", () => {
  const bad = [
    uri(good, "otpauth"),
    "pushmfa://other?" + good,
    uri(good.replace("v=1", "v=2")),
    uri(good + "&v=1"),
    uri(`server=${encodeURIComponent(SERVER)}&v=1`),
    uri("token=t&v=1"),
    uri(`token=t&server=${encodeURIComponent("http://example.com/mfa/api/")}&v=1`),
    uri(`token=t&server=${encodeURIComponent("javascript:alert(1)")}&v=1`),
    uri(`token=t&server=${encodeURIComponent("https://u:p@example.com/")}&v=1`),
    uri(`token=t&server=not-a-url&v=1`),
  ];
  for (const text of bad) assert.throws(() => parsePairingUri(text), TypeError, text);
});

test("http servers only when allowed (development)", () => {
  const local = uri(`token=t&server=${encodeURIComponent("http://localhost:8000/mfa/api/")}&v=1`);
  assert.equal(parsePairingUri(local, { allowInsecureServer: true }).server, "http://localhost:8000/mfa/api/");
});
