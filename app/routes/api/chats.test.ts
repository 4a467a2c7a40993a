import { ApiError } from "@trigger.dev/sdk";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { resolveGuest } from "~/lib/guest.server";
import { cookieFrom, routeArgs, sessionRow, settle } from "~/lib/test-support.server";
import { action } from "./chats";

const sdk = vi.hoisted(() => ({ list: vi.fn() }));
vi.mock("@trigger.dev/sdk", async (importOriginal) => ({
  ...(await importOriginal<typeof import("@trigger.dev/sdk")>()),
  sessions: { list: sdk.list },
}));
vi.mock("~/lib/trigger.server", () => ({
  connectTrigger: vi.fn(async () => ({ mode: "local", browserBaseURL: "/local-trigger" })),
}));
vi.mock("~/lib/env.server", async (importOriginal) =>
  (await import("~/lib/test-support.server")).localEnvModule(importOriginal),
);

function post(cookie?: string, body?: unknown) {
  const headers: Record<string, string> = cookie ? { Cookie: cookie } : {};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const request = new Request("http://localhost/api/chats", {
    method: "POST",
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return settle(action(routeArgs(request, {}, "/api/chats")));
}

describe("POST /api/chats", () => {
  beforeEach(() => vi.clearAllMocks());

  it("lists nothing for a caller without a guest cookie, without asking Trigger.dev", async () => {
    const response = await post();
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ chats: [] });
    expect(sdk.list).not.toHaveBeenCalled();
  });

  it("lists the guest's chats by their owner tag", async () => {
    const guest = await resolveGuest(new Request("http://localhost/"));
    sdk.list.mockResolvedValue({
      data: [sessionRow({ externalId: "c1", tags: [`guest:${guest.id}`], metadata: { title: "Hello" } })],
      pagination: {},
    });

    const response = await post(cookieFrom(guest.setCookie!));

    expect(await response.json()).toEqual({
      chats: [{ id: "c1", title: "Hello", createdAt: "2026-01-01T00:00:00.000Z" }],
    });
    expect(sdk.list).toHaveBeenCalledWith(expect.objectContaining({ tag: `guest:${guest.id}`, after: undefined }));
  });

  it("pages: a cursor asks for the page after it, and the answer carries the next one", async () => {
    const guest = await resolveGuest(new Request("http://localhost/"));
    sdk.list.mockResolvedValue({
      data: [sessionRow({ externalId: "c51", tags: [`guest:${guest.id}`] })],
      pagination: { next: "session_c51" },
    });

    const response = await post(cookieFrom(guest.setCookie!), { cursor: "session_c50" });

    expect(await response.json()).toEqual({
      chats: [{ id: "c51", title: "New chat", createdAt: "2026-01-01T00:00:00.000Z" }],
      nextCursor: "session_c51",
    });
    expect(sdk.list).toHaveBeenCalledWith(
      expect.objectContaining({ tag: `guest:${guest.id}`, after: "session_c50", limit: 50 }),
    );
  });

  it("refuses a malformed cursor with a 400 before asking Trigger.dev", async () => {
    const guest = await resolveGuest(new Request("http://localhost/"));
    for (const cursor of ["", "a b", "../x", "x".repeat(129), 42, null]) {
      const response = await post(cookieFrom(guest.setCookie!), { cursor });
      expect(response.status, JSON.stringify(cursor)).toBe(400);
      expect(((await response.json()) as { error: string }).error).toMatch(/^Invalid request body: cursor/);
    }
    expect(sdk.list).not.toHaveBeenCalled();
  });

  it("answers a cursor Trigger.dev does not know with a 400, not a server error", async () => {
    const guest = await resolveGuest(new Request("http://localhost/"));
    sdk.list.mockRejectedValue(
      new ApiError(400, { error: 'Unknown page cursor "session_gone"' }, undefined, undefined),
    );

    const response = await post(cookieFrom(guest.setCookie!), { cursor: "session_gone" });

    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: "Unknown cursor: reload the chat list" });
  });
});
