/** The JSON shapes of the device endpoints (contract "Device endpoints"). */

/** How the server reaches the phone: FCM, APNs, UnifiedPush (the distributor's https endpoint URL as the
 * push token), or ``"none"``: no push at all, the app polls {@link DeviceClient.listChallenges}. */
export type Platform = "fcm" | "apns" | "unifiedpush" | "none";

/** Why the challenge exists: a login, or a logged-in user confirming it is them before a sensitive change. */
export type Purpose = "login" | "reauthentication" | (string & {});

/** Where and from what the request came, and who is asking. Show all of it beside the choices. */
export interface ChallengeContext {
  /** Approximate location of the requesting browser, e.g. "Berlin, Germany", or "unknown location". */
  location: string | null;
  ip: string | null;
  browser: string | null;
  os: string | null;
  /** ISO 8601 UTC. */
  requested_at: string;
  /** The site's name (``PUSHMFA_SITE_NAME``), e.g. "Acme Workspace" (servers from v1.1). */
  site_name?: string;
  /** ``"login"`` or ``"reauthentication"`` ("Confirm it's you") (servers from v1.1). */
  purpose?: Purpose;
  /** The service or application the user is signing in to, when the site passes one; else null. */
  service?: string | null;
}

export interface Challenge {
  challenge_id: string;
  /** The right number among decoys, shuffled; ``null`` when the user must type the number. */
  choices: string[] | null;
  context: ChallengeContext;
  /** ISO 8601 UTC. */
  expires_at: string;
}

export type Decision = "approve" | "deny" | "report";

export interface RespondResult {
  status: "approved" | "denied";
}
