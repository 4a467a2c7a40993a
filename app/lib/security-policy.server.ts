// The request rules and response headers both servers apply: the app's middleware (dev server and
// production) and the production server itself, for what React Router answers without the middleware.
import { randomBytes } from "node:crypto";
import { remoteBrowserBaseURL, type ServerEnv } from "./env.server";

export const createNonce = () => randomBytes(16).toString("base64");

export const SAFE_METHODS = new Set(["GET", "HEAD"]);

/** The origin the browser uses for this app: APP_ORIGIN behind a proxy that changes it, else the request's own. */
export function appOrigin(request: Request, env: ServerEnv): string {
  return env.APP_ORIGIN ?? new URL(request.url).origin;
}

/**
 * Why a state-changing request is refused as cross-site (CSRF), or undefined
 * when it may proceed. Every method but GET and HEAD must come from a page of
 * this app: its Origin must be the app's, and Sec-Fetch-Site, which browsers
 * send and pages cannot forge, must say same-origin when present. A request
 * with no Origin at all is refused too; every browser sends one on such requests.
 */
export function crossOriginRefusal(
  request: { method: string; headers: { get(name: string): string | null } },
  origin: string,
): string | undefined {
  if (SAFE_METHODS.has(request.method)) return undefined;
  const site = request.headers.get("Sec-Fetch-Site");
  if (site !== null && site !== "same-origin") return `a ${site} request`;
  const from = request.headers.get("Origin");
  if (from === null) return "a request with no Origin";
  if (from !== origin) return `a request from ${from.slice(0, 100)}`;
  return undefined;
}

/** The Content-Security-Policy of every response: this origin only, plus the Trigger.dev API the browser streams from. */
export function contentSecurityPolicy(nonce: string, env: ServerEnv): string {
  const remote = env.triggerMode === "remote" ? new URL(remoteBrowserBaseURL(env)).origin : undefined;
  return [
    "default-src 'self'",
    // Without a nonce (the dev server's pages), inline scripts and styles are let through instead.
    nonce ? `script-src 'self' 'nonce-${nonce}'` : "script-src 'self' 'unsafe-inline'",
    nonce ? "style-src 'self'" : "style-src 'self' 'unsafe-inline'",
    // Only style attributes (markdown table alignment), never <style> elements.
    "style-src-attr 'unsafe-inline'",
    // Images in answers stay on this origin: a model-written image URL cannot carry chat text elsewhere.
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src 'self'${remote ? ` ${remote}` : ""}`,
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
}

export function securityHeaders(nonce: string, env: ServerEnv): Record<string, string> {
  return {
    "Content-Security-Policy": contentSecurityPolicy(nonce, env),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    // Chat URLs name the chat: links in answers must not carry them to other sites.
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
    ...(env.NODE_ENV === "production" ? { "Strict-Transport-Security": "max-age=31536000; includeSubDomains" } : {}),
  };
}
