/** Importing the documented test keys into WebCrypto (non-extractable private keys). */
import { webcrypto } from "node:crypto";

import { fromBase64, fromHex, toBase64Url } from "../src/encoding.js";
import { WebCryptoSigner } from "../src/signer.js";
import { ED25519, P256 } from "./vectors.js";

const subtle = webcrypto.subtle as unknown as SubtleCrypto;

export async function ed25519Signer(): Promise<WebCryptoSigner> {
  const pkcs8 = new Uint8Array([...fromHex("302e020100300506032b657004220420"), ...ED25519.privateKey]);
  const privateKey = await subtle.importKey("pkcs8", pkcs8, { name: "Ed25519" }, false, ["sign"]);
  const publicKey = await subtle.importKey("spki", fromBase64(ED25519.publicKeyB64), { name: "Ed25519" }, true, ["verify"]);
  return new WebCryptoSigner({ privateKey, publicKey });
}

export async function p256PublicKey(): Promise<CryptoKey> {
  return subtle.importKey("spki", fromBase64(P256.publicKeyB64), { name: "ECDSA", namedCurve: "P-256" }, true, ["verify"]);
}

export async function p256Signer(): Promise<WebCryptoSigner> {
  const point = fromBase64(P256.publicKeyB64).subarray(26); // 04 || x || y
  const jwk = {
    kty: "EC",
    crv: "P-256",
    d: toBase64Url(fromHex(P256.privateScalarHex)),
    x: toBase64Url(point.subarray(1, 33)),
    y: toBase64Url(point.subarray(33, 65)),
  };
  const privateKey = await subtle.importKey("jwk", jwk, { name: "ECDSA", namedCurve: "P-256" }, false, ["sign"]);
  return new WebCryptoSigner({ privateKey, publicKey: await p256PublicKey() });
}

export { subtle };
