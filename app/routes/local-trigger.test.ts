import { beforeEach, describe, expect, it, vi } from "vitest";
import { routeArgs } from "~/lib/test-support.server";
import { action, loader } from "./local-trigger";

const state = vi.hoisted(() => ({ mode: "local" as "local" | "remote", handle: vi.fn() }));
vi.mock("~/lib/env.server", () => ({ getServerEnv: () => ({ triggerMode: state.mode }) }));
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
});
