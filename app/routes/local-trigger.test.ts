import { beforeEach, describe, expect, it, vi } from "vitest";
import { serveLocalEngine } from "~/lib/local-engine-mount.server";
import { captureLogs } from "~/lib/logger.server";
import { RATE_LIMITS, resetRateLimits } from "~/lib/rate-limit.server";
import { clientAddressContext } from "~/lib/request-context";
import { routeArgs } from "~/lib/test-support.server";
import { action, loader } from "./local-trigger";

const state = vi.hoisted(() => ({ mode: "local" as "local" | "remote", handle: vi.fn() }));
vi.mock("~/lib/env.server", () => ({
  getServerEnv: () => ({
    triggerMode: state.mode,
    RATE_LIMITS: "on",
    RATE_LIMIT_MULTIPLIER: 1,
    SESSION_SECRET: "s".repeat(32),
    NODE_ENV: "test",
    LOG_LEVEL: "silent",
  }),
}));
vi.mock("~/lib/local-engine.server", () => ({
  LOCAL_TRIGGER_PATH: "/local-trigger",
  getLocalEngine: vi.fn(async () => ({ handle: state.handle })),
}));

const args = (method: string) =>
  routeArgs(
    new Request("http://localhost/local-trigger/realtime/v1/sessions/x/out", { method }),
    { "*": "realtime/v1/sessions/x/out" },
    "/local-trigger/*",
  );

describe("/local-trigger/*", () => {
  beforeEach(() => {
    resetRateLimits();
    state.mode = "local";
    state.handle.mockReset();
  });

  it("hands reads and writes to the embedded engine, returning its response untouched", async () => {
    const stream = new Response(new ReadableStream(), { headers: { "Content-Type": "text/event-stream" } });
    state.handle.mockResolvedValue(stream);

    const get = args("GET");
    expect(await loader(get)).toBe(stream);
    expect(state.handle).toHaveBeenCalledWith(get.request, "/local-trigger");

    const post = args("POST");
    await action(post);
    expect(state.handle).toHaveBeenLastCalledWith(post.request, "/local-trigger");
  });

  it("does not exist when the app runs against Trigger.dev", async () => {
    state.mode = "remote";
    expect((await loader(args("GET"))).status).toBe(404);
    expect(state.handle).not.toHaveBeenCalled();
  });

  it("keeps the engine's any-origin CORS headers off the app's origin", async () => {
    state.handle.mockResolvedValue(
      new Response("{}", {
        headers: { "Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": "*", "X-Kept": "1" },
      }),
    );
    const response = await loader(args("GET"));
    expect(response.headers.get("Access-Control-Allow-Origin")).toBeNull();
    expect(response.headers.get("Access-Control-Expose-Headers")).toBeNull();
    expect(response.headers.get("X-Kept")).toBe("1");
  });

  function write(
    path: string,
    { address = "203.0.113.9", bytes = 2, method = "POST" }: { address?: string; bytes?: number; method?: string } = {},
  ) {
    const request = new Request(`http://localhost/local-trigger${path}`, {
      method,
      body: "x".repeat(bytes),
      headers: { "Content-Length": String(bytes) },
    });
    const args = routeArgs(request, { "*": path.slice(1) }, "/local-trigger/*");
    args.context.set(clientAddressContext, address);
    return action(args).catch((refusal: unknown) => refusal as Response);
  }

  it("limits writes to a chat's streams, side channels included, with a 429 the SDK does not retry on its own", async () => {
    state.handle.mockImplementation(async () => Response.json({ ok: true }));
    const paths = ["/realtime/v1/sessions/chat-1/in/append", "/realtime/v1/sessions/chat-1/channels/notes/in/append"];
    // No cookie: counted by the chat written to, so dropping the cookie buys nothing.
    for (let sent = 0; sent < RATE_LIMITS.messages.perGuest; sent++)
      expect((await write(paths[sent % 2]!)).status).toBe(200);
    const refused = await write(paths[0]!);
    expect(refused.status).toBe(429);
    expect(refused.headers.get("x-should-retry")).toBe("false");
    expect(refused.headers.get("Retry-After")).toMatch(/^\d+$/);
    expect((await write(paths[1]!)).status).toBe(429);
    expect(state.handle).toHaveBeenCalledTimes(RATE_LIMITS.messages.perGuest);
    // Another chat from the same address still has its own budget, within the address's.
    expect((await write("/realtime/v1/sessions/chat-2/in/append")).status).toBe(200);
  });

  it("limits a session token's writes to the session itself too: close, end-and-continue (which starts a run), metadata", async () => {
    state.handle.mockImplementation(async () => Response.json({ ok: true }));
    const writes = [
      { path: "/api/v1/sessions/chat-4/end-and-continue", method: "POST" },
      { path: "/api/v1/sessions/chat-4/close", method: "POST" },
      { path: "/api/v1/sessions/chat-4", method: "PATCH" },
    ];
    for (let sent = 0; sent < RATE_LIMITS.messages.perGuest; sent++) {
      const { path, method } = writes[sent % writes.length]!;
      expect((await write(path, { method })).status).toBe(200);
    }
    expect((await write("/api/v1/sessions/chat-4/end-and-continue", { method: "POST" })).status).toBe(429);
  });

  it("does not count writes whose credentials the engine refuses: they stored nothing", async () => {
    state.handle.mockImplementation(async () => Response.json({ error: "Unauthorized" }, { status: 403 }));
    for (let sent = 0; sent < RATE_LIMITS.messages.perGuest * 2; sent++)
      expect((await write("/realtime/v1/sessions/chat-3/in/append")).status).toBe(403);
    state.handle.mockImplementation(async () => Response.json({ ok: true }));
    expect((await write("/realtime/v1/sessions/chat-3/in/append")).status).toBe(200);
  });

  it("limits what the writes store by size, not only by count", async () => {
    state.handle.mockImplementation(async () => Response.json({ ok: true }));
    const mib = 1024 * 1024;
    const perGuestMiB = RATE_LIMITS.uploadKiB.perGuest / 1024;
    for (let sent = 0; sent < perGuestMiB; sent++)
      expect(
        (await write("/realtime/v1/sessions/chat-big/channels/blob/in/append", { address: "203.0.113.10", bytes: mib }))
          .status,
      ).toBe(200);
    const refused = await write("/realtime/v1/sessions/chat-big/channels/blob/in/append", {
      address: "203.0.113.10",
      bytes: mib,
    });
    expect(refused.status).toBe(429);
    expect(await refused.json()).toEqual({ error: expect.stringMatching(/^You’re sending too much too quickly/) });
  });

  describe("as the production server serves it, beside React Router", () => {
    const ORIGIN = "http://localhost";
    const append = (init: RequestInit & { headers?: Record<string, string> } = {}) =>
      new Request(`${ORIGIN}/local-trigger/realtime/v1/sessions/chat-5/in/append`, {
        method: "POST",
        body: '{"kind":"message"}',
        ...init,
        headers: { Origin: ORIGIN, "Content-Type": "application/json", ...init.headers },
      });

    it("hands the engine what the route would", async () => {
      state.handle.mockResolvedValue(Response.json({ ok: true, seq: 3 }));
      const request = append();
      const response = await serveLocalEngine(request, "203.0.113.20");
      expect(await response.json()).toEqual({ ok: true, seq: 3 });
      expect(state.handle).toHaveBeenCalledWith(request, "/local-trigger");
    });

    it("refuses what the app's security middleware refuses on the route: cross-site writes and bodies not sent as JSON", async () => {
      const crossSite = await serveLocalEngine(append({ headers: { Origin: "https://evil.example" } }), null);
      expect(crossSite.status).toBe(403);
      const notJson = await serveLocalEngine(append({ headers: { "Content-Type": "text/plain" } }), null);
      expect(notJson.status).toBe(415);
      expect(state.handle).not.toHaveBeenCalled();
    });

    it("answers a refused write and a failure with a response instead of throwing, and logs the failure", async () => {
      state.handle.mockImplementation(async () => Response.json({ ok: true }));
      for (let sent = 0; sent < RATE_LIMITS.messages.perGuest; sent++) await serveLocalEngine(append(), "203.0.113.21");
      const limited = await serveLocalEngine(append(), "203.0.113.21");
      expect(limited.status).toBe(429);
      expect(limited.headers.get("x-should-retry")).toBe("false");

      const logs = captureLogs();
      state.handle.mockRejectedValue(new Error("disk on fire"));
      const failed = await serveLocalEngine(new Request(`${ORIGIN}/local-trigger/api/v1/sessions/chat-6`), null);
      logs.stop();
      expect(failed.status).toBe(500);
      expect(await failed.json()).toEqual({ error: "Something went wrong" });
      expect(logs.lines.some((line) => line.level === "error" && line.raw.includes("disk on fire"))).toBe(true);
    });
  });
});
