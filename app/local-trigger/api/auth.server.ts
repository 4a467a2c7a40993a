import { timingSafeEqual } from "node:crypto";
import { generateJWT, validateJWT } from "@trigger.dev/core/v3/jwt";

/** Who is calling: the environment's secret key (full access) or a public JWT with scopes. */
export type Caller = { kind: "secret-key" } | { kind: "public-token"; scopes: string[] };

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
  return { kind: "public-token", scopes };
}

export const isAuthFailure = (value: Caller | AuthFailure): value is AuthFailure => "status" in value;

/**
 * Scope check with the hosted service's grammar, `action:type[:id]`: a bare
 * `admin` is a wildcard, `action:all` covers every type, a type-level scope
 * covers every id, and a route addressed by several keys (URL key, friendly
 * id, external id) passes when any one of them matches.
 */
export function can(caller: Caller, action: "read" | "write" | "admin", resources: Resource[]): boolean {
  if (caller.kind === "secret-key") return true;
  return caller.scopes.some((scope) => {
    const [scopeAction, scopeType, ...rest] = scope.split(":");
    const scopeId = rest.length > 0 ? rest.join(":") : undefined;
    if (scopeAction === "admin" && scopeType === undefined) return true;
    if (scopeAction !== action) return false;
    if (scopeType === "all") return true;
    return resources.some((resource) => scopeType === resource.type && (scopeId === undefined || scopeId === resource.id));
  });
}

/** The token `POST /api/v1/sessions` returns: read and write on that one session. */
export function mintSessionToken(options: { secretKey: string; environmentId: string; sessionKey: string; expirationTime: string }) {
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
