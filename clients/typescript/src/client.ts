/**
 * {@link DeviceClient}: one paired (or about to be paired) phone talking to the device API.
 *
 * Every method returns the decoded answer of a 2xx response and throws a typed {@link PushMFAError}
 * subclass otherwise ({@link WrongNumberError}, {@link ChallengeExpiredError}...), or a
 * {@link NetworkError} when no answer came. Each request is signed afresh (new ``ts`` and nonce).
 */

import { toBase64, utf8 } from "./encoding.js";
import { errorFor, NetworkError } from "./errors.js";
import { parsePairingUri } from "./pairing.js";
import { authorizationHeader, webCryptoProvider } from "./signing.js";
import type { CryptoProvider } from "./signing.js";
import type { Signer } from "./signer.js";
import type { Challenge, Decision, Platform, RespondResult } from "./types.js";

type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

export interface DeviceClientOptions {
  /** The API root URL: the pairing URI's ``server``, e.g. ``https://example.com/mfa/api/``. */
  server: string;
  signer: Signer;
  /** The id {@link DeviceClient.register} returned, for a phone paired earlier. */
  deviceId?: string | null;
  /** Default: ``globalThis.fetch``. */
  fetch?: FetchLike;
  /** Milliseconds since the epoch; default ``Date.now``. Correct a wrong phone clock here. */
  now?: () => number;
  /** Per-request timeout in milliseconds (default 30 000). */
  timeoutMs?: number;
  /** SHA-256 and random bytes; default WebCrypto (pass your own where it is missing, e.g. Hermes). */
  crypto?: CryptoProvider;
}

export interface RegisterParams {
  pairingToken: string;
  platform: Platform;
  /** FCM / APNs token, or the UnifiedPush endpoint URL; omit for ``"none"``. */
  pushToken?: string;
  /** Shown to the user in their device list (up to 100 characters). */
  name?: string;
}

export interface PairParams extends Omit<RegisterParams, "pairingToken"> {
  signer: Signer;
  fetch?: FetchLike;
  now?: () => number;
  timeoutMs?: number;
  crypto?: CryptoProvider;
  /** The site's ``PUSHMFA_PAIRING_URI_SCHEME`` (default ``pushmfa``). */
  scheme?: string;
  /** Accept an ``http://`` server (development only). */
  allowInsecureServer?: boolean;
}

export interface RawResponse {
  status: number;
  headers: Headers;
  body: unknown;
}

export class DeviceClient {
  readonly server: string;
  readonly signer: Signer;
  deviceId: string | null;
  private readonly origin: string;
  private readonly basePath: string;
  private readonly fetchFn: FetchLike;
  private readonly now: () => number;
  private readonly timeoutMs: number;
  private readonly crypto: CryptoProvider;

  constructor(options: DeviceClientOptions) {
    const url = new URL(options.server.endsWith("/") ? options.server : options.server + "/");
    this.server = url.href;
    this.origin = url.origin;
    this.basePath = url.pathname;
    this.signer = options.signer;
    this.deviceId = options.deviceId ?? null;
    const globalFetch = (globalThis as { fetch?: FetchLike }).fetch;
    const fetchFn = options.fetch ?? (globalFetch ? globalFetch.bind(globalThis) : undefined);
    if (!fetchFn) throw new Error("django-pushmfa-device: no fetch available; pass options.fetch.");
    this.fetchFn = fetchFn;
    this.now = options.now ?? Date.now;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.crypto = options.crypto ?? webCryptoProvider;
  }

  /** Parse a scanned pairing URI, register with it, and return the paired client (keep ``deviceId``). */
  static async pair(pairingUri: string, params: PairParams): Promise<DeviceClient> {
    const { token, server } = parsePairingUri(pairingUri, {
      scheme: params.scheme,
      allowInsecureServer: params.allowInsecureServer,
    });
    const client = new DeviceClient({
      server,
      signer: params.signer,
      fetch: params.fetch,
      now: params.now,
      timeoutMs: params.timeoutMs,
      crypto: params.crypto,
    });
    await client.register({ pairingToken: token, platform: params.platform, pushToken: params.pushToken, name: params.name });
    return client;
  }

  /** Absolute request path of an endpoint: ``path("device/")`` → ``/mfa/api/device/``. */
  path(endpoint: string): string {
    return this.basePath + endpoint.replace(/^\/+/, "");
  }

  // --- the endpoints ----------------------------------------------------------------------------
  /** ``POST device/register/`` (unsigned; the pairing token is the credential). Stores and returns the device id. */
  async register(params: RegisterParams): Promise<string> {
    const payload: Record<string, string> = {
      pairing_token: params.pairingToken,
      platform: params.platform,
      public_key: toBase64(await this.signer.publicKeySpki()),
      name: params.name ?? "",
    };
    if (params.pushToken !== undefined) payload.push_token = params.pushToken;
    const data = (await this.call("POST", "device/register/", payload, false)) as { device_id: string };
    this.deviceId = data.device_id;
    return data.device_id;
  }

  /** ``GET device/challenges/``: the pending challenges (on app start, when a push was lost, and always for
   * ``"none"`` devices). */
  async listChallenges(): Promise<Challenge[]> {
    return ((await this.call("GET", "device/challenges/")) as { challenges: Challenge[] }).challenges;
  }

  /** ``GET device/challenges/<id>/``: the choices and the context, after a push. */
  async getChallenge(challengeId: string): Promise<Challenge> {
    return (await this.call("GET", `device/challenges/${encodeURIComponent(challengeId)}/`)) as Challenge;
  }

  /** ``POST device/challenges/<id>/respond/``. ``selectedNumber`` is required to approve. */
  async respond(challengeId: string, decision: Decision, selectedNumber?: string): Promise<RespondResult> {
    if (decision === "approve" && !selectedNumber) {
      throw new TypeError("Approving needs the number the user picked or typed (number matching).");
    }
    const payload: Record<string, string> = { decision };
    if (selectedNumber !== undefined) payload.selected_number = selectedNumber;
    const endpoint = `device/challenges/${encodeURIComponent(challengeId)}/respond/`;
    return (await this.call("POST", endpoint, payload)) as RespondResult;
  }

  /** Approve with the number the user picked or typed; a wrong one throws {@link WrongNumberError}. */
  approve(challengeId: string, selectedNumber: string): Promise<RespondResult> {
    return this.respond(challengeId, "approve", selectedNumber);
  }

  /** "No": deny the challenge. */
  deny(challengeId: string): Promise<RespondResult> {
    return this.respond(challengeId, "deny");
  }

  /** "This wasn't me": deny and report it as fraud (the server suspends push for the account). */
  report(challengeId: string): Promise<RespondResult> {
    return this.respond(challengeId, "report");
  }

  /** ``PUT device/push-token/``: call it whenever FCM / APNs / the UnifiedPush distributor hands out a new token. */
  async rotatePushToken(pushToken: string): Promise<void> {
    await this.call("PUT", "device/push-token/", { push_token: pushToken });
  }

  /** ``DELETE device/``: the app unregisters itself; the key stops working at once. */
  async unregister(): Promise<void> {
    await this.call("DELETE", "device/");
    this.deviceId = null;
  }

  // --- low level --------------------------------------------------------------------------------
  /** Send one request (signed unless ``sign`` is false) and return the raw answer; never throws for a status. */
  async request(method: string, endpoint: string, payload?: unknown, sign = true): Promise<RawResponse> {
    method = method.toUpperCase();
    const path = this.path(endpoint);
    const body = payload === undefined ? undefined : utf8(JSON.stringify(payload));
    const headers: Record<string, string> = { Accept: "application/json" };
    if (body) headers["Content-Type"] = "application/json";
    if (sign) {
      if (!this.deviceId) throw new Error("Register the phone (or pass deviceId) before signed requests.");
      headers.Authorization = await authorizationHeader(this.signer, {
        deviceId: this.deviceId,
        method,
        path,
        body,
        ts: Math.floor(this.now() / 1000),
        crypto: this.crypto,
      });
    }
    const controller = typeof AbortController === "function" ? new AbortController() : null;
    const timer = controller ? setTimeout(() => controller.abort(), this.timeoutMs) : null;
    let response: Response;
    try {
      response = await this.fetchFn(this.origin + path, {
        method,
        headers,
        body,
        credentials: "omit", // a device request never rides on a browser session
        redirect: "error", // the signature covers the path: a redirect can only be an error
        signal: controller?.signal,
      });
    } catch (error) {
      throw new NetworkError(`${method} ${path}: no answer from the server`, { cause: error });
    } finally {
      if (timer !== null) clearTimeout(timer);
    }
    const text = await response.text();
    let decoded: unknown = null;
    if (text) {
      try {
        decoded = JSON.parse(text);
      } catch {
        decoded = null;
      }
    }
    return { status: response.status, headers: response.headers, body: decoded };
  }

  private async call(method: string, endpoint: string, payload?: unknown, sign = true): Promise<unknown> {
    const response = await this.request(method, endpoint, payload, sign);
    if (response.status < 200 || response.status >= 300) throw errorFor(response.status, response.body, response.headers);
    return response.body;
  }
}
