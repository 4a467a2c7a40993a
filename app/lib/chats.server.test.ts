import { ApiError } from "@trigger.dev/sdk";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { CHAT_TITLE_MAX_LENGTH, getChatAccess, listGuestChats, titleFromText } from "./chats.server";
import { sessionRow } from "./test-support.server";

const sdk = vi.hoisted(() => ({ retrieve: vi.fn(), list: vi.fn() }));
vi.mock("@trigger.dev/sdk", async (importOriginal) => ({
  ...(await importOriginal<typeof import("@trigger.dev/sdk")>()),
  sessions: { retrieve: sdk.retrieve, list: sdk.list },
}));
vi.mock("./trigger.server", () => ({ connectTrigger: vi.fn(async () => ({ mode: "local", browserBaseURL: "/local-trigger" })) }));

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

  it("cuts a long message without spaces mid-word", () => {
    const title = titleFromText("x".repeat(200));
    expect(title).toBe(`${"x".repeat(CHAT_TITLE_MAX_LENGTH - 1)}…`);
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

describe("listGuestChats", () => {
  it("asks for the guest's active chat sessions and lists them with their titles", async () => {
    sdk.list.mockResolvedValue({
      data: [
        sessionRow({ externalId: "chat-2", tags: ["guest:guest-a"], metadata: { title: "Second" }, createdAt: new Date("2026-01-02T00:00:00Z") }),
        sessionRow({ externalId: "chat-1", tags: ["guest:guest-a"], metadata: null }),
        sessionRow({ externalId: "foreign", tags: ["guest:guest-b"] }),
        sessionRow({ externalId: null, tags: ["guest:guest-a"] }),
      ],
    });

    expect(await listGuestChats("guest-a")).toEqual([
      { id: "chat-2", title: "Second", createdAt: "2026-01-02T00:00:00.000Z" },
      { id: "chat-1", title: "New chat", createdAt: "2026-01-01T00:00:00.000Z" },
    ]);
    expect(sdk.list).toHaveBeenCalledWith(expect.objectContaining({ type: "chat.agent", tag: "guest:guest-a", status: "ACTIVE" }));
  });
});
