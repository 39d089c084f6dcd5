/**
 * Signing keys. Every signed request goes through a {@link Signer}, so the private key can live where it
 * belongs: the Android Keystore or the iOS Secure Enclave (a native module implements ``Signer``), or a
 * non-extractable WebCrypto key in a browser ({@link WebCryptoSigner}, included).
 */

import { subtle } from "./crypto.js";
import { rawEcdsaToDer } from "./der.js";
import { concatBytes, fromHex } from "./encoding.js";

/** ``"p256"``: ECDSA P-256 with SHA-256 (what Secure Enclave / Keystore keys are); ``"ed25519"``. */
export type KeyAlgorithm = "p256" | "ed25519";

/**
 * What the SDK needs from a key. Implement it over a native key store in React Native or Capacitor.
 *
 * - ``publicKeySpki()``: the public key as DER SubjectPublicKeyInfo (Android: ``publicKey.getEncoded()``;
 *   iOS: {@link p256SpkiFromRawPoint} of ``SecKeyCopyExternalRepresentation``'s 65-byte point).
 * - ``sign(message)``: P-256: the **DER** ECDSA signature over SHA-256 of ``message`` (Android
 *   ``SHA256withECDSA``, iOS ``.ecdsaSignatureMessageX962SHA256`` produce exactly this; a raw ``r || s``
 *   signature must go through {@link rawEcdsaToDer}); Ed25519: the 64-byte signature of ``message``.
 *   ``message`` is the canonical bytes themselves, not a digest.
 */
export interface Signer {
  readonly algorithm: KeyAlgorithm;
  publicKeySpki(): Promise<Uint8Array>;
  sign(message: Uint8Array): Promise<Uint8Array>;
}

/** The 26-byte DER prefix of a P-256 SubjectPublicKeyInfo holding an uncompressed point. */
export const P256_SPKI_PREFIX = fromHex("3059301306072a8648ce3d020106082a8648ce3d030107034200");
/** The 12-byte DER prefix of an Ed25519 SubjectPublicKeyInfo. */
export const ED25519_SPKI_PREFIX = fromHex("302a300506032b6570032100");

/** SPKI of a P-256 public key given as the 65-byte uncompressed point ``04 || x || y`` (iOS's form). */
export function p256SpkiFromRawPoint(point: Uint8Array): Uint8Array {
  if (point.length !== 65 || point[0] !== 0x04) throw new TypeError("Expected a 65-byte uncompressed P-256 point.");
  return concatBytes(P256_SPKI_PREFIX, point);
}

/** SPKI of an Ed25519 public key given as its 32 raw bytes. */
export function ed25519SpkiFromRaw(raw: Uint8Array): Uint8Array {
  if (raw.length !== 32) throw new TypeError("Expected a 32-byte Ed25519 public key.");
  return concatBytes(ED25519_SPKI_PREFIX, raw);
}

const ECDSA_P256 = { name: "ECDSA", namedCurve: "P-256" } as const;
const ED25519 = { name: "Ed25519" } as const;

function algorithmOf(key: CryptoKey): KeyAlgorithm {
  const alg = key.algorithm as { name: string; namedCurve?: string };
  if (alg.name === "ECDSA" && alg.namedCurve === "P-256") return "p256";
  if (alg.name === "Ed25519") return "ed25519";
  throw new TypeError(`Unsupported key algorithm ${alg.name}${alg.namedCurve ? " " + alg.namedCurve : ""}.`);
}

/**
 * A {@link Signer} over a WebCrypto key pair. {@link WebCryptoSigner.generate} makes the private key
 * non-extractable by default: it can sign but its bytes can never be read, not even by the page's own
 * script. Keep ``keyPair`` in IndexedDB (CryptoKey objects survive structured cloning) to reuse it.
 */
export class WebCryptoSigner implements Signer {
  readonly algorithm: KeyAlgorithm;

  constructor(readonly keyPair: CryptoKeyPair) {
    this.algorithm = algorithmOf(keyPair.privateKey);
    if (algorithmOf(keyPair.publicKey) !== this.algorithm) throw new TypeError("The two keys do not match.");
  }

  /** A new key pair; ``extractable`` (default false) applies to the private key only. */
  static async generate(algorithm: KeyAlgorithm = "p256", options: { extractable?: boolean } = {}): Promise<WebCryptoSigner> {
    const params = algorithm === "p256" ? ECDSA_P256 : ED25519;
    const pair = (await subtle().generateKey(params, options.extractable ?? false, ["sign", "verify"])) as CryptoKeyPair;
    return new WebCryptoSigner(pair);
  }

  async publicKeySpki(): Promise<Uint8Array> {
    return new Uint8Array(await subtle().exportKey("spki", this.keyPair.publicKey));
  }

  async sign(message: Uint8Array): Promise<Uint8Array> {
    if (this.algorithm === "p256") {
      const raw = new Uint8Array(
        await subtle().sign({ name: "ECDSA", hash: "SHA-256" }, this.keyPair.privateKey, message),
      );
      return rawEcdsaToDer(raw);
    }
    return new Uint8Array(await subtle().sign(ED25519, this.keyPair.privateKey, message));
  }
}
