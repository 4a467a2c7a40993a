import { describe, expect, it } from "vitest";
import { groupChats } from "./chat-groups";

const at = (id: string, date: Date) => ({ id, title: id, createdAt: date.toISOString() });

describe("groupChats", () => {
  // Local time, as the browser groups: 3 March 2026, 09:30.
  const now = new Date(2026, 2, 3, 9, 30);

  it("puts each chat under the day it started, keeping the list's order", () => {
    const chats = [
      at("future", new Date(2026, 2, 3, 12, 0)),
      at("this-morning", new Date(2026, 2, 3, 0, 0)),
      at("last-night", new Date(2026, 2, 2, 23, 59)),
      at("yesterday-early", new Date(2026, 2, 2, 0, 0)),
      at("two-days", new Date(2026, 2, 1, 23, 0)),
      at("eight-days", new Date(2026, 1, 23, 0, 0)),
      at("nine-days", new Date(2026, 1, 22, 23, 59)),
      at("last-year", new Date(2025, 5, 1)),
    ];
    expect(groupChats(chats, now).map((group) => [group.label, group.chats.map((chat) => chat.id)])).toEqual([
      ["Today", ["future", "this-morning"]],
      ["Yesterday", ["last-night", "yesterday-early"]],
      ["Previous 7 days", ["two-days", "eight-days"]],
      ["Older", ["nine-days", "last-year"]],
    ]);
  });

  it("leaves out groups with no chat", () => {
    expect(groupChats([at("old", new Date(2020, 0, 1))], now).map((group) => group.id)).toEqual(["older"]);
    expect(groupChats([], now)).toEqual([]);
  });
});
