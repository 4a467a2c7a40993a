// Must load before the agent module: it installs the task catalog chat.agent registers into.
import { mockChatAgent, type MockChatAgentHarness } from "@trigger.dev/sdk/ai/test";

import type { LanguageModelV3CallOptions } from "@ai-sdk/provider";
import type { UIMessage, UIMessageChunk } from "ai";
import { MockLanguageModelV3 } from "ai/test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { chatAgent } from "./chat";
import { getChatModel } from "../app/lib/ai/model";
import { CHAT_ERROR_MESSAGE } from "../app/lib/ai/model-failures";
import { composeOfflineAnswer, createOfflineModel } from "../app/lib/ai/offline-model";
import { CHAT_SYSTEM_PROMPT } from "../app/lib/ai/prompts";

vi.mock("../app/lib/ai/model", async (importOriginal) => ({
  ...(await importOriginal<object>()),
  getChatModel: vi.fn(),
}));

function userMessage(id: string, text: string): UIMessage {
  return { id, role: "user", parts: [{ type: "text", text }] };
}

function textOf(chunks: UIMessageChunk[]): string {
  return chunks.flatMap((chunk) => (chunk.type === "text-delta" ? [chunk.delta] : [])).join("");
}

/** The offline model with no delay, wrapped so each test can inspect the prompts it was given. */
function recordingOfflineModel() {
  const offline = createOfflineModel({ wordDelayMs: 0 });
  const model = new MockLanguageModelV3({
    doStream: (options: LanguageModelV3CallOptions) => offline.doStream(options),
  });
  vi.mocked(getChatModel).mockReturnValue(model);
  return model;
}

describe("chatAgent", () => {
  let harness: MockChatAgentHarness | undefined;

  afterEach(async () => {
    await harness?.close();
    harness = undefined;
    vi.mocked(getChatModel).mockReset();
  });

  it("streams an answer word by word and completes the turn, labelled with the model", async () => {
    const model = recordingOfflineModel();
    harness = mockChatAgent(chatAgent, { chatId: "chat-one-turn" });

    const turn = await harness.sendMessage(userMessage("u1", "Hello agent"));

    const text = textOf(turn.chunks);
    expect(text).toContain("> Hello agent");
    expect(text).toContain("turn 1");
    expect(turn.chunks.filter((chunk) => chunk.type === "text-delta").length).toBeGreaterThan(20);
    expect(turn.chunks.some((chunk) => chunk.type === "error")).toBe(false);

    expect(turn.chunks.find((chunk) => chunk.type === "start")).toMatchObject({
      messageMetadata: { model: "offline:offline-chat", offline: true },
    });
    expect(turn.chunks.at(-1)?.type).toBe("finish");
    expect(turn.rawChunks.length).toBeGreaterThan(turn.chunks.length);

    expect(model.doStreamCalls[0]?.prompt[0]).toEqual({ role: "system", content: CHAT_SYSTEM_PROMPT });
  });

  it("gives the model the earlier turns on the next turn", async () => {
    const model = recordingOfflineModel();
    harness = mockChatAgent(chatAgent, { chatId: "chat-two-turns" });

    await harness.sendMessage(userMessage("u1", "My name is Ada."));
    const second = await harness.sendMessage(userMessage("u2", "What is my name?"));

    const text = textOf(second.chunks);
    expect(text).toContain("turn 2");
    expect(text).toContain("> What is my name?");

    const prompt = model.doStreamCalls[1]?.prompt ?? [];
    expect(prompt.map((message) => message.role)).toEqual(["system", "user", "assistant", "user"]);
    expect(JSON.stringify(prompt[1])).toContain("My name is Ada.");
    expect(JSON.stringify(prompt[2])).toContain("turn 1");
  });

  it("sends the user a friendly error, not the provider's, when the model fails", async () => {
    const rawError = "upstream 500: quota exceeded for key AIza-secret-internal";
    vi.mocked(getChatModel).mockReturnValue(
      new MockLanguageModelV3({
        doStream: async () => {
          throw new Error(rawError);
        },
      }),
    );
    harness = mockChatAgent(chatAgent, { chatId: "chat-model-error" });

    const turn = await harness.sendMessage(userMessage("u1", "Hi"));

    const errors = turn.chunks.filter((chunk) => chunk.type === "error");
    expect(errors).toEqual([{ type: "error", errorText: CHAT_ERROR_MESSAGE }]);
    expect(JSON.stringify(turn.rawChunks)).not.toContain("quota exceeded");
  });

  it("sends the friendly error when the model cannot be resolved, and keeps the chat usable", async () => {
    vi.mocked(getChatModel).mockImplementationOnce(() => {
      throw new Error('CHAT_MODEL "foo:bar": unknown provider "foo" (available: google, offline)');
    });
    harness = mockChatAgent(chatAgent, { chatId: "chat-bad-model" });

    const failed = await harness.sendMessage(userMessage("u1", "Hi"));
    expect(failed.chunks).toContainEqual({ type: "error", errorText: CHAT_ERROR_MESSAGE });
    expect(JSON.stringify(failed.rawChunks)).not.toContain("unknown provider");

    recordingOfflineModel();
    const next = await harness.sendMessage(userMessage("u2", "Still there?"));
    expect(textOf(next.chunks)).toContain("> Still there?");
  });

  it("stops streaming when the user presses Stop", async () => {
    const offline = createOfflineModel({ wordDelayMs: 20 });
    const model = new MockLanguageModelV3({
      doStream: (options: LanguageModelV3CallOptions) => offline.doStream(options),
    });
    vi.mocked(getChatModel).mockReturnValue(model);
    harness = mockChatAgent(chatAgent, { chatId: "chat-stop" });
    const active = harness;

    const turnPromise = active.sendMessage(userMessage("u1", "Tell me everything"));
    await vi.waitFor(() => expect(textOf(active.allChunks)).not.toBe(""), { timeout: 5_000, interval: 5 });
    await active.sendStop();
    const turn = await turnPromise;

    const fullAnswer = composeOfflineAnswer([
      { role: "user", content: [{ type: "text", text: "Tell me everything" }] },
    ]);
    const streamed = textOf(turn.chunks);
    expect(streamed.length).toBeGreaterThan(0);
    expect(streamed.length).toBeLessThan(fullAnswer.length);
    expect(fullAnswer.startsWith(streamed)).toBe(true);
    expect(model.doStreamCalls[0]?.abortSignal?.aborted).toBe(true);
    expect(turn.chunks.some((chunk) => chunk.type === "error")).toBe(false);
  });
});
