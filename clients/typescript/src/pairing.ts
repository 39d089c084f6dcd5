/** The pairing QR code: ``pushmfa://pair?token=...&server=...&v=1`` (docs/device-api.md section 1). */

export interface PairingInfo {
  /** The single-use pairing token (10 minutes by default). */
  token: string;
  /** Absolute URL of the API root, ending in ``/``; every endpoint is under it. */
  server: string;
}

/**
 * Parse a scanned pairing URI. ``scheme`` is the site's ``PUSHMFA_PAIRING_URI_SCHEME`` (default
 * ``pushmfa``). Throws ``TypeError`` for another scheme, another version, a missing part, or a ``server``
 * that is not an http(s) URL (``https`` is required unless ``allowInsecureServer`` is set, for
 * development against ``http://localhost``).
 */
export function parsePairingUri(
  uri: string,
  options: { scheme?: string; allowInsecureServer?: boolean } = {},
): PairingInfo {
  const scheme = options.scheme ?? "pushmfa";
  const prefix = `${scheme}://pair?`;
  if (typeof uri !== "string" || !uri.startsWith(prefix)) throw new TypeError("Not a pairing URI.");
  const query = new URLSearchParams(uri.slice(prefix.length).split("#")[0]);
  const token = query.get("token");
  const server = query.get("server");
  if (query.getAll("v").length !== 1 || query.get("v") !== "1") throw new TypeError("Not a version 1 pairing URI.");
  if (!token || !server || query.getAll("token").length !== 1 || query.getAll("server").length !== 1) {
    throw new TypeError("The pairing URI lacks its token or server.");
  }
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new TypeError("The pairing URI's server is not a URL.");
  }
  const secure = url.protocol === "https:";
  if (!secure && !(options.allowInsecureServer && url.protocol === "http:")) {
    throw new TypeError("The pairing URI's server must be an https URL.");
  }
  if (url.username || url.password || url.search || url.hash) throw new TypeError("Unexpected parts in the server URL.");
  const base = url.href.endsWith("/") ? url.href : url.href + "/";
  return { token, server: base };
}
