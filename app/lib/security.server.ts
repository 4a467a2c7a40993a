import type { MiddlewareFunction } from "react-router";
import { getServerEnv, type ServerEnv } from "./env.server";
import {
  APP_BODY_LIMIT_BYTES,
  errorResponse,
  HEAD_START_BODY_LIMIT_BYTES,
  HEAD_START_PATH,
  isJsonContentType,
} from "./http.server";
import { LOCAL_TRIGGER_PATH } from "./local-engine.server";
import { logger } from "./logger.server";
import { nonceContext } from "./request-context";
import { appOrigin, createNonce, crossOriginRefusal, SAFE_METHODS, securityHeaders } from "./security-policy.server";

/** The limit a declared body exceeds, when the route could never accept it; streamed bodies are capped where they are read. */
function exceededBodyLimit(request: Request): number | undefined {
  // The engine's mount applies its own per-route limits (a message may be up to 1 MiB).
  const { pathname } = new URL(request.url);
  if (pathname.startsWith(`${LOCAL_TRIGGER_PATH}/`)) return undefined;
  const limit = HEAD_START_PATH.test(pathname) ? HEAD_START_BODY_LIMIT_BYTES : APP_BODY_LIMIT_BYTES;
  const declared = Number(request.headers.get("Content-Length") ?? 0);
  return Number.isFinite(declared) && declared > limit ? limit : undefined;
}

/** A body the app could never read: typed as anything but JSON, or sent with no type at all. */
function nonJsonBody(request: Request): boolean {
  const type = request.headers.get("Content-Type");
  if (type !== null) return !isJsonContentType(type);
  return Number(request.headers.get("Content-Length") ?? 0) > 0 || request.headers.has("Transfer-Encoding");
}

/**
 * Runs first on every request the app serves (pages, data requests, resource
 * routes and the engine's mount): refuses cross-site state changes, bodies
 * too large to read and non-JSON bodies, and sets the security headers and
 * the page's CSP nonce on every response.
 */
export const securityMiddleware: MiddlewareFunction<Response> = async ({ request, context }, next) => {
  const env = getServerEnv();
  // The production server makes the nonce (it sets the headers on responses React Router never sees);
  // the dev server's pages get none: it inlines styles for hot reloading and renders them without one.
  const nonce = context.get(nonceContext) || (env.NODE_ENV === "development" ? "" : createNonce());
  context.set(nonceContext, nonce);

  const response = refuseRequest(request, env) ?? (await next());
  return withHeaders(response, securityHeaders(nonce, env));
};

/** The answer to a request the app refuses before any route reads it: cross-site, too large, or not JSON. */
export function refuseRequest(request: Request, env: ServerEnv): Response | undefined {
  const refusal = crossOriginRefusal(request, appOrigin(request, env));
  if (refusal) {
    logger("security").warn(`refused ${refusal}: ${request.method} ${new URL(request.url).pathname.slice(0, 200)}`);
    return errorResponse(403, "Cross-site requests are not allowed");
  }
  const bodyLimit = exceededBodyLimit(request);
  if (bodyLimit !== undefined) {
    return errorResponse(413, `Request body is larger than the ${bodyLimit / 1024} KiB limit`, {
      headers: { Connection: "close" },
    });
  }
  if (!SAFE_METHODS.has(request.method) && nonJsonBody(request)) {
    return errorResponse(415, "Request body must be sent as application/json");
  }
  return undefined;
}

/** Sets headers on a response, copying it first when its headers are immutable (as a fetch() response's are). */
export function withHeaders(response: Response, headers: Record<string, string>): Response {
  try {
    for (const [name, value] of Object.entries(headers)) response.headers.set(name, value);
    return response;
  } catch {
    const copy = new Response(response.body, response);
    for (const [name, value] of Object.entries(headers)) copy.headers.set(name, value);
    return copy;
  }
}
