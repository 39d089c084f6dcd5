/**
 * django-pushmfa-device: the phone side of django-pushmfa's device API (docs/api-contract.md).
 *
 * ```ts
 * import { DeviceClient, WebCryptoSigner } from "django-pushmfa-device";
 * const signer = await WebCryptoSigner.generate("p256");          // or your Keystore / Secure Enclave Signer
 * const phone = await DeviceClient.pair(scannedUri, { signer, platform: "fcm", pushToken, name: "Pixel 8" });
 * const challenge = await phone.getChallenge(challengeId);          // after the push
 * await phone.approve(challenge.challenge_id, pickedNumber);
 * ```
 */

export { DeviceClient } from "./client.js";
export type { DeviceClientOptions, PairParams, RawResponse, RegisterParams } from "./client.js";
export { derEcdsaToRaw, rawEcdsaToDer } from "./der.js";
export { fromBase64, toBase64 } from "./encoding.js";
export {
  AuthenticationError,
  ChallengeExpiredError,
  ChallengeResolvedError,
  errorFor,
  InvalidPairingTokenError,
  NetworkError,
  NotFoundError,
  PushMFAError,
  RateLimitedError,
  ServiceUnavailableError,
  ValidationError,
  WrongNumberError,
} from "./errors.js";
export type { ErrorCode } from "./errors.js";
export { parsePairingUri } from "./pairing.js";
export type { PairingInfo } from "./pairing.js";
export { CHALLENGE_PUSH_TYPE, parsePushData, parseUnifiedPushMessage } from "./payload.js";
export type { ChallengePush } from "./payload.js";
export {
  authorizationHeader,
  bodyHash,
  canonicalMessage,
  newNonce,
  SIGNATURE_SCHEME,
  SIGNATURE_VERSION,
  webCryptoProvider,
} from "./signing.js";
export type { CryptoProvider, SignatureParams } from "./signing.js";
export {
  ED25519_SPKI_PREFIX,
  ed25519SpkiFromRaw,
  P256_SPKI_PREFIX,
  p256SpkiFromRawPoint,
  WebCryptoSigner,
} from "./signer.js";
export type { KeyAlgorithm, Signer } from "./signer.js";
export type { Challenge, ChallengeContext, Decision, Platform, Purpose, RespondResult } from "./types.js";
