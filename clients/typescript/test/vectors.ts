/** The worked examples of docs/device-api.md section 2, byte for byte (the server's tests check the same). */

export const ED25519 = {
  // Test key only: private key bytes 00 01 02 ... 1f.
  privateKey: Uint8Array.from({ length: 32 }, (_, i) => i),
  publicKeyB64: "MCowBQYDK2VwAyEAA6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg=",
  method: "POST",
  path: "/mfa/api/device/challenges/0b6f1d9e-3c2a-4e8b-9f1a-2d3c4b5a6e7f/respond/",
  body: '{"decision":"approve","selected_number":"47"}',
  deviceId: "6f1c1f2e-8a4b-4c1d-9d7e-0a1b2c3d4e5f",
  ts: "1767225600",
  nonce: "q8Jf3Zs0b1XyW2vT5nR7pA",
  bodyHash: "c4df210848b4e1229ef1d8e67949f14ae64ade77bc9d2dbff547c77b8f9ef68e",
  signed:
    "PUSHMFA-V1\nPOST\n/mfa/api/device/challenges/0b6f1d9e-3c2a-4e8b-9f1a-2d3c4b5a6e7f/respond/\n1767225600\n" +
    "q8Jf3Zs0b1XyW2vT5nR7pA\nc4df210848b4e1229ef1d8e67949f14ae64ade77bc9d2dbff547c77b8f9ef68e",
  header:
    'PushMFA-Signature device="6f1c1f2e-8a4b-4c1d-9d7e-0a1b2c3d4e5f", ts="1767225600", nonce="q8Jf3Zs0b1XyW2vT5nR7pA", ' +
    'sig="mb9eKWbNSszMpUs+XBkxCHVHOYb8GXyXsFX/cm0IAjYnH41naeY2673Ok+nxgUZcX7sUhIQUYUIKrSg0oSccCw=="',
};

export const P256 = {
  // Test key only.
  privateScalarHex: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
  publicKeyB64:
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE2M0S6lxn8vigDBEkiT7c+mdUxNbO3mvhO98ilcgQqX+lqJ0tKjYMDKmk1sfJ7Uso0+GZ1mJ/LmltaJwxClsPSA==",
  method: "GET",
  path: "/mfa/api/device/challenges/",
  ts: "1767225600",
  nonce: "Zm9vYmFyYmF6cXV4MTIzNA",
  signed:
    "PUSHMFA-V1\nGET\n/mfa/api/device/challenges/\n1767225600\nZm9vYmFyYmF6cXV4MTIzNA\n" +
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
  signatureB64: "MEUCIQDVFr18+aQtBhrdiwxbcGccxFfLqipuv+mbLwULbP23cwIgcvY0SU+XO6+lxl6Wo0unJlEVrbnTog2lIpy22RuhTLQ=",
};
