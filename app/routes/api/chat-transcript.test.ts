import { beforeEach, describe, expect, it, vi } from "vitest";
import { resolveGuest } from "~/lib/guest.server";
import { cookieFrom, routeArgs, sessionRow, settle } from "~/lib/test-support.server";
import { action } from "./chat-transcript";

const sdk = vi.hoisted(() => ({ retrieve: vi.fn(), loadTranscript: vi.fn() }));
vi.mock("@trigger.dev/sdk", async (importOriginal) => ({
  ...(await importOriginal<typeof import("@trigger.dev/sdk")>()),
  sessions: { retrieve: sdk.retrieve },
}));
vi.mock("@trigger.dev/sdk/ai", () => ({
  chat: { createLoadTranscriptAction: () => sdk.loadTranscript },
  defaultStorage: {},
}));
vi.mock("~/lib/trigger.server", () => ({
  connectTrigger: vi.fn(async () => ({ mode: "local", browserBaseURL: "/local-trigger" })),
}));
vi.mock("~/lib/env.server", async (importOriginal) =>
  (await import("~/lib/test-support.server")).localEnvModule(importOriginal),
);

const CHAT_ID = "0b9c5f4e-7d2a-4c1e-9f3b-2a6d8e1c4b7a";
const older = [{ id: "m1", role: "user", parts: [{ type: "text", text: "Hi" }] }];

function post(chatId: string, { body, cookie }: { body?: unknown; cookie?: string } = {}) {
  const request = new Request(`http://localhost/api/chats/${chatId}/transcript`, {
    method: "POST",
    body: body === undefined ? undefined : JSON.stringify(body),
    headers: { "Content-Type": "application/json", ...(cookie ? { Cookie: cookie } : {}) },
  });
  return settle(action(routeArgs(request, { chatId }, "/api/chats/:chatId/transcript")));
}

async function ownedChat() {
  const guest = await resolveGuest(new Request("http://localhost/"));
  sdk.retrieve.mockResolvedValue(sessionRow({ externalId: CHAT_ID, tags: [`guest:${guest.id}`] }));
  return cookieFrom(guest.setCookie!);
}

describe("POST /api/chats/:chatId/transcript", () => {
  beforeEach(() => vi.clearAllMocks());

  it("rejects a bad chat id and bad paging input", async () => {
    const cookie = await ownedChat();
    expect((await post("nope", { cookie })).status).toBe(400);
    expect((await post(CHAT_ID, { cookie, body: { limit: 0 } })).status).toBe(400);
    expect((await post(CHAT_ID, { cookie, body: { before: "" } })).status).toBe(400);
    expect(sdk.loadTranscript).not.toHaveBeenCalled();
  });

  it("answers 404 to anyone but the owner, without reading the transcript", async () => {
    await ownedChat();
    const stranger = await resolveGuest(new Request("http://localhost/"));
    expect((await post(CHAT_ID, { cookie: cookieFrom(stranger.setCookie!) })).status).toBe(404);
    expect((await post(CHAT_ID)).status).toBe(404);
    expect(sdk.loadTranscript).not.toHaveBeenCalled();
  });

  it("returns the owner a page of messages and the cursor for the page before it", async () => {
    const cookie = await ownedChat();
    sdk.loadTranscript.mockResolvedValue({
      messages: older,
      state: null,
      nextCursor: "m0",
      cursors: { lastOutEventId: "7" },
    });

    const response = await post(CHAT_ID, { cookie, body: { before: "m2", limit: 10 } });

    expect(response.status).toBe(200);
    // An earlier page says nothing of where the stream is: only the latest page ends where the stream was saved.
    expect(await response.json()).toEqual({ messages: older, nextCursor: "m0", lastEventId: null });
    expect(sdk.loadTranscript).toHaveBeenCalledWith({ chatId: CHAT_ID, before: "m2", limit: 10 });
  });

  it("gives the latest page with the stream position it was saved at", async () => {
    const cookie = await ownedChat();
    sdk.loadTranscript.mockResolvedValue({
      messages: older,
      state: null,
      nextCursor: "m0",
      cursors: { lastOutEventId: "7" },
    });

    const response = await post(CHAT_ID, { cookie });

    expect(await response.json()).toEqual({ messages: older, nextCursor: "m0", lastEventId: "7" });
  });
});
