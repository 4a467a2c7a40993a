import { ApiError } from "@trigger.dev/sdk";
import { beforeEach, describe, expect, it, vi } from "vitest";
import {
  CHAT_LIST_LIMIT,
  CHAT_TITLE_MAX_LENGTH,
  getChatAccess,
  listGuestChats,
  startOwnedChat,
  storedTitle,
  titleFromText,
  UNTITLED_CHAT,
} from "./chats.server";
import { sessionRow } from "./test-support.server";

const sdk = vi.hoisted(() => ({ retrieve: vi.fn(), list: vi.fn(), update: vi.fn(), start: vi.fn() }));
vi.mock("@trigger.dev/sdk", async (importOriginal) => ({
  ...(await importOriginal<typeof import("@trigger.dev/sdk")>()),
  sessions: { retrieve: sdk.retrieve, list: sdk.list, update: sdk.update },
}));
vi.mock("./trigger.server", () => ({
  connectTrigger: vi.fn(async () => ({ mode: "local", browserBaseURL: "/local-trigger" })),
  startChatSession: sdk.start,
}));

const notFound = () => new ApiError(404, { error: "Session not found" }, undefined, undefined);

describe("titleFromText", () => {
  it("keeps a short message as it is, on one line", () => {
    expect(titleFromText("  What is\n\nSSE?  ")).toBe("What is SSE?");
  });

  it("cuts a long message at a word boundary and marks the cut", () => {
    const title = titleFromText(`${"word ".repeat(30)}end`);
    expect(title.length).toBeLessThanOrEqual(CHAT_TITLE_MAX_LENGTH);
    expect(title).toMatch(/word…$/);
  });

  it("drops markdown syntax and keeps the words", () => {
    expect(titleFromText("Why is **this** _so_ ~~slow~~?")).toBe("Why is this so slow?");
    expect(titleFromText("Read [the docs](https://example.com/docs) and <https://example.com>")).toBe(
      "Read the docs and https://example.com",
    );
    expect(titleFromText("What does `Array.prototype.at` return?")).toBe("What does Array.prototype.at return?");
    expect(titleFromText("Fix this:\n```ts\nconst x = 1;\n```")).toBe("Fix this: const x = 1;");
    expect(titleFromText("# Trip plan\n\n## Day one\nLisbon")).toBe("Trip plan Day one Lisbon");
    expect(titleFromText("- apples\n- pears\n\n1. one\n2. two")).toBe("apples pears one two");
    expect(titleFromText("> quoted\n\nline one  \nline two")).toBe("quoted line one line two");
    expect(titleFromText("| a | b |\n| - | - |\n| 1 | 2 |")).toBe("a b 1 2");
    expect(titleFromText("![a cat](cat.png) please")).toBe("a cat please");
  });

  it("gives the untitled name when no text is left", () => {
    expect(titleFromText("```\n```")).toBe(UNTITLED_CHAT);
    expect(titleFromText("---")).toBe(UNTITLED_CHAT);
    expect(titleFromText("  \n ")).toBe(UNTITLED_CHAT);
  });

  it("measures the limit on the plain text", () => {
    const title = titleFromText(`**${"word ".repeat(30).trim()}**`);
    expect(title.length).toBeLessThanOrEqual(CHAT_TITLE_MAX_LENGTH);
    expect(title).not.toContain("*");
  });

  it("cuts a long message without spaces mid-word", () => {
    const title = titleFromText("x".repeat(200));
    expect(title).toBe(`${"x".repeat(CHAT_TITLE_MAX_LENGTH - 1)}…`);
  });
});

describe("storedTitle", () => {
  it("converts titles stored before they were plain text, and keeps plain ones as stored", () => {
    expect(storedTitle({ title: "## **Hi**" })).toBe("Hi");
    expect(storedTitle({ title: "# not a heading", titleFormat: "text" })).toBe("# not a heading");
    expect(storedTitle({ title: "" })).toBeUndefined();
    expect(storedTitle(null)).toBeUndefined();
  });
});

describe("getChatAccess", () => {
  beforeEach(() => vi.clearAllMocks());

  it("reports a chat with no session as new", async () => {
    sdk.retrieve.mockRejectedValue(notFound());
    expect(await getChatAccess("chat-1", "guest-a")).toEqual({ kind: "new" });
  });

  it("grants the guest whose tag the session carries", async () => {
    const session = sessionRow({ tags: ["guest:guest-a"] });
    sdk.retrieve.mockResolvedValue(session);
    expect(await getChatAccess("chat-1", "guest-a")).toEqual({ kind: "owned", session });
  });

  it("refuses other guests, callers without a guest id, and deleted or expired chats", async () => {
    sdk.retrieve.mockResolvedValue(sessionRow({ tags: ["guest:guest-a"] }));
    expect(await getChatAccess("chat-1", "guest-b")).toEqual({ kind: "unavailable" });
    expect(await getChatAccess("chat-1", null)).toEqual({ kind: "unavailable" });

    sdk.retrieve.mockResolvedValue(sessionRow({ tags: ["guest:guest-a"], closedAt: new Date() }));
    expect(await getChatAccess("chat-1", "guest-a")).toEqual({ kind: "unavailable" });

    sdk.retrieve.mockResolvedValue(sessionRow({ tags: ["guest:guest-a"], expiresAt: new Date(Date.now() - 1000) }));
    expect(await getChatAccess("chat-1", "guest-a")).toEqual({ kind: "unavailable" });
  });

  it("does not mistake other failures for a missing chat", async () => {
    sdk.retrieve.mockRejectedValue(new ApiError(500, { error: "boom" }, undefined, undefined));
    await expect(getChatAccess("chat-1", "guest-a")).rejects.toThrow();
  });
});

describe("a chat started before its first message (a draft)", () => {
  beforeEach(() => {
    sdk.start.mockResolvedValue({ publicAccessToken: "token" });
    sdk.update.mockResolvedValue({});
  });

  it("is started as a draft, left out of the list, and named by its first message when that is sent", async () => {
    sdk.retrieve.mockRejectedValueOnce(new ApiError(404, { error: "not found" }, undefined, undefined));
    expect(await startOwnedChat("chat-1", "guest-a", undefined)).toEqual({
      kind: "started",
      publicAccessToken: "token",
      created: true,
    });
    expect(sdk.start).toHaveBeenCalledWith("chat-1", "guest:guest-a", { draft: true });

    sdk.list.mockResolvedValue({
      data: [
        sessionRow({ externalId: "chat-1", tags: ["guest:guest-a"], metadata: { draft: true } }),
        sessionRow({ externalId: "chat-0", tags: ["guest:guest-a"], metadata: { title: "Sent" } }),
      ],
      pagination: {},
    });
    expect((await listGuestChats("guest-a")).chats.map((chat) => chat.id)).toEqual(["chat-0"]);

    sdk.retrieve.mockResolvedValueOnce(
      sessionRow({ externalId: "chat-1", tags: ["guest:guest-a"], metadata: { draft: true, other: 1 } }),
    );
    expect(await startOwnedChat("chat-1", "guest-a", "Hello *you*")).toMatchObject({ created: false });
    expect(sdk.update).toHaveBeenCalledWith("chat-1", {
      metadata: { other: 1, title: "Hello you", titleFormat: "text", titleSource: "message" },
    });
  });
});

describe("listGuestChats", () => {
  it("asks for the guest's active chat sessions and lists them with their titles", async () => {
    sdk.list.mockResolvedValue({
      data: [
        sessionRow({
          externalId: "chat-2",
          tags: ["guest:guest-a"],
          metadata: { title: "Second" },
          createdAt: new Date("2026-01-02T00:00:00Z"),
        }),
        sessionRow({ externalId: "chat-1", tags: ["guest:guest-a"], metadata: null }),
        sessionRow({ externalId: "foreign", tags: ["guest:guest-b"] }),
        sessionRow({ externalId: null, tags: ["guest:guest-a"] }),
      ],
      pagination: { next: "session_next" },
    });

    expect(await listGuestChats("guest-a")).toEqual({
      chats: [
        { id: "chat-2", title: "Second", createdAt: "2026-01-02T00:00:00.000Z" },
        { id: "chat-1", title: "New chat", createdAt: "2026-01-01T00:00:00.000Z" },
      ],
      nextCursor: "session_next",
    });
    expect(sdk.list).toHaveBeenCalledWith(
      expect.objectContaining({ type: "chat.agent", tag: "guest:guest-a", status: "ACTIVE", limit: CHAT_LIST_LIMIT }),
    );
  });

  it("passes the cursor on as Trigger.dev's own, and has none after the last page", async () => {
    sdk.list.mockResolvedValue({ data: [], pagination: {} });
    expect(await listGuestChats("guest-a", "session_x")).toEqual({ chats: [], nextCursor: undefined });
    expect(sdk.list).toHaveBeenCalledWith(expect.objectContaining({ after: "session_x" }));
  });

  it("shows titles stored as raw markdown by older versions as plain text, and plain ones as they are", async () => {
    sdk.list.mockResolvedValue({
      data: [
        sessionRow({ externalId: "old", tags: ["guest:guest-a"], metadata: { title: "**Bold** `code`" } }),
        sessionRow({
          externalId: "new",
          tags: ["guest:guest-a"],
          metadata: { title: "1. Not a list", titleFormat: "text" },
        }),
      ],
      pagination: {},
    });
    const { chats } = await listGuestChats("guest-a");
    expect(chats.map((chat) => chat.title)).toEqual(["Bold code", "1. Not a list"]);
  });
});
