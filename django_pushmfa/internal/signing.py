"""Device keys and request signatures: the server side of the ``PushMFA-Signature`` scheme.

The phone holds a private key (ECDSA P-256, or Ed25519) and registers the public half as a DER
SubjectPublicKeyInfo. Every signed request covers the canonical string built by
:func:`canonical_message`; :func:`verify_signature` checks it against the stored key. The reference
client (``django_pushmfa.testing.phone``) implements the same rules independently, from the contract.
"""

from __future__ import annotations

import hashlib

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from ..models import PushDevice

SIGNATURE_VERSION = "PUSHMFA-V1"
ED25519_SIGNATURE_BYTES = 64
# A DER ECDSA P-256 signature is at most 72 bytes; anything far larger is not worth parsing.
MAX_SIGNATURE_BYTES = 160
MAX_PUBLIC_KEY_DER_BYTES = 512


class UnsupportedKey(ValueError):
    """The bytes are not a DER SubjectPublicKeyInfo of an ECDSA P-256 or Ed25519 key."""


def canonical_message(method: str, path: str, ts: str, nonce: str, body: bytes) -> bytes:
    """The exact bytes a device signs: six lines joined by ``\\n`` (no trailing newline), UTF-8.

    ``path`` is the request path with its query string, as sent; ``body`` the raw request body
    (``b""`` when there is none).
    """
    lines = [SIGNATURE_VERSION, method.upper(), path, ts, nonce, hashlib.sha256(body).hexdigest()]
    return "\n".join(lines).encode("utf-8")


def parse_public_key(der: bytes) -> tuple[str, bytes]:
    """Validate a device public key. Returns ``(key_type, canonical DER)``; raises :class:`UnsupportedKey`.

    ``key_type`` is ``PushDevice.KeyType.P256`` or ``ED25519``. The DER is re-serialised so what is
    stored is canonical (an uncompressed point for P-256) whatever form the phone sent.
    """
    if not der or len(der) > MAX_PUBLIC_KEY_DER_BYTES:
        raise UnsupportedKey("empty or oversized key")
    try:
        key = serialization.load_der_public_key(der)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise UnsupportedKey("not a DER SubjectPublicKeyInfo") from exc
    if isinstance(key, ec.EllipticCurvePublicKey):
        if not isinstance(key.curve, ec.SECP256R1):
            raise UnsupportedKey("only the P-256 curve is accepted")
        key_type = PushDevice.KeyType.P256
    elif isinstance(key, ed25519.Ed25519PublicKey):
        key_type = PushDevice.KeyType.ED25519
    else:
        raise UnsupportedKey("only ECDSA P-256 and Ed25519 keys are accepted")
    canonical = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return str(key_type), canonical


def verify_signature(key_type: str, public_key_der: bytes | memoryview, signature: bytes, message: bytes) -> bool:
    """True when ``signature`` over ``message`` verifies with the stored key. Never raises on bad input.

    P-256: a DER-encoded ECDSA signature with SHA-256 (iOS ``ecdsaSignatureMessageX962SHA256``,
    Android ``SHA256withECDSA``). Ed25519: the 64-byte signature of the same bytes.
    """
    if not signature or len(signature) > MAX_SIGNATURE_BYTES:
        return False
    try:
        key = serialization.load_der_public_key(bytes(public_key_der))
        if key_type == PushDevice.KeyType.P256 and isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, message, ec.ECDSA(hashes.SHA256()))
            return True
        if key_type == PushDevice.KeyType.ED25519 and isinstance(key, ed25519.Ed25519PublicKey):
            if len(signature) != ED25519_SIGNATURE_BYTES:
                return False
            key.verify(signature, message)
            return True
    except (InvalidSignature, ValueError, TypeError, UnsupportedAlgorithm):
        return False
    return False
