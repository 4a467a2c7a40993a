import { ApiClient } from "@trigger.dev/core/v3";
import { isEngineClient } from "./engine-api.server";

/**
 * `auth.createPublicToken` asks the API for its secret key's claims, then
 * signs the token itself, and a chat agent mints a token at the start of
 * every turn: an HTTP round trip before the turn's first output. The
 * engine's claims for its own key never change, so the worker is given them
 * at boot and answers from memory. A client with another URL or key still asks.
 */
export function installLocalClaims({
  apiURL,
  secretKey,
  claims,
}: {
  apiURL: string;
  secretKey: string;
  claims: Record<string, unknown>;
}) {
  const prototype = ApiClient.prototype;
  const askServer = prototype.generateJWTClaims;
  if (typeof askServer !== "function") {
    throw new Error(
      "@trigger.dev/core changed: ApiClient.generateJWTClaims is missing; the engine's worker needs updating",
    );
  }
  const ours = isEngineClient({ apiURL, secretKey });
  prototype.generateJWTClaims = async function (this: ApiClient, ...args: Parameters<ApiClient["generateJWTClaims"]>) {
    if (ours(this, "generateJWTClaims")) return { ...claims };
    return askServer.apply(this, args);
  };
}
