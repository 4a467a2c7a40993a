// Must load before the agent module: it installs the task catalog chat.agent registers into.
import { mockChatAgent, type MockChatAgentHarness, type MockChatAgentTurn } from "@trigger.dev/sdk/ai/test";

import type { LanguageModelV3CallOptions } from "@ai-sdk/provider";
import type { UIMessage, UIMessageChunk } from "ai";
import { MockLanguageModelV3 } from "ai/test";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { chatAgent } from "./chat";
import { EDIT_TEXT_MAX_LENGTH as PAGE_EDIT_LIMIT } from "../app/lib/chats";
import { EDIT_TEXT_MAX_LENGTH, parseHistoryAction, planHistoryAction } from "./chat-history";
import { getChatModel } from "../app/lib/ai/model";
import { createOfflineModel } from "../app/lib/ai/offline-model";

vi.mock("../app/lib/ai/model", () => ({
  getChatModel: vi.fn(),
  describeChatModel: vi.fn(() => ({ id: "offline:offline-chat", offline: true })),
  chooseChatModel: vi.fn(() => ({ id: "offline:offline-chat", offline: true })),
  ModelChoiceError: class ModelChoiceError extends Error {},
}));

const sdk = vi.hoisted(() => ({ retrieve: vi.fn(), update: vi.fn() }));
vi.mock("@trigger.dev/sdk", async (importOriginal) => ({
  ...(await importOriginal<typeof import("@trigger.dev/sdk")>()),
  sessions: { retrieve: sdk.retrieve, update: sdk.update },
}));

const user = (id: string, text: string): UIMessage => ({ id, role: "user", parts: [{ type: "text", text }] });
const assistant = (id: string, text: string): UIMessage => ({
  id,
  role: "assistant",
  parts: [{ type: "text", text }],
});

const textOf = (chunks: UIMessageChunk[]) =>
  chunks.flatMap((chunk) => (chunk.type === "text-delta" ? [chunk.delta] : [])).join("");
const answerIdOf = (turn: MockChatAgentTurn) =>
  turn.chunks.flatMap((chunk) => (chunk.type === "start" && chunk.messageId ? [chunk.messageId] : []))[0]!;
const errorsOf = (turn: MockChatAgentTurn) =>
  turn.chunks.flatMap((chunk) => (chunk.type === "error" ? [chunk.errorText] : []));

/** The conversation the model was given on its latest call, as role: text lines, without the system prompt. */
function lastPrompt(model: MockLanguageModelV3) {
  const prompt = model.doStreamCalls.at(-1)?.prompt ?? [];
  return prompt
    .filter((message) => message.role !== "system")
    .map((message) => {
      const content = message.content as { type: string; text?: string }[];
      return `${message.role}: ${content.flatMap((part) => (part.type === "text" ? [part.text] : [])).join("")}`;
    });
}

describe("history actions on the agent", () => {
  let harness: MockChatAgentHarness | undefined;
  let model: MockLanguageModelV3;

  beforeEach(() => {
    const offline = createOfflineModel({ wordDelayMs: 0 });
    model = new MockLanguageModelV3({ doStream: (options: LanguageModelV3CallOptions) => offline.doStream(options) });
    vi.mocked(getChatModel).mockReturnValue(model);
    sdk.retrieve.mockResolvedValue({ metadata: { title: "Provisional", titleFormat: "text" } });
    sdk.update.mockResolvedValue({});
  });

  afterEach(async () => {
    await harness?.close();
    harness = undefined;
    vi.clearAllMocks();
  });

  /** Two exchanges, and the ids of their answers. */
  async function twoExchanges(chatId: string) {
    harness = mockChatAgent(chatAgent, { chatId });
    const first = await harness.sendMessage(user("u1", "First question"));
    const second = await harness.sendMessage(user("u2", "Second question"));
    return { a1: answerIdOf(first), a2: answerIdOf(second) };
  }

  it("edit replaces the message, drops what followed, and answers the new text", async () => {
    await twoExchanges("chat-edit");
    const turn = await harness!.sendAction({ type: "edit", messageId: "u1", text: "Edited question" });
    expect(errorsOf(turn)).toEqual([]);
    expect(textOf(turn.chunks)).toContain("> Edited question");
    expect(lastPrompt(model)).toEqual(["user: Edited question"]);

    // The next turn builds on the edited history, not on the one before the edit.
    await harness!.sendMessage(user("u3", "Third"));
    expect(lastPrompt(model)).toEqual(["user: Edited question", expect.stringMatching(/^assistant: /), "user: Third"]);
  });

  it("regenerate answers an earlier question again and drops the conversation after it", async () => {
    const { a1 } = await twoExchanges("chat-regenerate");
    const turn = await harness!.sendAction({ type: "regenerate", messageId: a1 });
    expect(errorsOf(turn)).toEqual([]);
    expect(textOf(turn.chunks)).toContain("> First question");
    expect(answerIdOf(turn)).not.toBe(a1);
    expect(lastPrompt(model)).toEqual(["user: First question"]);
  });

  it("undo takes back the last exchange without a model call", async () => {
    await twoExchanges("chat-undo");
    const calls = model.doStreamCalls.length;
    const turn = await harness!.sendAction({ type: "undo", messageId: "u2" });
    expect(errorsOf(turn)).toEqual([]);
    expect(textOf(turn.chunks)).toBe("");
    expect(model.doStreamCalls.length).toBe(calls);

    await harness!.sendMessage(user("u3", "Instead"));
    expect(lastPrompt(model)).toEqual(["user: First question", expect.stringMatching(/^assistant: /), "user: Instead"]);
  });

  it("refuses an unknown message id or a malformed action with a clear error, and keeps the history", async () => {
    await twoExchanges("chat-refused");
    const unknown = await harness!.sendAction({ type: "edit", messageId: "nope", text: "x" });
    expect(errorsOf(unknown)).toEqual(["That message isn’t in this chat any more. Reload to see the chat as it is."]);
    const malformed = await harness!.sendAction({ type: "drop-table" });
    expect(errorsOf(malformed)).toEqual(["That change isn’t one the chat knows."]);
    const empty = await harness!.sendAction({ type: "edit", messageId: "u1", text: "   " });
    expect(errorsOf(empty)).toEqual(["An edited message can’t be empty."]);

    await harness!.sendMessage(user("u3", "Still here?"));
    expect(lastPrompt(model)).toEqual([
      "user: First question",
      expect.stringMatching(/^assistant: /),
      "user: Second question",
      expect.stringMatching(/^assistant: /),
      "user: Still here?",
    ]);
  });
});

describe("planHistoryAction", () => {
  const history = [user("u1", "a"), assistant("a1", "b"), user("u2", "c"), assistant("a2", "d")];

  it("plans each action on a copy, never changing the history it was given", () => {
    expect(planHistoryAction(history, { type: "edit", messageId: "u2", text: "C" })).toEqual({
      messages: [history[0], history[1], user("u2", "C")],
      answer: true,
    });
    expect(planHistoryAction(history, { type: "regenerate", messageId: "a2" }).messages.map((m) => m.id)).toEqual([
      "u1",
      "a1",
      "u2",
    ]);
    expect(planHistoryAction(history, { type: "undo", messageId: "u2" })).toEqual({
      messages: history.slice(0, 2),
      answer: false,
    });
    expect(history).toHaveLength(4);
  });

  it("refuses actions that do not fit the message they name", () => {
    expect(() => planHistoryAction(history, { type: "edit", messageId: "a1", text: "x" })).toThrow(/Only your own/);
    expect(() => planHistoryAction(history, { type: "regenerate", messageId: "u1" })).toThrow(/Only the assistant/);
    expect(() => planHistoryAction(history, { type: "undo", messageId: "u1" })).toThrow(/Only the last exchange/);
    expect(() => planHistoryAction([assistant("a0", "hi")], { type: "regenerate", messageId: "a0" })).toThrow(
      /no question/,
    );
  });

  it("validates what arrives from the browser, with the page's own limit", () => {
    expect(PAGE_EDIT_LIMIT).toBe(EDIT_TEXT_MAX_LENGTH);
    expect(parseHistoryAction({ type: "undo", messageId: "u1", extra: 1 })).toEqual({ type: "undo", messageId: "u1" });
    expect(() => parseHistoryAction(null)).toThrow("That change isn’t one the chat knows.");
    expect(() => parseHistoryAction({ type: "undo" })).toThrow("That change names no message of this chat.");
    expect(() => parseHistoryAction({ type: "undo", messageId: "x".repeat(201) })).toThrow(/names no message/);
    expect(() => parseHistoryAction({ type: "edit", messageId: "u1", text: "x".repeat(20_001) })).toThrow(
      "An edited message can be at most 20,000 characters.",
    );
  });
});
