import { ApiError } from "@trigger.dev/sdk";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { resolveGuest } from "~/lib/guest.server";
import { captureLogs } from "~/lib/logger.server";
import { cookieFrom, routeArgs, sessionRow, settle } from "~/lib/test-support.server";
import { startChatSession } from "~/lib/trigger.server";
import { action, loader } from "./chat-session";

const sdk = vi.hoisted(() => ({ retrieve: vi.fn(), update: vi.fn() }));
vi.mock("@trigger.dev/sdk", async (importOriginal) => ({
  ...(await importOriginal<typeof import("@trigger.dev/sdk")>()),
  sessions: { retrieve: sdk.retrieve, update: sdk.update },
}));
vi.mock("~/lib/trigger.server", () => ({
  connectTrigger: vi.fn(async () => ({ mode: "local", browserBaseURL: "/local-trigger" })),
  startChatSession: vi.fn(async () => ({ publicAccessToken: "session-token", runId: "run_1", sessionId: "session_1" })),
}));
vi.mock("~/lib/env.server", async (importOriginal) =>
  (await import("~/lib/test-support.server")).localEnvModule(importOriginal),
);

const CHAT_ID = "0b9c5f4e-7d2a-4c1e-9f3b-2a6d8e1c4b7a";

function post(
  chatId: string,
  { body, cookie, method = "POST" }: { body?: string; cookie?: string; method?: string } = {},
) {
  const request = new Request(`http://localhost/api/chats/${chatId}/session`, {
    method,
    body,
    headers: { "Content-Type": "application/json", ...(cookie ? { Cookie: cookie } : {}) },
  });
  return settle(action(routeArgs(request, { chatId }, "/api/chats/:chatId/session")));
}

async function guestCookie() {
  const guest = await resolveGuest(new Request("http://localhost/"));
  return { id: guest.id, cookie: cookieFrom(guest.setCookie!) };
}

describe("POST /api/chats/:chatId/session", () => {
  beforeEach(() => {
    vi.clearAllMocks();
    sdk.retrieve.mockRejectedValue(new ApiError(404, { error: "Session not found" }, undefined, undefined));
  });

  it("rejects a chat id that is not a UUID, before touching Trigger.dev", async () => {
    const response = await post("not-a-uuid");
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: "chatId must be a UUID" });
    expect(sdk.retrieve).not.toHaveBeenCalled();
  });

  it("rejects a body that is not JSON or has a bad title", async () => {
    expect((await post(CHAT_ID, { body: "{nope" })).status).toBe(400);
    const response = await post(CHAT_ID, { body: JSON.stringify({ title: 42 }) });
    expect(response.status).toBe(400);
    expect((await response.json()).error).toMatch(/title/);
    const tooLong = await post(CHAT_ID, { body: JSON.stringify({ title: "x".repeat(501) }) });
    expect(await tooLong.json()).toEqual({
      error: "Invalid request body: title: title must be at most 500 characters",
    });
    expect(startChatSession).not.toHaveBeenCalled();
  });

  it("only accepts POST", async () => {
    const response = await post(CHAT_ID, { method: "PUT" });
    expect(response.status).toBe(405);
    expect(response.headers.get("Allow")).toBe("POST");
    expect(loader().status).toBe(405);
  });

  it("starts a new chat for a new guest: tags it with the guest, stores the title, and sets the guest cookie", async () => {
    const response = await post(CHAT_ID, { body: JSON.stringify({ title: "  How do   streams work?  " }) });

    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ publicAccessToken: "session-token" });
    const setCookie = response.headers.get("Set-Cookie");
    expect(setCookie).toMatch(/^guest=.*HttpOnly/);

    const guestId = await import("~/lib/guest.server").then(({ readGuestId }) =>
      readGuestId(new Request("http://localhost/", { headers: { Cookie: cookieFrom(setCookie!) } })),
    );
    expect(startChatSession).toHaveBeenCalledWith(CHAT_ID, `guest:${guestId}`, {
      title: "How do streams work?",
      titleFormat: "text",
      titleSource: "message",
    });
    expect(sdk.update).not.toHaveBeenCalled();
  });

  it("rejoins the guest's own chat without renaming it or re-setting the cookie", async () => {
    const guest = await guestCookie();
    sdk.retrieve.mockResolvedValue(
      sessionRow({ externalId: CHAT_ID, tags: [`guest:${guest.id}`], metadata: { title: "Original" } }),
    );

    const response = await post(CHAT_ID, { cookie: guest.cookie, body: JSON.stringify({ title: "Something else" }) });

    expect(response.status).toBe(200);
    expect(response.headers.get("Set-Cookie")).toBeNull();
    expect(startChatSession).toHaveBeenCalledWith(CHAT_ID, `guest:${guest.id}`);
    expect(sdk.update).not.toHaveBeenCalled();
  });

  it("does not count rejoining a chat the guest owns as a chat start (naming a chat started early, another tab)", async () => {
    const guest = await guestCookie();
    sdk.retrieve.mockResolvedValue(sessionRow({ externalId: CHAT_ID, tags: [`guest:${guest.id}`], metadata: null }));
    const statuses: number[] = [];
    for (let i = 0; i < 40; i++) statuses.push((await post(CHAT_ID, { cookie: guest.cookie, body: "{}" })).status);
    expect(statuses.every((status) => status === 200)).toBe(true);

    // New chats still count.
    sdk.retrieve.mockRejectedValue(new ApiError(404, { error: "Session not found" }, undefined, undefined));
    for (let i = 0; i < 30; i++) statuses.push((await post(crypto.randomUUID(), { cookie: guest.cookie })).status);
    expect((await post(crypto.randomUUID(), { cookie: guest.cookie })).status).toBe(429);
  });

  it("answers 404 for another guest's chat and never starts or retags it", async () => {
    const owner = await guestCookie();
    const intruder = await guestCookie();
    sdk.retrieve.mockResolvedValue(sessionRow({ externalId: CHAT_ID, tags: [`guest:${owner.id}`] }));

    const response = await post(CHAT_ID, { cookie: intruder.cookie, body: JSON.stringify({ title: "mine now" }) });

    expect(response.status).toBe(404);
    expect(startChatSession).not.toHaveBeenCalled();
    expect(sdk.update).not.toHaveBeenCalled();
  });

  it("answers 404 for a deleted chat, even to its owner", async () => {
    const owner = await guestCookie();
    sdk.retrieve.mockResolvedValue(
      sessionRow({ externalId: CHAT_ID, tags: [`guest:${owner.id}`], closedAt: new Date() }),
    );
    expect((await post(CHAT_ID, { cookie: owner.cookie })).status).toBe(404);
    expect(startChatSession).not.toHaveBeenCalled();
  });

  it.each([
    [429, "The chat service is busy right now. Please try again in a moment."],
    [503, "The chat service is unavailable right now. Please try again in a moment."],
  ])(
    "passes Trigger.dev's %i on as the same status with a plain message, one log line and no stack",
    async (status, message) => {
      const logs = captureLogs();
      vi.mocked(startChatSession).mockRejectedValueOnce(
        new ApiError(status, { error: "Too many runs queued" }, undefined, { "retry-after": "7" }),
      );

      const response = await post(CHAT_ID, { body: JSON.stringify({ title: "Hi" }) });

      expect(response.status).toBe(status);
      expect(await response.json()).toEqual({ error: message });
      expect(response.headers.get("Retry-After")).toBe("7");
      logs.stop();
      expect(logs.lines.map(({ level, component }) => [level, component])).toEqual([["warn", "trigger"]]);
      const line = new RegExp(`^starting a chat session refused with ${status}, retry after 7 s: [^\n]*Too many runs`);
      expect(logs.lines[0]!.msg).toMatch(line);
      expect(logs.lines[0]).not.toHaveProperty("err");
    },
  );

  it("still treats any other failure as the server error it is", async () => {
    vi.mocked(startChatSession).mockRejectedValueOnce(new ApiError(500, { error: "boom" }, undefined, undefined));
    await expect(post(CHAT_ID)).rejects.toThrow(/boom/);
  });
});
