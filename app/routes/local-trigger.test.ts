import { beforeEach, describe, expect, it, vi } from "vitest";
import { RATE_LIMITS } from "~/lib/rate-limit.server";
import { clientAddressContext } from "~/lib/request-context";
import { routeArgs } from "~/lib/test-support.server";
import { action, loader } from "./local-trigger";

const state = vi.hoisted(() => ({ mode: "local" as "local" | "remote", handle: vi.fn() }));
vi.mock("~/lib/env.server", () => ({
  getServerEnv: () => ({ triggerMode: state.mode, RATE_LIMITS: "on", RATE_LIMIT_MULTIPLIER: 1, SESSION_SECRET: "s".repeat(32), NODE_ENV: "test" }),
}));
vi.mock("~/lib/local-engine.server", () => ({
  LOCAL_TRIGGER_PATH: "/local-trigger",
  getLocalEngine: vi.fn(async () => ({ handle: state.handle })),
}));

const args = (method: string) =>
  routeArgs(new Request("http://localhost/local-trigger/realtime/v1/sessions/x/out", { method }), { "*": "realtime/v1/sessions/x/out" }, "/local-trigger/*");

describe("/local-trigger/*", () => {
  beforeEach(() => {
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
    state.handle.mockResolvedValue(new Response("{}", { headers: { "Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": "*", "X-Kept": "1" } }));
    const response = await loader(args("GET"));
    expect(response.headers.get("Access-Control-Allow-Origin")).toBeNull();
    expect(response.headers.get("Access-Control-Expose-Headers")).toBeNull();
    expect(response.headers.get("X-Kept")).toBe("1");
  });

  it("limits messages per client address, with a 429 the SDK does not retry on its own", async () => {
    state.handle.mockImplementation(async () => Response.json({ ok: true }));
    const append = () => {
      const request = new Request("http://localhost/local-trigger/realtime/v1/sessions/chat-1/in/append", { method: "POST", body: "{}" });
      const args = routeArgs(request, { "*": "realtime/v1/sessions/chat-1/in/append" }, "/local-trigger/*");
      args.context.set(clientAddressContext, "203.0.113.9");
      return action(args).catch((refusal: unknown) => refusal as Response);
    };
    for (let sent = 0; sent < RATE_LIMITS.messages.perAddress; sent++) expect((await append()).status).toBe(200);
    const refused = await append();
    expect(refused.status).toBe(429);
    expect(refused.headers.get("x-should-retry")).toBe("false");
    expect(refused.headers.get("Retry-After")).toMatch(/^\d+$/);
    expect(state.handle).toHaveBeenCalledTimes(RATE_LIMITS.messages.perAddress);
  });
});
