import { describe, expect, it } from "vitest";
import { type ChatSummary, mergeChatPages } from "./chats";

const chat = (id: string, minute: number): ChatSummary => ({
  id,
  title: id,
  createdAt: new Date(Date.UTC(2026, 0, 1, 0, minute)).toISOString(),
});
const ids = (chats: ChatSummary[]) => chats.map((c) => c.id);

describe("mergeChatPages", () => {
  const [c5, c4, c3, c2, c1] = [chat("c5", 5), chat("c4", 4), chat("c3", 3), chat("c2", 2), chat("c1", 1)];

  it("is the first page until more is loaded", () => {
    expect(mergeChatPages({ chats: [c5, c4], nextCursor: "s4" }, undefined)).toEqual({
      chats: [c5, c4],
      nextCursor: "s4",
    });
  });

  it("appends the loaded chats and takes their cursor", () => {
    const older = { chats: [c5, c4, c3, c2], nextCursor: "s2" };
    expect(mergeChatPages({ chats: [c5, c4], nextCursor: "s4" }, older)).toEqual({
      chats: [c5, c4, c3, c2],
      nextCursor: "s2",
    });
  });

  it("keeps a chat that a new chat pushed off the first page", () => {
    const c6 = chat("c6", 6);
    const older = { chats: [c5, c4, c3, c2], nextCursor: undefined };
    expect(ids(mergeChatPages({ chats: [c6, c5], nextCursor: "s5" }, older).chats)).toEqual([
      "c6",
      "c5",
      "c4",
      "c3",
      "c2",
    ]);
  });

  it("drops a chat the first page no longer has within its span: deleted elsewhere", () => {
    const older = { chats: [c5, c4, c3, c2, c1], nextCursor: undefined };
    expect(ids(mergeChatPages({ chats: [c5, c3], nextCursor: "s3" }, older).chats)).toEqual(["c5", "c3", "c2", "c1"]);
  });

  it("takes a first page without a cursor as the whole list", () => {
    const older = { chats: [c5, c4, c3], nextCursor: "s3" };
    expect(mergeChatPages({ chats: [c5, c4] }, older)).toEqual({ chats: [c5, c4] });
  });
});
