import { RouterContextProvider } from "react-router";
import { describe, expect, it, vi } from "vitest";
import { parseServerEnv } from "./env.server";
import { nonceContext } from "./request-context";
import { contentSecurityPolicy } from "./security-policy.server";
import { securityMiddleware } from "./security.server";

const env = vi.hoisted(() => ({ current: {} as Record<string, string> }));
vi.mock("./env.server", async (importOriginal) => {
  const actual = await importOriginal<typeof import("./env.server")>();
  return { ...actual, getServerEnv: () => actual.parseServerEnv({ NODE_ENV: "production", ...env.current }) };
});

const APP = "http://chat.test";

async function run(path: string, init: RequestInit & { headers?: Record<string, string> } = {}) {
  const request = new Request(`${APP}${path}`, init);
  const context = new RouterContextProvider();
  const next = vi.fn(async () => Response.json({ ok: true }));
  const response = await securityMiddleware({ request, context, params: {}, unstable_pattern: path } as never, next);
  return { response: response as Response, next, nonce: context.get(nonceContext) };
}

const post = (path: string, headers: Record<string, string>, body?: string) =>
  run(path, { method: "POST", headers, body });

describe("securityMiddleware: state changes come from the app's own pages only", () => {
  it("lets a same-origin POST through", async () => {
    const { response, next } = await post("/api/chats", { Origin: APP, "Sec-Fetch-Site": "same-origin" });
    expect(next).toHaveBeenCalledOnce();
    expect(response.status).toBe(200);
  });

  it.each([
    ["another site", { Origin: "https://evil.example", "Sec-Fetch-Site": "cross-site" }],
    ["another port of the same host (same-site)", { Origin: "http://chat.test:8080", "Sec-Fetch-Site": "same-site" }],
    ["a subdomain", { Origin: "http://evil.chat.test" }],
    ["a sandboxed frame (Origin: null)", { Origin: "null" }],
    ["no Origin at all", {}],
    ["the right Origin but a cross-site fetch metadata header", { Origin: APP, "Sec-Fetch-Site": "cross-site" }],
    ["the other scheme", { Origin: "https://chat.test" }],
  ])("refuses %s with 403 and never runs the route", async (_, headers) => {
    const { response, next } = await post("/api/chats/0b9c5f4e-7d2a-4c1e-9f3b-2a6d8e1c4b7a/delete", headers);
    expect(response.status).toBe(403);
    expect(await response.json()).toEqual({ error: "Cross-site requests are not allowed" });
    expect(next).not.toHaveBeenCalled();
  });

  it.each(["PUT", "PATCH", "DELETE", "OPTIONS"])("applies to %s as well", async (method) => {
    const { response, next } = await run("/local-trigger/realtime/v1/sessions/x/in/append", {
      method,
      headers: { Origin: "https://evil.example" },
    });
    expect(response.status).toBe(403);
    expect(next).not.toHaveBeenCalled();
  });

  it("lets cross-site GETs through: they change nothing", async () => {
    const { response } = await run("/chat/x", { headers: { "Sec-Fetch-Site": "cross-site" } });
    expect(response.status).toBe(200);
  });

  it("checks against APP_ORIGIN when a proxy changes the origin the server sees", async () => {
    env.current = { APP_ORIGIN: "https://chat.example.com/" };
    try {
      expect((await post("/api/chats", { Origin: "https://chat.example.com" })).response.status).toBe(200);
      expect((await post("/api/chats", { Origin: APP })).response.status).toBe(403);
    } finally {
      env.current = {};
    }
  });
});

describe("securityMiddleware: bodies", () => {
  it("refuses a declared body over the app's limit before the route reads it", async () => {
    const { response, next } = await post("/api/chats/x/session", {
      Origin: APP,
      "Content-Type": "application/json",
      "Content-Length": String(50 * 1024 * 1024),
    });
    expect(response.status).toBe(413);
    expect(next).not.toHaveBeenCalled();
  });

  it("leaves the engine's mount to the engine's own, larger per-route limits", async () => {
    const { next } = await post("/local-trigger/realtime/v1/sessions/x/in/append", {
      Origin: APP,
      "Content-Type": "application/json",
      "Content-Length": String(100 * 1024),
    });
    expect(next).toHaveBeenCalledOnce();
  });

  it.each(["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"])(
    "refuses a %s body with 415",
    async (type) => {
      const { response, next } = await post("/api/chats/x/session", { Origin: APP, "Content-Type": type }, "title=hi");
      expect(response.status).toBe(415);
      expect(next).not.toHaveBeenCalled();
    },
  );

  it("accepts JSON with a charset", async () => {
    const { next } = await post(
      "/api/chats/x/session",
      { Origin: APP, "Content-Type": "application/json; charset=utf-8" },
      "{}",
    );
    expect(next).toHaveBeenCalledOnce();
  });
});

describe("securityMiddleware: headers", () => {
  it("puts the security headers and a fresh nonce on every response, refusals included", async () => {
    const first = await run("/chat/x");
    const second = await post("/api/chats", {});
    for (const { response, nonce } of [first, second]) {
      expect(nonce).toMatch(/^[A-Za-z0-9+/=]{20,}$/);
      expect(response.headers.get("Content-Security-Policy")).toContain(`'nonce-${nonce}'`);
      expect(response.headers.get("Content-Security-Policy")).toContain("frame-ancestors 'none'");
      expect(response.headers.get("X-Content-Type-Options")).toBe("nosniff");
      expect(response.headers.get("X-Frame-Options")).toBe("DENY");
      expect(response.headers.get("Referrer-Policy")).toBe("same-origin");
      expect(response.headers.get("Strict-Transport-Security")).toMatch(/^max-age=\d+/);
    }
    expect(first.nonce).not.toBe(second.nonce);
  });

  it("copies a response whose headers are immutable", async () => {
    const request = new Request(`${APP}/x`);
    const immutable = Response.redirect(`${APP}/y`, 302);
    const response = (await securityMiddleware(
      { request, context: new RouterContextProvider(), params: {} } as never,
      async () => immutable,
    )) as Response;
    expect(response.status).toBe(302);
    expect(response.headers.get("X-Content-Type-Options")).toBe("nosniff");
  });
});

describe("contentSecurityPolicy", () => {
  it("allows only this origin locally", () => {
    const policy = contentSecurityPolicy("abc", parseServerEnv({}));
    expect(policy).toContain("connect-src 'self';");
    expect(policy).toContain("script-src 'self' 'nonce-abc';");
    expect(policy).not.toContain("unsafe-eval");
  });

  it("lets inline scripts and styles through only on pages without a nonce (the dev server's)", () => {
    const policy = contentSecurityPolicy("", parseServerEnv({ NODE_ENV: "development" }));
    expect(policy).toContain("script-src 'self' 'unsafe-inline';");
    expect(contentSecurityPolicy("abc", parseServerEnv({}))).not.toMatch(/(script|style)-src [^;]*unsafe-inline/);
  });

  it("adds the Trigger.dev API origin the browser streams from in remote mode", () => {
    const remote = parseServerEnv({
      TRIGGER_SECRET_KEY: "tr_dev_x",
      SESSION_SECRET: "s".repeat(32),
      TRIGGER_API_URL: "https://trigger.internal:8443/api",
      TRIGGER_PUBLIC_API_URL: "https://realtime.example.com/v1",
    });
    expect(contentSecurityPolicy("abc", remote)).toContain("connect-src 'self' https://realtime.example.com;");
  });
});
