/** The contract's error codes as typed errors. Program against ``code`` (or the class), never ``detail``. */

/** Every ``code`` the device endpoints can answer with (contract "Errors" and docs/device-api.md). */
export type ErrorCode =
  | "invalid"
  | "parse_error"
  | "invalid_pairing_token"
  | "not_authenticated"
  | "invalid_signature"
  | "not_found"
  | "challenge_expired"
  | "challenge_resolved"
  | "wrong_number"
  | "payload_too_large"
  | "rate_limited"
  | "service_unavailable"
  | (string & {}); // a code a newer server may add

/** Any error answer (non-2xx) of the server. */
export class PushMFAError extends Error {
  override name = "PushMFAError";
  /** The contract's machine code, e.g. ``"wrong_number"``; ``"http_<status>"`` when the body had none. */
  readonly code: ErrorCode;
  readonly status: number;
  /** The human message (translated by the server): show it, never parse it. */
  readonly detail: string;
  /** The whole decoded body (validation errors carry per-field messages in it). */
  readonly body: unknown;

  constructor(status: number, code: ErrorCode, detail: string, body: unknown) {
    super(`${status} ${code}: ${detail}`);
    this.status = status;
    this.code = code;
    this.detail = detail;
    this.body = body;
  }
}

/** ``400 invalid``: a malformed field; ``fieldErrors`` holds the per-field messages. */
export class ValidationError extends PushMFAError {
  override name = "ValidationError";
  get fieldErrors(): Record<string, string[]> {
    const errors = (this.body as { errors?: unknown } | null)?.errors;
    return errors && typeof errors === "object" && !Array.isArray(errors) ? (errors as Record<string, string[]>) : {};
  }
}
/** ``400 invalid_pairing_token``: unknown, used or expired; ask the user for a new QR code. */
export class InvalidPairingTokenError extends PushMFAError {
  override name = "InvalidPairingTokenError";
}
/** ``401 not_authenticated`` / ``401 invalid_signature``. For a device that worked before (with a right
 * clock), assume it was removed on the server: offer to pair again. */
export class AuthenticationError extends PushMFAError {
  override name = "AuthenticationError";
}
/** ``404 not_found``: unknown, malformed or another user's challenge. */
export class NotFoundError extends PushMFAError {
  override name = "NotFoundError";
}
/** ``410 challenge_expired``. */
export class ChallengeExpiredError extends PushMFAError {
  override name = "ChallengeExpiredError";
}
/** ``409 challenge_resolved``: already answered (from another device, or a retry). */
export class ChallengeResolvedError extends PushMFAError {
  override name = "ChallengeResolvedError";
}
/** ``409 wrong_number``: the number was not the one on the login screen; the challenge is now denied. */
export class WrongNumberError extends PushMFAError {
  override name = "WrongNumberError";
}
/** ``429 rate_limited``; ``retryAfter`` is in seconds when the server said. */
export class RateLimitedError extends PushMFAError {
  override name = "RateLimitedError";
  retryAfter: number | null = null;
}
/** ``503 service_unavailable``: the server fails closed; retry later (the SDK re-signs every attempt). */
export class ServiceUnavailableError extends PushMFAError {
  override name = "ServiceUnavailableError";
}

/** The request never got an HTTP answer (offline, DNS, TLS, timeout). ``cause`` is the platform's error. */
export class NetworkError extends Error {
  override name = "NetworkError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

const CLASSES: Record<string, new (status: number, code: ErrorCode, detail: string, body: unknown) => PushMFAError> = {
  invalid: ValidationError,
  parse_error: ValidationError,
  invalid_pairing_token: InvalidPairingTokenError,
  not_authenticated: AuthenticationError,
  invalid_signature: AuthenticationError,
  not_found: NotFoundError,
  challenge_expired: ChallengeExpiredError,
  challenge_resolved: ChallengeResolvedError,
  wrong_number: WrongNumberError,
  rate_limited: RateLimitedError,
  service_unavailable: ServiceUnavailableError,
};

/** The typed error for an error answer (``body`` is the decoded JSON, or null). */
export function errorFor(status: number, body: unknown, headers?: { get(name: string): string | null }): PushMFAError {
  const obj = body && typeof body === "object" ? (body as Record<string, unknown>) : {};
  const code = typeof obj.code === "string" ? obj.code : `http_${status}`;
  const detail = typeof obj.detail === "string" ? obj.detail : "";
  const cls = CLASSES[code] ?? PushMFAError;
  const error = new cls(status, code, detail, body);
  if (error instanceof RateLimitedError) {
    const retry = Number(headers?.get("retry-after"));
    error.retryAfter = Number.isFinite(retry) && retry >= 0 ? retry : null;
  }
  return error;
}
