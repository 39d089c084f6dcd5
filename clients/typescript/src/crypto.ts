/** Access to the platform's WebCrypto (Node 20+, browsers, React Native with a WebCrypto polyfill). */

export function subtle(): SubtleCrypto {
  const c = (globalThis as { crypto?: Crypto }).crypto;
  if (!c || !c.subtle) {
    throw new Error(
      "django-pushmfa-device: globalThis.crypto.subtle is missing. Use Node 20+, a browser (secure context), " +
        "or install a WebCrypto polyfill; or pass your own Signer and a sha256 function.",
    );
  }
  return c.subtle;
}

export function randomBytes(n: number): Uint8Array {
  const c = (globalThis as { crypto?: Crypto }).crypto;
  if (!c || typeof c.getRandomValues !== "function") {
    throw new Error("django-pushmfa-device: globalThis.crypto.getRandomValues is missing (needed for nonces).");
  }
  return c.getRandomValues(new Uint8Array(n));
}

/** SHA-256 of ``data`` with WebCrypto. */
export async function sha256(data: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await subtle().digest("SHA-256", data));
}
