import { beforeEach, describe, expect, it, vi } from "vitest";
import { resolveGuest } from "~/lib/guest.server";
import { cookieFrom, routeArgs, sessionRow, settle } from "~/lib/test-support.server";
import { action } from "./chat-delete";

const sdk = vi.hoisted(() => ({
  retrieve: vi.fn(),
  close: vi.fn(),
  mode: "local" as "local" | "remote",
  deleteSession: vi.fn(),
}));
vi.mock("@trigger.dev/sdk", async (importOriginal) => ({
  ...(await importOriginal<typeof import("@trigger.dev/sdk")>()),
  sessions: { retrieve: sdk.retrieve, close: sdk.close },
}));
vi.mock("~/lib/trigger.server", () => ({
  connectTrigger: vi.fn(async () => ({ mode: sdk.mode, browserBaseURL: "/local-trigger" })),
}));
vi.mock("~/lib/local-engine.server", () => ({
  getLocalEngine: vi.fn(async () => ({ deleteSession: sdk.deleteSession })),
}));
vi.mock("~/lib/env.server", async (importOriginal) =>
  (await import("~/lib/test-support.server")).localEnvModule(importOriginal),
);

const CHAT_ID = "0b9c5f4e-7d2a-4c1e-9f3b-2a6d8e1c4b7a";

function post(chatId: string, cookie?: string) {
  const request = new Request(`http://localhost/api/chats/${chatId}/delete`, {
    method: "POST",
    headers: cookie ? { Cookie: cookie } : {},
  });
  return settle(action(routeArgs(request, { chatId }, "/api/chats/:chatId/delete")));
}

async function guestCookie() {
  const guest = await resolveGuest(new Request("http://localhost/"));
  return { id: guest.id, cookie: cookieFrom(guest.setCookie!) };
}

describe("POST /api/chats/:chatId/delete", () => {
  beforeEach(() => {
    vi.clearAllMocks();
    sdk.mode = "local";
  });

  it("rejects a chat id that is not a UUID", async () => {
    expect((await post("x")).status).toBe(400);
  });

  it("deletes the owner's chat from the embedded engine, data and all, in local mode", async () => {
    const owner = await guestCookie();
    sdk.retrieve.mockResolvedValue(sessionRow({ externalId: CHAT_ID, tags: [`guest:${owner.id}`] }));

    const response = await post(CHAT_ID, owner.cookie);

    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ deleted: CHAT_ID });
    expect(sdk.deleteSession).toHaveBeenCalledWith(CHAT_ID, { reason: "Deleted by its owner" });
    expect(sdk.close).not.toHaveBeenCalled();
  });

  it("closes the owner's chat session on Trigger.dev, which has no erase", async () => {
    sdk.mode = "remote";
    const owner = await guestCookie();
    sdk.retrieve.mockResolvedValue(sessionRow({ externalId: CHAT_ID, tags: [`guest:${owner.id}`] }));

    const response = await post(CHAT_ID, owner.cookie);

    expect(response.status).toBe(200);
    expect(sdk.close).toHaveBeenCalledWith(CHAT_ID, { reason: "Deleted by its owner" });
    expect(sdk.deleteSession).not.toHaveBeenCalled();
  });

  it("answers 404 for another guest's chat and for one already deleted, closing nothing", async () => {
    const owner = await guestCookie();
    const intruder = await guestCookie();
    sdk.retrieve.mockResolvedValue(sessionRow({ externalId: CHAT_ID, tags: [`guest:${owner.id}`] }));
    expect((await post(CHAT_ID, intruder.cookie)).status).toBe(404);

    sdk.retrieve.mockResolvedValue(
      sessionRow({ externalId: CHAT_ID, tags: [`guest:${owner.id}`], closedAt: new Date() }),
    );
    expect((await post(CHAT_ID, owner.cookie)).status).toBe(404);
    expect(sdk.close).not.toHaveBeenCalled();
    expect(sdk.deleteSession).not.toHaveBeenCalled();
  });
});
