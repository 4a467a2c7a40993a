import { ApiError } from "@trigger.dev/sdk";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { resolveGuest } from "~/lib/guest.server";
import { captureLogs } from "~/lib/logger.server";
import { cookieFrom, routeArgs, sessionRow, thrownStatus } from "~/lib/test-support.server";
import { mintChatToken } from "~/lib/trigger.server";
import { loader } from "./chat";

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
  mintChatToken: vi.fn(async () => "chat-token"),
}));
vi.mock("~/lib/env.server", async (importOriginal) =>
  (await import("~/lib/test-support.server")).localEnvModule(importOriginal),
);

const CHAT_ID = "0b9c5f4e-7d2a-4c1e-9f3b-2a6d8e1c4b7a";
/** The picker's list with no provider key set: the offline model alone. */
const OFFLINE_ONLY = {
  models: [{ id: "offline:offline-chat", label: "Offline demo model", offline: true }],
  defaultModel: "offline:offline-chat",
};
const history = [
  { id: "u1", role: "user", parts: [{ type: "text", text: "Hi" }] },
  {
    id: "a1",
    role: "assistant",
    parts: [{ type: "text", text: "Hello!" }],
    metadata: { model: "offline:offline-chat", offline: true },
  },
];

function load(chatId: string, cookie?: string) {
  const request = new Request(`http://localhost/chat/${chatId}`, { headers: cookie ? { Cookie: cookie } : {} });
  return loader(routeArgs(request, { chatId }, "/chat/:chatId"));
}

async function guestCookie() {
  const guest = await resolveGuest(new Request("http://localhost/"));
  return { id: guest.id, cookie: cookieFrom(guest.setCookie!) };
}

describe("/chat/:chatId loader", () => {
  beforeEach(() => {
    vi.clearAllMocks();
    sdk.retrieve.mockRejectedValue(new ApiError(404, { error: "Session not found" }, undefined, undefined));
  });

  it("answers 404 for an id that is not a chat id", async () => {
    expect(await thrownStatus(load("favicon.ico"))).toBe(404);
  });

  it("opens a chat that has not started yet with no history", async () => {
    expect(await load(CHAT_ID)).toEqual({
      chatId: CHAT_ID,
      baseURL: "/local-trigger",
      title: undefined,
      history: undefined,
      highlightedCode: {},
      models: OFFLINE_ONLY,
    });
    expect(mintChatToken).not.toHaveBeenCalled();
  });

  it("gives the owner the saved history, a chat token and the resume cursor", async () => {
    const owner = await guestCookie();
    sdk.retrieve.mockResolvedValue(
      sessionRow({ externalId: CHAT_ID, tags: [`guest:${owner.id}`], metadata: { title: "Hi" } }),
    );
    sdk.loadTranscript.mockResolvedValue({ messages: history, state: null, cursors: { lastOutEventId: "41" } });

    expect(await load(CHAT_ID, owner.cookie)).toEqual({
      chatId: CHAT_ID,
      baseURL: "/local-trigger",
      title: "Hi",
      history: {
        messages: history,
        nextCursor: undefined,
        session: { publicAccessToken: "chat-token", lastEventId: "41" },
      },
      highlightedCode: {},
      models: OFFLINE_ONLY,
    });
    expect(mintChatToken).toHaveBeenCalledWith(CHAT_ID);
  });

  it("answers 404, with no transcript and no token, to anyone else", async () => {
    const owner = await guestCookie();
    const stranger = await guestCookie();
    sdk.retrieve.mockResolvedValue(sessionRow({ externalId: CHAT_ID, tags: [`guest:${owner.id}`] }));

    expect(await thrownStatus(load(CHAT_ID, stranger.cookie))).toBe(404);
    expect(await thrownStatus(load(CHAT_ID))).toBe(404);
    expect(sdk.loadTranscript).not.toHaveBeenCalled();
    expect(mintChatToken).not.toHaveBeenCalled();
  });

  it("sends an id typed in capitals to the same chat's lowercase address", async () => {
    const error = await load(CHAT_ID.toUpperCase()).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(Response);
    expect((error as Response).status).toBe(301);
    expect((error as Response).headers.get("Location")).toBe(`/chat/${CHAT_ID}`);
  });

  it("answers Trigger.dev's 503 with a 503 and a message for the page, not a crash", async () => {
    const logs = captureLogs();
    sdk.retrieve.mockRejectedValue(
      new ApiError(503, { error: "Service Unavailable" }, undefined, { "retry-after": "4" }),
    );
    const error = await load(CHAT_ID).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(Response);
    expect((error as Response).status).toBe(503);
    expect((error as Response).headers.get("Retry-After")).toBe("4");
    expect(await (error as Response).json()).toEqual({
      error: "The chat service is unavailable right now. Please try again in a moment.",
    });
    logs.stop();
    expect(logs.lines.map(({ level, component }) => [level, component])).toEqual([["warn", "trigger"]]);
  });
});
