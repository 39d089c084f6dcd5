/* The browser phone: a phone app in a browser tab, on the TypeScript device SDK (clients/typescript).
   Its key is a non-extractable WebCrypto P-256 key kept in IndexedDB; every device request is signed
   here, by the SDK. The only simulator view it uses is the push inbox, standing in for FCM. */
const body = document.body;
const sdk = await import(body.dataset.sdkUrl);
const $ = (sel) => document.querySelector(sel);

// --- IndexedDB: one record, the paired phone (its CryptoKeyPair is stored as is, never exported) ----
const DB = "pushmfa-browser-phone";
const done = (request) =>
  new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
async function store(mode) {
  const open = indexedDB.open(DB, 1);
  open.onupgradeneeded = () => open.result.createObjectStore("state");
  return (await done(open)).transaction("state", mode).objectStore("state");
}
const load = async () => done((await store("readonly")).get("phone"));
const save = async (phone) => done((await store("readwrite")).put(phone, "phone"));
const clear = async () => done((await store("readwrite")).delete("phone"));

// --- screens ------------------------------------------------------------------------------------
let phone = null; // { record, client }
let current = null; // the challenge on screen
let listening = 0; // generation of the inbox loop (a new pairing stops the old loop)

function show(name) {
  document.querySelectorAll("[data-bp-screen]").forEach((el) => (el.hidden = el.dataset.bpScreen !== name));
  $("[data-bp-phone]").dataset.bpState = name;
}
function error(text) {
  $("[data-bp-error]").textContent = text || "";
  $("[data-bp-error]").hidden = !text;
}
function result(kind, title, text) {
  $("[data-bp-screen=result]").dataset.bpResult = kind;
  $("[data-bp-result-title]").textContent = title;
  $("[data-bp-result-text]").textContent = text;
  show("result");
}
function paired(record) {
  const signer = new sdk.WebCryptoSigner(record.keyPair);
  phone = { record, client: new sdk.DeviceClient({ server: record.server, deviceId: record.deviceId, signer }) };
  $("[data-bp-device-name]").textContent = record.name;
  $("[data-bp-key-info]").textContent =
    `ECDSA P-256, extractable: ${record.keyPair.privateKey.extractable}, device ${record.deviceId}`;
  $("[data-bp-key]").hidden = false;
  $("[data-bp-forget]").hidden = false;
  $("[data-bp-pair]").open = false;
  show("idle");
  listen();
}

// --- pushes: the simulator's inbox stands in for FCM; the SDK parses the payload ----------------
async function inbox(params) {
  const url = `${body.dataset.inboxUrl}?token=${encodeURIComponent(phone.record.pushToken)}&${params}`;
  const response = await fetch(url, { headers: { Accept: "application/json" } });
  if (!response.ok) throw new Error(`inbox ${response.status}`);
  return response.json();
}
async function listen() {
  const generation = ++listening;
  let seen = [];
  try {
    seen = (await inbox("")).known; // pushes from before this page opened are old news
  } catch {
    /* retried below */
  }
  while (generation === listening && phone) {
    try {
      const { pushes } = await inbox(`seen=${seen.join(",")}&wait=25`);
      for (const push of pushes) {
        seen.push(push.challenge_id);
        const parsed = sdk.parsePushData(push.data); // exactly what an app does with FCM's data map
        if (parsed && generation === listening) await open(parsed.challengeId);
      }
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  }
}

// --- a challenge ----------------------------------------------------------------------------------
async function open(challengeId) {
  try {
    render(await phone.client.getChallenge(challengeId));
  } catch (e) {
    failed(e);
  }
}
function render(challenge) {
  current = challenge;
  const ctx = challenge.context;
  // Who is asking (v1.1): the site, the service it names, and why.
  $("[data-bp-title]").textContent =
    ctx.purpose === "reauthentication" ? "Confirm it's you" : "Are you trying to sign in?";
  const site = ctx.site_name || "";
  $("[data-bp-who]").textContent = ctx.service ? `${ctx.service} on ${site}` : site;
  $("[data-bp-ctx=location]").textContent = ctx.location || "";
  $("[data-bp-ctx=device]").textContent = [ctx.browser, ctx.os].filter(Boolean).join(" on ");
  $("[data-bp-ctx=ip]").textContent = ctx.ip || "";
  const choices = $("[data-bp-choices]");
  choices.replaceChildren();
  $("[data-bp-choices-wrap]").hidden = challenge.choices === null;
  $("[data-bp-entry-form]").hidden = challenge.choices !== null;
  for (const number of challenge.choices || []) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "choice";
    button.dataset.bpChoice = number;
    button.textContent = number;
    button.addEventListener("click", () => answer("approve", number));
    choices.append(button);
  }
  show("challenge");
}
async function answer(decision, number) {
  const id = current.challenge_id;
  try {
    const { status } = await phone.client.respond(id, decision, number);
    if (status === "approved") result("approved", "Approved", "You're signed in on the other device.");
    else if (decision === "report") result("reported", "Reported", "The request was denied and reported.");
    else result("denied", "Denied", "The sign-in request was denied.");
  } catch (e) {
    failed(e);
  }
}
function failed(e) {
  if (e instanceof sdk.WrongNumberError) result("wrong_number", "Wrong number", "The request was denied for good.");
  else if (e instanceof sdk.ChallengeExpiredError) result("expired", "Expired", "That request expired.");
  else if (e instanceof sdk.ChallengeResolvedError) result("resolved", "Already answered", "");
  else if (e instanceof sdk.AuthenticationError) result("removed", "This phone was removed", "Pair it again.");
  else result("error", "Something went wrong", e instanceof sdk.PushMFAError ? e.code : String(e));
}

// --- pairing and forgetting -----------------------------------------------------------------------
$("[data-bp-pair-form]").addEventListener("submit", async (event) => {
  event.preventDefault();
  error("");
  const uri = $("[data-bp-pair-uri]").value.trim();
  const name = $("[data-bp-pair-name]").value.trim() || "Browser phone";
  try {
    const signer = await sdk.WebCryptoSigner.generate("p256"); // non-extractable
    const random = crypto.getRandomValues(new Uint8Array(24));
    const pushToken = "browser-" + sdk.toBase64(random).replace(/\+/g, "-").replace(/\//g, "_");
    const client = await sdk.DeviceClient.pair(uri, {
      signer,
      platform: "fcm",
      pushToken,
      name,
      allowInsecureServer: location.protocol === "http:", // the demo runs on http://localhost
    });
    const record = { server: client.server, deviceId: client.deviceId, name, pushToken, keyPair: signer.keyPair };
    await save(record);
    paired(record);
  } catch (e) {
    error(e instanceof sdk.PushMFAError ? `${e.code}: ${e.detail}` : e.message);
  }
});
$("[data-bp-forget]").addEventListener("click", async () => {
  try {
    await phone.client.unregister();
  } catch {
    /* already removed on the server */
  }
  await clear();
  phone = null;
  listening++;
  $("[data-bp-key]").hidden = $("[data-bp-forget]").hidden = true;
  $("[data-bp-device-name]").textContent = "";
  $("[data-bp-pair]").open = true;
  show("empty");
});
$("[data-bp-check]").addEventListener("click", async () => {
  try {
    const [first] = await phone.client.listChallenges(); // the poll fallback (platform "none" lives on it)
    if (first) render(first);
  } catch (e) {
    failed(e);
  }
});
$("[data-bp-entry-form]").addEventListener("submit", (event) => {
  event.preventDefault();
  answer("approve", $("[data-bp-entry]").value.trim());
});
$("[data-bp-deny]").addEventListener("click", () => answer("deny"));
$("[data-bp-report]").addEventListener("click", () => answer("report"));
$("[data-bp-done]").addEventListener("click", () => show(phone ? "idle" : "empty"));

const record = await load();
if (record) paired(record);
else show("empty");
body.dataset.bpReady = "true";
