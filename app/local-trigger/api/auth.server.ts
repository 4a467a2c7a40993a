import { createHash, timingSafeEqual } from "node:crypto";
import { generateJWT, validateJWT } from "@trigger.dev/core/v3/jwt";

/** Who is calling: the environment's secret key (full access) or a public JWT with scopes. */
export type Caller =
  | { kind: "secret-key" }
  /** `oneTimeUse` identifies a trigger token minted for a single trigger (its `otu` claim). */
  | { kind: "public-token"; scopes: string[]; oneTimeUse?: string };

export type AuthFailure = { status: 401; message: string };

export type Resource = { type: string; id?: string };

/**
 * Authenticates a bearer credential the way Trigger.dev does: the secret key
 * is full access; a public token is an HS256 JWT signed with that key, checked
 * for issuer, audience and expiry, and must be public and for this environment.
 */
export async function authenticate(
  authorization: string | null,
  secretKey: string,
  environmentId: string,
): Promise<Caller | AuthFailure> {
  const token = authorization?.match(/^Bearer\s+(\S+)\s*$/i)?.[1];
  if (!token) return { status: 401, message: "Invalid or Missing API key" };
  if (sameSecret(token, secretKey)) return { kind: "secret-key" };
  if (token.split(".").length !== 3) return { status: 401, message: "Invalid API key" };
  const verified = verifiedTokens.get(token);
  if (verified && verified.secretKey === secretKey && verified.environmentId === environmentId) {
    if (Date.now() < verified.expiresAt) return verified.caller;
    verifiedTokens.delete(token);
  }

  const result = await validateJWT(token, secretKey);
  if (!result.ok) {
    return {
      status: 401,
      message:
        result.code === "ERR_JWT_EXPIRED"
          ? "Public Access Token has expired. Request a new one."
          : `Public Access Token is invalid: ${result.error}`,
    };
  }
  const claims = result.payload as Record<string, unknown>;
  if (claims.pub !== true || claims.sub !== environmentId) {
    return { status: 401, message: "Public Access Token is not valid for this environment" };
  }
  const scopes = Array.isArray(claims.scopes) ? claims.scopes.filter((s): s is string => typeof s === "string") : [];
  const caller: Caller =
    claims.otu === true
      ? { kind: "public-token", scopes, oneTimeUse: createHash("sha256").update(token).digest("hex") }
      : { kind: "public-token", scopes };
  if (typeof claims.exp === "number") {
    if (verifiedTokens.size >= MAX_VERIFIED_TOKENS) verifiedTokens.delete(verifiedTokens.keys().next().value!);
    verifiedTokens.set(token, { caller, secretKey, environmentId, expiresAt: claims.exp * 1000 });
  }
  return caller;
}

/**
 * Public tokens already verified, until they expire. A chat's token comes with
 * every message and stream request, and checking its signature is asynchronous
 * work that waits behind whatever else the engine does. The entry is for the
 * key and environment it was checked against; the oldest is dropped first.
 */
const verifiedTokens = new Map<
  string,
  { caller: Caller; secretKey: string; environmentId: string; expiresAt: number }
>();
const MAX_VERIFIED_TOKENS = 10_000;

export const isAuthFailure = (value: Caller | AuthFailure): value is AuthFailure => "status" in value;

/**
 * Scope check with the hosted service's grammar, `action:type[:id]`, for
 * resources other than a session's parts (creating a session checks
 * `write:tasks:<id>` or `write:sessions`): a bare `admin` is a wildcard,
 * `action:all` covers every type, a type-level scope covers every id.
 */
export function can(caller: Caller, action: "read" | "write" | "admin", resources: Resource[]): boolean {
  if (caller.kind === "secret-key") return true;
  return caller.scopes.some((scope) => {
    const [scopeAction, scopeType, ...rest] = scope.split(":");
    const scopeId = rest.length > 0 ? rest.join(":") : undefined;
    if (scopeAction === "admin" && scopeType === undefined) return true;
    if (scopeAction !== action) return false;
    if (scopeType === "all") return true;
    return resources.some(
      (resource) => scopeType === resource.type && (scopeId === undefined || scopeId === resource.id),
    );
  });
}

/** What a request does to a session, as the scope table in the SDK's `ai-chat/reference.mdx` names it. */
export type SessionOperation =
  /** `GET /api/v1/sessions/:id`. */
  | { kind: "retrieve" }
  /** Close, end-and-continue, update metadata. */
  | { kind: "manage" }
  /** Subscribe, HEAD probe or read the records of one stream. */
  | { kind: "read-stream"; channel?: string; io: "in" | "out" }
  /** Append to one stream, or initialize it for writing. */
  | { kind: "write-stream"; channel?: string; io: "in" | "out" };

/**
 * Whether the caller may do `operation` on the session known by any of
 * `sessionIds` (URL key, friendly id, external id), per the 4.8.3 reference
 * (`ai-chat/reference.mdx` "Session token scopes", `ai-chat/side-channels.mdx`
 * "Auth"):
 * - `read:sessions:<id>` retrieves the session and reads `.out` and every side
 *   channel; `read:sessions:<id>:out` reads `.out` only;
 *   `read:sessions:<id>:channels:<name>[:in|:out]` reads one channel (or one
 *   direction of it) and nothing else;
 * - `write:sessions:<id>` appends to `.in` and every channel's `.in`, closes,
 *   ends-and-continues and updates metadata; `write:sessions:<id>:channels:<name>`
 *   appends to that channel's `.in` only;
 * - `admin:sessions[:<id>]` and a bare `admin` grant all of that, and
 *   `action:all` / `action:sessions` cover every session;
 * - reading the reserved `.in` and writing any `.out` need the secret key, so
 *   no token can replay what clients sent or forge what the agent says.
 */
export function canOnSession(caller: Caller, operation: SessionOperation, sessionIds: string[]): boolean {
  if (caller.kind === "secret-key") return true;
  if (operation.kind === "write-stream" && operation.io === "out") return false;
  if (operation.kind === "read-stream" && operation.io === "in" && operation.channel === undefined) return false;
  const action = operation.kind === "write-stream" || operation.kind === "manage" ? "write" : "read";
  return caller.scopes.some((scope) => {
    const [scopeAction, scopeType, ...rest] = scope.split(":");
    if (scopeAction === "admin" && scopeType === undefined) return true;
    if (scopeAction !== action && scopeAction !== "admin") return false;
    if (scopeType === "all") return true;
    if (scopeType !== "sessions") return false;
    if (rest.length === 0) return true;
    const scopeTarget = rest.join(":");
    return sessionIds.some((id) => scopeTarget === id || subResourcesOf(operation, action, id).includes(scopeTarget));
  });
}

/** The narrower scope targets (past the session id) that also grant `operation`. */
function subResourcesOf(operation: SessionOperation, action: "read" | "write", id: string): string[] {
  if (operation.kind !== "read-stream" && operation.kind !== "write-stream") return [];
  if (operation.channel === undefined) return action === "read" && operation.io === "out" ? [`${id}:out`] : [];
  const channel = `${id}:channels:${operation.channel}`;
  return [channel, `${channel}:${operation.io}`];
}

/** The token `POST /api/v1/sessions` returns: read and write on that one session. */
export function mintSessionToken(options: {
  secretKey: string;
  environmentId: string;
  sessionKey: string;
  expirationTime: string;
}) {
  return generateJWT({
    secretKey: options.secretKey,
    payload: {
      sub: options.environmentId,
      pub: true,
      scopes: [`read:sessions:${options.sessionKey}`, `write:sessions:${options.sessionKey}`],
    },
    expirationTime: options.expirationTime,
  });
}

function sameSecret(candidate: string, secret: string) {
  const a = Buffer.from(candidate);
  const b = Buffer.from(secret);
  return a.length === b.length && timingSafeEqual(a, b);
}
