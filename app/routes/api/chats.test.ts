import { beforeEach, describe, expect, it, vi } from "vitest";
import { resolveGuest } from "~/lib/guest.server";
import { cookieFrom, routeArgs, sessionRow, settle } from "~/lib/test-support.server";
import { action } from "./chats";

const sdk = vi.hoisted(() => ({ list: vi.fn() }));
vi.mock("@trigger.dev/sdk", async (importOriginal) => ({
  ...(await importOriginal<typeof import("@trigger.dev/sdk")>()),
  sessions: { list: sdk.list },
}));
vi.mock("~/lib/trigger.server", () => ({ connectTrigger: vi.fn(async () => ({ mode: "local", browserBaseURL: "/local-trigger" })) }));
vi.mock("~/lib/env.server", async (importOriginal) => (await import("~/lib/test-support.server")).localEnvModule(importOriginal));

function post(cookie?: string) {
  const request = new Request("http://localhost/api/chats", { method: "POST", headers: cookie ? { Cookie: cookie } : {} });
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
    sdk.list.mockResolvedValue({ data: [sessionRow({ externalId: "c1", tags: [`guest:${guest.id}`], metadata: { title: "Hello" } })] });

    const response = await post(cookieFrom(guest.setCookie!));

    expect(await response.json()).toEqual({ chats: [{ id: "c1", title: "Hello", createdAt: "2026-01-01T00:00:00.000Z" }] });
    expect(sdk.list).toHaveBeenCalledWith(expect.objectContaining({ tag: `guest:${guest.id}` }));
  });
});
