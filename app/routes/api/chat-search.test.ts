import { beforeEach, describe, expect, it, vi } from "vitest";
import { resolveGuest } from "~/lib/guest.server";
import { cookieFrom, routeArgs, sessionRow, settle } from "~/lib/test-support.server";
import { action } from "./chat-search";

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

function post(body: unknown, cookie?: string) {
  const request = new Request("http://localhost/api/chats/search", {
    method: "POST",
    headers: { "Content-Type": "application/json", ...(cookie ? { Cookie: cookie } : {}) },
    body: JSON.stringify(body),
  });
  return settle(action(routeArgs(request, {}, "/api/chats/search")));
}

const row = (id: string, title: string, tag: string) =>
  sessionRow({ externalId: id, tags: [tag], metadata: { title, titleFormat: "text" } });

describe("POST /api/chats/search", () => {
  beforeEach(() => vi.clearAllMocks());

  it("searches every page of the guest's chats, ignoring case and accents", async () => {
    const guest = await resolveGuest(new Request("http://localhost/"));
    const tag = `guest:${guest.id}`;
    sdk.list
      .mockResolvedValueOnce({
        data: [row("c1", "Café plans", tag), row("c2", "Taxes", tag)],
        pagination: { next: "p2" },
      })
      .mockResolvedValueOnce({
        // The list filter is "any of"; a row without the guest's tag never comes back.
        data: [row("c3", "Old CAFE notes", tag), row("c4", "cafe of someone else", "guest:other")],
        pagination: {},
      });
    const response = await post({ query: "  cafe " }, cookieFrom(guest.setCookie!));
    expect(response.status).toBe(200);
    const { chats, truncated } = (await response.json()) as { chats: { id: string }[]; truncated: boolean };
    expect(chats.map((chat) => chat.id)).toEqual(["c1", "c3"]);
    expect(truncated).toBe(false);
    expect(sdk.list).toHaveBeenNthCalledWith(2, expect.objectContaining({ tag, after: "p2", limit: 100 }));
  });

  it("stops at 100 matches and says there are more", async () => {
    const guest = await resolveGuest(new Request("http://localhost/"));
    const tag = `guest:${guest.id}`;
    sdk.list.mockResolvedValue({
      data: Array.from({ length: 100 }, (_, n) => row(`c${n}`, `Match ${n}`, tag)),
      pagination: { next: "more" },
    });
    const body = (await (await post({ query: "match" }, cookieFrom(guest.setCookie!))).json()) as {
      chats: unknown[];
      truncated: boolean;
    };
    expect(body.chats).toHaveLength(100);
    expect(body.truncated).toBe(true);
  });

  it("refuses an empty or overlong query, and finds nothing for a caller with no cookie", async () => {
    expect((await post({ query: "  " })).status).toBe(400);
    expect((await post({ query: "x".repeat(201) })).status).toBe(400);
    expect(await (await post({ query: "x" })).json()).toEqual({ chats: [], truncated: false });
    expect(sdk.list).not.toHaveBeenCalled();
  });
});
