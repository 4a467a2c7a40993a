import { randomBytes } from "node:crypto";
import { remoteBrowserBaseURL, type ServerEnv } from "./env.server";

export const createNonce = () => randomBytes(16).toString("base64");

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
