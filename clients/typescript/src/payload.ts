/**
 * Push payloads. The notification never carries a secret or the number: only
 * ``{"type": "pushmfa.challenge", "challenge_id": "..."}`` plus, from v1.1, who is asking (``site_name``,
 * ``purpose``, ``service``). On receipt, fetch the challenge with {@link DeviceClient.getChallenge}.
 *
 * - FCM: ``remoteMessage.data`` (a string map) → {@link parsePushData}.
 * - APNs: the notification's ``userInfo`` / ``data`` (the same keys at the top level) → {@link parsePushData}.
 * - UnifiedPush: the message bytes the distributor hands the app are the JSON the server POSTed
 *   → {@link parseUnifiedPushMessage}.
 */

import type { Purpose } from "./types.js";

export const CHALLENGE_PUSH_TYPE = "pushmfa.challenge";
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export interface ChallengePush {
  challengeId: string;
  purpose: Purpose | null;
  siteName: string | null;
  service: string | null;
  /** The visible text the server sent (UnifiedPush and "none" have no system notification: show these). */
  title: string | null;
  body: string | null;
}

function text(value: unknown): string | null {
  return typeof value === "string" && value.length > 0 ? value : null;
}

/** The challenge push in ``data`` (FCM data map, APNs userInfo), or ``null`` for any other message. */
export function parsePushData(data: unknown): ChallengePush | null {
  if (!data || typeof data !== "object") return null;
  const d = data as Record<string, unknown>;
  if (d.type !== CHALLENGE_PUSH_TYPE || typeof d.challenge_id !== "string" || !UUID_RE.test(d.challenge_id)) {
    return null;
  }
  return {
    challengeId: d.challenge_id,
    purpose: text(d.purpose),
    siteName: text(d.site_name),
    service: text(d.service),
    title: text(d.title),
    body: text(d.body),
  };
}

/** The challenge push in a UnifiedPush message (bytes or text of JSON), or ``null``. */
export function parseUnifiedPushMessage(message: Uint8Array | ArrayBuffer | string): ChallengePush | null {
  const raw = typeof message === "string" ? message : new TextDecoder().decode(message);
  try {
    return parsePushData(JSON.parse(raw));
  } catch {
    return null;
  }
}
