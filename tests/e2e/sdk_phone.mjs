// A phone app built on the TypeScript SDK, driven line by line from tests/e2e/test_sdk_node.py.
// Usage: node sdk_phone.mjs <path of the built SDK's dist/index.js>
// Each stdin line is a JSON command; each answer is one JSON line on stdout:
//   {"ok": true, ...} or {"ok": false, "error": {"name", "code", "status"}}.
import { createInterface } from "node:readline";
import { pathToFileURL } from "node:url";

const sdk = await import(pathToFileURL(process.argv[2]).href);
const phones = new Map(); // name -> DeviceClient

function phone(name) {
  const client = phones.get(name);
  if (!client) throw new Error(`no phone ${name}`);
  return client;
}

const commands = {
  async pair({ name, uri, platform, pushToken, algorithm }) {
    const signer = await sdk.WebCryptoSigner.generate(algorithm ?? "p256");
    const client = await sdk.DeviceClient.pair(uri, {
      signer,
      platform,
      pushToken,
      name,
      allowInsecureServer: true, // the test site is served over http://localhost
    });
    phones.set(name, client);
    return { device_id: client.deviceId, private_key_extractable: signer.keyPair.privateKey.extractable };
  },
  async list({ name }) {
    return { challenges: await phone(name).listChallenges() };
  },
  async get({ name, id }) {
    return { challenge: await phone(name).getChallenge(id) };
  },
  async respond({ name, id, decision, number }) {
    return { result: await phone(name).respond(id, decision, number) };
  },
  async rotate({ name, pushToken }) {
    await phone(name).rotatePushToken(pushToken);
    return {};
  },
  async unregister({ name, keepDeviceId }) {
    const client = phone(name);
    const deviceId = client.deviceId;
    await client.unregister();
    if (keepDeviceId) client.deviceId = deviceId; // to show that the server refuses the removed key
    return {};
  },
  async parse_uri({ uri }) {
    return { info: sdk.parsePairingUri(uri, { allowInsecureServer: true }) };
  },
};

const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  const command = JSON.parse(line);
  let answer;
  try {
    answer = { ok: true, ...(await commands[command.op](command)) };
  } catch (error) {
    answer = {
      ok: false,
      error: {
        name: error?.name ?? "Error",
        code: error instanceof sdk.PushMFAError ? error.code : null,
        status: error instanceof sdk.PushMFAError ? error.status : null,
        message: String(error?.message ?? error),
      },
    };
  }
  process.stdout.write(JSON.stringify(answer) + "\n");
}
