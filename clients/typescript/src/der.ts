/**
 * ECDSA signature encodings. The contract wants DER (ASN.1 ``SEQUENCE { INTEGER r, INTEGER s }``), what
 * iOS ``ecdsaSignatureMessageX962SHA256`` and Android ``SHA256withECDSA`` produce. WebCrypto produces the
 * raw IEEE P1363 form ``r || s`` (64 bytes for P-256): convert it with {@link rawEcdsaToDer}.
 */

function derInteger(value: Uint8Array): Uint8Array {
  let start = 0;
  while (start < value.length - 1 && value[start] === 0) start++;
  const trimmed = value.subarray(start);
  const pad = trimmed[0]! & 0x80 ? 1 : 0; // a set high bit would read as negative
  const out = new Uint8Array(2 + pad + trimmed.length);
  out[0] = 0x02;
  out[1] = pad + trimmed.length;
  out.set(trimmed, 2 + pad);
  return out;
}

/** Raw ``r || s`` (64 bytes for P-256) → DER. */
export function rawEcdsaToDer(raw: Uint8Array): Uint8Array {
  if (raw.length === 0 || raw.length % 2 !== 0 || raw.length > 132) {
    throw new TypeError("A raw ECDSA signature is r || s of equal, even total length.");
  }
  const half = raw.length / 2;
  const r = derInteger(raw.subarray(0, half));
  const s = derInteger(raw.subarray(half));
  const len = r.length + s.length;
  const header = len < 0x80 ? [0x30, len] : [0x30, 0x81, len];
  const out = new Uint8Array(header.length + len);
  out.set(header, 0);
  out.set(r, header.length);
  out.set(s, header.length + r.length);
  return out;
}

/** DER → raw ``r || s`` with each half ``size`` bytes (32 for P-256); throws on malformed DER. */
export function derEcdsaToRaw(der: Uint8Array, size = 32): Uint8Array {
  let i = 0;
  const fail = (): never => {
    throw new TypeError("Not a DER ECDSA signature.");
  };
  if (der[i++] !== 0x30) fail();
  let len = der[i++]!;
  if (len === 0x81) len = der[i++]!;
  else if (len > 0x80) fail();
  if (i + len !== der.length) fail();
  const out = new Uint8Array(2 * size);
  for (let part = 0; part < 2; part++) {
    if (der[i++] !== 0x02) fail();
    const n = der[i++]!;
    if (n === 0 || n > size + 1 || i + n > der.length) fail();
    let value = der.subarray(i, i + n);
    i += n;
    while (value.length > size && value[0] === 0) value = value.subarray(1);
    if (value.length > size) fail();
    out.set(value, part * size + (size - value.length));
  }
  if (i !== der.length) fail();
  return out;
}
