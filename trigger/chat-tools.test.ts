// Must load before the agent module: it installs the task catalog chat.agent registers into.
import { mockChatAgent, type MockChatAgentHarness } from "@trigger.dev/sdk/ai/test";

import type { UIMessage, UIMessageChunk } from "ai";
import { afterEach, describe, expect, it, vi } from "vitest";
import { chatAgent } from "./chat";
import { getChatModel } from "../app/lib/ai/model";
import { createOfflineModel } from "../app/lib/ai/offline-model";

/*
 * The agent's tools, approvals, reasoning, model choice and steering, through
 * the SDK's own harness with the offline model, which calls the tools
 * deterministically. The browser side of the same features is in
 * tests/e2e/chat-tools.spec.ts.
 */

vi.mock("../app/lib/ai/model", async (importOriginal) => ({
  ...(await importOriginal<object>()),
  getChatModel: vi.fn(),
}));

function useOfflineModel(wordDelayMs = 0) {
  vi.mocked(getChatModel).mockReturnValue(createOfflineModel({ wordDelayMs }));
}

function userMessage(id: string, text: string): UIMessage {
  return { id, role: "user", parts: [{ type: "text", text }] };
}

const textOf = (chunks: UIMessageChunk[]) =>
  chunks.flatMap((chunk) => (chunk.type === "text-delta" ? [chunk.delta] : [])).join("");

function chunkOf<T extends UIMessageChunk["type"]>(chunks: UIMessageChunk[], type: T) {
  return chunks.find((chunk): chunk is Extract<UIMessageChunk, { type: T }> => chunk.type === type);
}

describe("the agent's tools", () => {
  let harness: MockChatAgentHarness | undefined;
  afterEach(async () => {
    await harness?.close();
    harness = undefined;
    vi.mocked(getChatModel).mockReset();
  });

  it("calls currentTime without asking, and answers with its result in the same turn", async () => {
    useOfflineModel();
    harness = mockChatAgent(chatAgent, { chatId: "tools-time" });

    const turn = await harness.sendMessage(userMessage("u1", "What time is it in Tokyo?"));

    expect(chunkOf(turn.chunks, "tool-input-available")).toMatchObject({
      toolName: "currentTime",
      input: { timeZone: "Asia/Tokyo" },
    });
    const output = chunkOf(turn.chunks, "tool-output-available");
    expect(output?.output).toMatchObject({ timeZone: "Asia/Tokyo", utcOffset: "GMT+9" });
    expect(chunkOf(turn.chunks, "tool-approval-request")).toBeUndefined();
    expect(textOf(turn.chunks)).toContain("In Asia/Tokyo it is ");
  });

  it("reports a tool's failure in the answer: an unknown place is not a time zone", async () => {
    useOfflineModel();
    harness = mockChatAgent(chatAgent, { chatId: "tools-bad-zone" });

    const turn = await harness.sendMessage(userMessage("u1", "what time is it in Atlantis"));

    expect(chunkOf(turn.chunks, "tool-output-error")?.errorText).toContain('"Atlantis" is not a time zone');
    expect(textOf(turn.chunks)).toContain("The currentTime tool failed");
  });

  async function askForCalculation(chatId: string) {
    useOfflineModel();
    harness = mockChatAgent(chatAgent, { chatId });
    const turn = await harness.sendMessage(userMessage("u1", "calculate 12 * (3 + 4)"));
    const start = chunkOf(turn.chunks, "start");
    const call = chunkOf(turn.chunks, "tool-input-available");
    const request = chunkOf(turn.chunks, "tool-approval-request");
    return { turn, messageId: start!.messageId!, call: call!, request: request! };
  }

  function approvalResponse(
    messageId: string,
    call: { toolCallId: string; input: unknown },
    approvalId: string,
    approved: boolean,
  ): UIMessage {
    return {
      id: messageId,
      role: "assistant",
      parts: [
        {
          type: "tool-calculate",
          toolCallId: call.toolCallId,
          state: "approval-responded",
          input: call.input,
          approval: { id: approvalId, approved, ...(approved ? {} : { reason: "User denied" }) },
        },
      ],
    } as UIMessage;
  }

  it("asks for approval before calculating, and ends the turn there without running the tool", async () => {
    const { turn, call, request } = await askForCalculation("tools-approval");

    expect(call).toMatchObject({ toolName: "calculate", input: { expression: "12 * (3 + 4)" } });
    expect(request.toolCallId).toBe(call.toolCallId);
    expect(chunkOf(turn.chunks, "tool-output-available")).toBeUndefined();
  });

  it("runs the calculation once approved, and answers with the result", async () => {
    const { messageId, call, request } = await askForCalculation("tools-approved");

    const next = await harness!.sendMessage(approvalResponse(messageId, call, request.approvalId, true));

    expect(chunkOf(next.chunks, "tool-output-available")?.output).toEqual({ expression: "12 * (3 + 4)", result: "84" });
    expect(textOf(next.chunks)).toContain("`12 * (3 + 4)` = **84**");
  });

  it("finishes the turn cleanly when the calculation is denied, without running it", async () => {
    const { messageId, call, request } = await askForCalculation("tools-denied");

    const next = await harness!.sendMessage(approvalResponse(messageId, call, request.approvalId, false));

    expect(chunkOf(next.chunks, "tool-output-available")).toBeUndefined();
    expect(chunkOf(next.chunks, "tool-output-denied")).toMatchObject({ toolCallId: call.toolCallId });
    expect(textOf(next.chunks)).toContain("You declined the calculate call, so I did not run it.");
    expect(next.chunks.some((chunk) => chunk.type === "error")).toBe(false);
    expect(next.chunks.at(-1)?.type).toBe("finish");
  });
});

describe("reasoning", () => {
  let harness: MockChatAgentHarness | undefined;
  afterEach(async () => {
    await harness?.close();
    vi.mocked(getChatModel).mockReset();
  });

  it("streams the offline model's reasoning as reasoning parts, before the answer", async () => {
    useOfflineModel();
    harness = mockChatAgent(chatAgent, { chatId: "reasoning" });

    const turn = await harness.sendMessage(userMessage("u1", "Think about durable streams"));

    const types = turn.chunks.map((chunk) => chunk.type);
    expect(types.indexOf("reasoning-start")).toBeGreaterThan(-1);
    expect(types.indexOf("reasoning-start")).toBeLessThan(types.indexOf("text-start"));
    const reasoning = turn.chunks.flatMap((chunk) => (chunk.type === "reasoning-delta" ? [chunk.delta] : [])).join("");
    expect(reasoning).toContain("The user asks me to think before answering.");
    expect(textOf(turn.chunks)).not.toContain("The user asks me to think");
  });
});

describe("the model choice (client data)", () => {
  let harness: MockChatAgentHarness | undefined;
  afterEach(async () => {
    await harness?.close();
    vi.mocked(getChatModel).mockReset();
  });

  it("answers with the chosen model, and says so on the answer", async () => {
    useOfflineModel();
    harness = mockChatAgent(chatAgent, { chatId: "choice-ok", clientData: { model: "offline:offline-chat" } });

    const turn = await harness.sendMessage(userMessage("u1", "Hello"));

    expect(vi.mocked(getChatModel)).toHaveBeenCalledWith(expect.anything(), "offline:offline-chat");
    expect(chunkOf(turn.chunks, "start")?.messageMetadata).toEqual({ model: "offline:offline-chat", offline: true });
  });

  it.each([
    ["an unknown model", { model: "acme:gpt-9" }, "acme:gpt-9"],
    ["a provider that is not configured", { model: "google:gemini-2.5-flash" }, "google:gemini-2.5-flash"],
    ["a malformed choice", { model: 42 }, "(not a model id)"],
  ])("refuses %s in words the user reads, and never answers with another model", async (_, clientData, shown) => {
    useOfflineModel();
    harness = mockChatAgent(chatAgent, { chatId: `choice-refused-${shown}`, clientData });

    const turn = await harness.sendMessage(userMessage("u1", "Hello"));

    const error = chunkOf(turn.chunks, "error");
    expect(error?.errorText).toBe(
      `The model “${shown}” isn’t available on this server, so nothing was sent to it. Choose one of: Offline demo model (offline:offline-chat).`,
    );
    expect(vi.mocked(getChatModel)).not.toHaveBeenCalled();
    expect(textOf(turn.chunks)).toBe("");
  });
});

describe("steering (pendingMessages)", () => {
  let harness: MockChatAgentHarness | undefined;
  afterEach(async () => {
    await harness?.close();
    vi.mocked(getChatModel).mockReset();
  });

  it("takes a message sent mid-answer into the answer at the next step boundary", async () => {
    // Slow enough that the message arrives while the first step (before the tool call) is still written.
    useOfflineModel(50);
    harness = mockChatAgent(chatAgent, { chatId: "steer-inject" });

    const turn = harness.sendMessage(userMessage("u1", "What time is it in London?"));
    await new Promise((resolve) => setTimeout(resolve, 100));
    await harness.sendPendingMessage(userMessage("u2", "Also, say it in French"));
    const { chunks } = await turn;

    const injected = chunks.find((chunk) => chunk.type === "data-pending-message-injected");
    expect(injected).toMatchObject({ data: { messageIds: ["u2"] } });
    expect(textOf(chunks)).toContain("> Also, say it in French");
  });

  it("answers a message sent mid-answer as the next turn when there is no step boundary left", async () => {
    useOfflineModel(20);
    harness = mockChatAgent(chatAgent, { chatId: "steer-next-turn" });

    const turn = harness.sendMessage(userMessage("u1", "Tell me about streams"));
    await new Promise((resolve) => setTimeout(resolve, 100));
    await harness.sendPendingMessage(userMessage("u2", "And about sessions"));
    const first = await turn;

    expect(first.chunks.some((chunk) => chunk.type === "data-pending-message-injected")).toBe(false);
    expect(textOf(first.chunks)).toContain("> Tell me about streams");
    // The next turn-complete is the queued message's own turn: it was answered before the message after it.
    const second = await harness.sendMessage(userMessage("u3", "Last one"));
    expect(textOf(second.chunks)).toContain("This is turn 2 of our conversation");
    expect(textOf(second.chunks)).toContain("> And about sessions");
  });
});
