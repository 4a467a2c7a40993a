import { beforeEach, describe, expect, it, vi } from "vitest";
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
});
