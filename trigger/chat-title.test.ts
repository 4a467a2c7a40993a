// Must load before the agent module: it installs the task catalog chat.agent registers into.
import { mockChatAgent, type MockChatAgentHarness } from "@trigger.dev/sdk/ai/test";

import type { LanguageModelV3CallOptions } from "@ai-sdk/provider";
import type { UIMessage } from "ai";
import { MockLanguageModelV3 } from "ai/test";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { chatAgent } from "./chat";
import { cleanModelTitle, deriveTitle } from "./chat-title";
import { chooseChatModel, getChatModel } from "../app/lib/ai/model";
import { createOfflineModel } from "../app/lib/ai/offline-model";

vi.mock("../app/lib/ai/model", () => ({
  getChatModel: vi.fn(),
  describeChatModel: vi.fn(() => ({ id: "offline:offline-chat", offline: true })),
  // The model the user picked for the turn, which also writes the title.
  chooseChatModel: vi.fn(() => ({ id: "offline:offline-chat", offline: true })),
  ModelChoiceError: class ModelChoiceError extends Error {},
}));

const sdk = vi.hoisted(() => ({ retrieve: vi.fn(), update: vi.fn() }));
vi.mock("@trigger.dev/sdk", async (importOriginal) => ({
  ...(await importOriginal<typeof import("@trigger.dev/sdk")>()),
  sessions: { retrieve: sdk.retrieve, update: sdk.update },
}));

const user = (id: string, text: string): UIMessage => ({ id, role: "user", parts: [{ type: "text", text }] });

describe("deriveTitle", () => {
  it("takes the first sentence, without markdown, up to eight words", () => {
    expect(deriveTitle("what is the tallest mountain on earth? I want its height")).toBe(
      "What is the tallest mountain on earth?",
    );
    expect(deriveTitle("Name the nine planets we had before Pluto left the list? Thanks.")).toBe(
      "Name the nine planets we had before Pluto",
    );
    expect(deriveTitle("Fix this bug.")).toBe("Fix this bug");
    expect(deriveTitle("## Plan a **trip** to [Lisbon](https://x.test) in spring, with kids and a dog please")).toBe(
      "Plan a trip to Lisbon in spring, with",
    );
    expect(deriveTitle("```js\nconsole.log(1)\n```")).toBe("Console.log(1)");
    expect(deriveTitle("   \n ** ")).toBeUndefined();
    expect(deriveTitle("x".repeat(500))).toHaveLength(60);
  });

  it("cleans a model's reply into one plain line", () => {
    expect(cleanModelTitle('"Tallest Mountain On Earth."\n')).toBe("Tallest Mountain On Earth");
    expect(cleanModelTitle("Title: **Lisbon trip**")).toBe("Lisbon trip");
    expect(cleanModelTitle(" \n ")).toBeUndefined();
  });
});

describe("the agent's title", () => {
  let harness: MockChatAgentHarness | undefined;

  beforeEach(() => {
    const offline = createOfflineModel({ wordDelayMs: 0 });
    const model = new MockLanguageModelV3({
      doStream: (options: LanguageModelV3CallOptions) => offline.doStream(options),
      doGenerate: async () => ({
        content: [{ type: "text", text: "Highest Peaks" }],
        finishReason: { unified: "stop", raw: "stop" },
        usage: {
          inputTokens: { total: 1, noCache: 1, cacheRead: 0, cacheWrite: 0 },
          outputTokens: { total: 1, text: 1, reasoning: 0 },
        },
        warnings: [],
      }),
    });
    vi.mocked(getChatModel).mockReturnValue(model);
    sdk.retrieve.mockResolvedValue({ metadata: { title: "what is the tallest mountain…", titleFormat: "text" } });
    sdk.update.mockResolvedValue({});
  });

  afterEach(async () => {
    await harness?.close();
    harness = undefined;
    vi.clearAllMocks();
  });

  it("is saved to the session after the first exchange, and announced to the page", async () => {
    harness = mockChatAgent(chatAgent, { chatId: "chat-title" });
    const first = await harness.sendMessage(user("u1", "what is the tallest mountain on earth? And why"));
    expect(sdk.update).toHaveBeenCalledExactlyOnceWith("chat-title", {
      metadata: { title: "What is the tallest mountain on earth?", titleFormat: "text", titleSource: "agent" },
    });
    expect(first.chunks).toContainEqual(
      expect.objectContaining({ type: "data-chat-title", data: { title: "What is the tallest mountain on earth?" } }),
    );

    await harness.sendMessage(user("u2", "and the second?"));
    expect(sdk.update).toHaveBeenCalledTimes(1);
  });

  it("waits for the next turn's end when the first is stopped, which then ends at once", async () => {
    const offline = createOfflineModel({ wordDelayMs: 20 });
    vi.mocked(getChatModel).mockReturnValue(
      new MockLanguageModelV3({ doStream: (options: LanguageModelV3CallOptions) => offline.doStream(options) }),
    );
    harness = mockChatAgent(chatAgent, { chatId: "chat-stopped-title" });
    const active = harness;
    const stopped = active.sendMessage(user("u1", "Tell me everything"));
    await vi.waitFor(() => expect(active.allChunks.some((chunk) => chunk.type === "text-delta")).toBe(true), {
      timeout: 5_000,
      interval: 5,
    });
    await active.sendStop();
    expect((await stopped).chunks.some((chunk) => chunk.type === "data-chat-title")).toBe(false);
    expect(sdk.update).not.toHaveBeenCalled();

    const quick = createOfflineModel({ wordDelayMs: 0 });
    vi.mocked(getChatModel).mockReturnValue(
      new MockLanguageModelV3({ doStream: (options: LanguageModelV3CallOptions) => quick.doStream(options) }),
    );
    await active.sendMessage(user("u2", "Go on"));
    expect(sdk.update).toHaveBeenCalledExactlyOnceWith("chat-stopped-title", {
      metadata: expect.objectContaining({ title: "Tell me everything", titleSource: "agent" }),
    });
  });

  it("asks a real model for a short title, written beside the answer", async () => {
    vi.mocked(chooseChatModel).mockReturnValue({ id: "google:gemini-2.5-flash", offline: false });
    harness = mockChatAgent(chatAgent, { chatId: "chat-model-title" });
    await harness.sendMessage(user("u1", "what is the tallest mountain on earth?"));
    expect(sdk.update).toHaveBeenCalledWith("chat-model-title", {
      metadata: expect.objectContaining({ title: "Highest Peaks", titleSource: "agent" }),
    });
    // The title is written by the model the user picked for the turn, never by the server's default.
    expect(vi.mocked(getChatModel).mock.calls.every(([, chosen]) => chosen === "google:gemini-2.5-flash")).toBe(true);
    vi.mocked(chooseChatModel).mockReturnValue({ id: "offline:offline-chat", offline: true });
  });

  it("takes a chat started early out of the drafts, keeping the rest of its metadata", async () => {
    sdk.retrieve.mockResolvedValueOnce({ metadata: { draft: true, pinned: "kept" } });
    harness = mockChatAgent(chatAgent, { chatId: "chat-draft" });
    await harness.sendMessage(user("u1", "Hello there"));
    expect(sdk.update).toHaveBeenCalledExactlyOnceWith("chat-draft", {
      metadata: { pinned: "kept", title: "Hello there", titleFormat: "text", titleSource: "agent" },
    });
  });

  it("never replaces a title the user gave, and a failing save leaves the answer whole", async () => {
    sdk.retrieve.mockResolvedValueOnce({ metadata: { title: "Mine", titleFormat: "text", titleSource: "user" } });
    harness = mockChatAgent(chatAgent, { chatId: "chat-renamed" });
    const turn = await harness.sendMessage(user("u1", "Hello there"));
    expect(sdk.update).not.toHaveBeenCalled();
    expect(turn.chunks.some((chunk) => chunk.type === "data-chat-title")).toBe(false);
    await harness.close();

    sdk.retrieve.mockRejectedValueOnce(new Error("network down"));
    harness = mockChatAgent(chatAgent, { chatId: "chat-title-fails" });
    const failed = await harness.sendMessage(user("u1", "Hello there"));
    expect(failed.chunks.some((chunk) => chunk.type === "error")).toBe(false);
    expect(failed.chunks.at(-1)?.type).toBe("finish");
  });
});
