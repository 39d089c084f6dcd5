/**
 * The signature rules of the device API (contract "Signed requests"; docs/device-api.md section 2).
 *
 * The signed bytes are the UTF-8 of six lines joined by ``\n`` (no trailing newline):
 * ``PUSHMFA-V1``, the method in upper case, the request path exactly as sent (with ``?query``), ``ts``,
 * the nonce, and the lower-case hex SHA-256 of the exact body bytes (of the empty string for no body).
 */

import { randomBytes, sha256 } from "./crypto.js";
import { toBase64, toBase64Url, toHex, utf8 } from "./encoding.js";
import type { Signer } from "./signer.js";

export const SIGNATURE_VERSION = "PUSHMFA-V1";
export const SIGNATURE_SCHEME = "PushMFA-Signature";
const NONCE_RE = /^[A-Za-z0-9._~+/=-]{16,128}$/;

/** The canonical string's bytes. ``bodyHashHex`` is {@link bodyHash} of the bytes you send. */
export function canonicalMessage(method: string, path: string, ts: string, nonce: string, bodyHashHex: string): Uint8Array {
  return utf8([SIGNATURE_VERSION, method.toUpperCase(), path, ts, nonce, bodyHashHex].join("\n"));
}

/**
 * The two primitives signing needs besides the key. The defaults use WebCrypto; a platform without it
 * (React Native's Hermes) passes its own, e.g. from react-native-quick-crypto or a native module.
 */
export interface CryptoProvider {
  sha256(data: Uint8Array): Promise<Uint8Array>;
  randomBytes(length: number): Uint8Array;
}

export const webCryptoProvider: CryptoProvider = { sha256, randomBytes };

/** Lower-case hex SHA-256 of the body bytes (``""`` hashes to ``e3b0c442…b855``). */
export async function bodyHash(body: Uint8Array = new Uint8Array(0), provider: CryptoProvider = webCryptoProvider): Promise<string> {
  return toHex(await provider.sha256(body));
}

/** A fresh nonce: 24 random bytes, base64url (32 characters). */
export function newNonce(provider: CryptoProvider = webCryptoProvider): string {
  return toBase64Url(provider.randomBytes(24));
}

export interface SignatureParams {
  deviceId: string;
  method: string;
  /** The path from the request line, e.g. ``/mfa/api/device/challenges/`` (not the full URL). */
  path: string;
  /** The exact body bytes sent; omit for no body. */
  body?: Uint8Array;
  /** Unix seconds; default: now. */
  ts?: number | string;
  /** Default: {@link newNonce}. A retry must be signed again with a new nonce. */
  nonce?: string;
  /** Default: WebCrypto. */
  crypto?: CryptoProvider;
}

/** The ``Authorization`` header value for one request. */
export async function authorizationHeader(signer: Signer, params: SignatureParams): Promise<string> {
  const ts = String(params.ts ?? Math.floor(Date.now() / 1000));
  const provider = params.crypto ?? webCryptoProvider;
  const nonce = params.nonce ?? newNonce(provider);
  if (!/^[0-9]+$/.test(ts)) throw new TypeError("ts must be unix seconds as decimal digits.");
  if (!NONCE_RE.test(nonce)) throw new TypeError("A nonce is 16-128 characters of A-Z a-z 0-9 . _ ~ + / = -.");
  if (!/^[0-9a-fA-F-]{1,64}$/.test(params.deviceId)) throw new TypeError("Not a device id.");
  const message = canonicalMessage(params.method, params.path, ts, nonce, await bodyHash(params.body, provider));
  const sig = toBase64(await signer.sign(message));
  return `${SIGNATURE_SCHEME} device="${params.deviceId}", ts="${ts}", nonce="${nonce}", sig="${sig}"`;
}
