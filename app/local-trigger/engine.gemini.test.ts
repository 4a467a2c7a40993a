import { randomUUID } from "node:crypto";
import { chat } from "@trigger.dev/sdk/ai";
import { TriggerChatTransport } from "@trigger.dev/sdk/chat";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { describeChatFailure } from "~/components/chat/chat-failure";
import type { ChatUIMessage } from "../../trigger/chat";
import type { LocalEngine } from "./engine.server";
import {
  defaultGeminiAnswerText,
  geminiAnswer,
  geminiInternalError,
  geminiInvalidKey,
  geminiPermissionDenied,
  geminiPromptBlocked,
  geminiRateLimited,
  geminiSafetyStop,
  startGeminiStandIn,
  type GeminiStandIn,
} from "./testing/gemini-stand-in";
import { mintChatToken, startTestEngine, waitFor } from "./testing/harness";
import { NodeChat, textOf } from "./testing/node-chat";

/*
 * The app's own agent (trigger/chat.ts) with CHAT_MODEL=google:…, run by the
 * embedded engine, its `@ai-sdk/google` talking to the Gemini stand-in through
 * GOOGLE_GENERATIVE_AI_BASE_URL, and driven through the real transport as the
 * browser does: answers stream, thoughts stay out of the answer, and each way
 * Gemini fails reaches the user as a plain sentence while the provider's raw
 * error goes to the engine's log only.
 */

let standIn: GeminiStandIn;
let engine: LocalEngine;
const engineLog: string[] = [];
const startChat = chat.createStartSessionAction("chat");

beforeAll(async () => {
  standIn = await startGeminiStandIn();
  engine = await startTestEngine({
    taskDirs: ["trigger"],
    log: (line) => engineLog.push(line),
    workerEnv: {
      CHAT_MODEL: "google:gemini-2.5-flash",
      GOOGLE_GENERATIVE_AI_API_KEY: "test-key-not-real",
      GOOGLE_GENERATIVE_AI_BASE_URL: standIn.baseURL,
    },
  });
});
afterAll(async () => {
  await engine?.close();
  await standIn?.close();
});
beforeEach(() => {
  standIn.reset();
  engineLog.length = 0;
});

function newChat() {
  const transport = new TriggerChatTransport({
    task: "chat",
    baseURL: engine.apiURL,
    accessToken: async ({ chatId }) => mintChatToken(chatId),
    startSession: async ({ chatId, clientData }) => startChat({ chatId, clientData }),
  });
  return new NodeChat<ChatUIMessage>({ id: randomUUID(), transport });
}

/** What the provider's raw errors contain and a user should never see: Google's codes, the URL, a status. */
const RAW_ERROR_TRACES =
  /RESOURCE_EXHAUSTED|INTERNAL|API_KEY_INVALID|PERMISSION_DENIED|HARM_CATEGORY|127\.0\.0\.1|\b[45]\d\d\b/;

const lastAnswer = (conversation: NodeChat<ChatUIMessage>) =>
  conversation.messages.findLast((message) => message.role === "assistant");

describe("the chat agent on Gemini (stand-in), through the embedded engine", () => {
  it("streams Gemini's answer to the user, labelled with the model, and sends Gemini the conversation", async () => {
    const answer =
      "Durable streams keep every word in order. A reload picks the answer up where the saved transcript ends, " +
      "and nothing is repeated.";
    standIn.reply(geminiAnswer(answer, { wordsPerChunk: 2, chunkDelayMs: 40 }));
    const conversation = newChat();

    const sent = conversation.sendMessage({ text: "How do durable streams survive a reload?" });
    // Seen part-way: the answer arrives in pieces, not at the end.
    const partial = await waitFor(() => {
      const text = textOf(lastAnswer(conversation));
      return text.length > 0 && text.length < answer.length ? text : undefined;
    });
    await sent;

    expect(answer.startsWith(partial)).toBe(true);
    expect(conversation.error).toBeUndefined();
    expect(textOf(lastAnswer(conversation))).toBe(answer);
    expect(lastAnswer(conversation)?.metadata).toEqual({ model: "google:gemini-2.5-flash", offline: false });
    const [request] = standIn.requests;
    expect(request).toMatchObject({
      model: "gemini-2.5-flash",
      method: "streamGenerateContent",
      apiKey: "test-key-not-real",
    });
    expect(request!.body.systemInstruction?.parts[0]?.text).toMatch(/\S/);
    const question = { role: "user", parts: [{ text: "How do durable streams survive a reload?" }] };
    expect(request!.body.contents).toEqual([question]);

    // The next turn sends Gemini the whole conversation, the first answer included.
    await conversation.sendMessage({ text: "And after a crash?" });
    expect(textOf(lastAnswer(conversation))).toBe(defaultGeminiAnswerText("And after a crash?"));
    expect(standIn.requests[1]!.body.contents.map((content) => content.role)).toEqual(["user", "model", "user"]);
    expect(JSON.stringify(standIn.requests[1]!.body.contents[1])).toContain("nothing is repeated.");
  });

  it("keeps Gemini's thoughts out of the answer text", async () => {
    const thoughts = ["**Weighing the options** The user wants one word. ", "Blue is calm."];
    standIn.reply(geminiAnswer("Blue.", { thoughts }));
    const conversation = newChat();

    await conversation.sendMessage({ text: "Pick a colour" });

    const answer = lastAnswer(conversation)!;
    expect(textOf(answer)).toBe("Blue.");
    // They come along as a reasoning part, which the page does not show as the answer.
    const reasoning = answer.parts.flatMap((part) => (part.type === "reasoning" ? [part.text] : []));
    expect(reasoning).toEqual([thoughts.join("")]);
    expect(answer.parts.filter((part) => part.type === "text").map((part) => part.text)).toEqual(["Blue."]);
  });

  const failures: [string, () => void, string, RegExp, number][] = [
    [
      "a 429 (RESOURCE_EXHAUSTED), after the provider's two retries",
      () => standIn.replyAlways(geminiRateLimited()),
      "The model is busy (rate limited). Try again in a moment.",
      /"status":429.*RESOURCE_EXHAUSTED/,
      3,
    ],
    [
      "a 500, after the provider's two retries",
      () => standIn.replyAlways(geminiInternalError()),
      "The model is unavailable right now. Try again in a moment.",
      /"status":500.*An internal error has occurred/,
      3,
    ],
    [
      "a safety stop (finishReason SAFETY)",
      () => standIn.reply(geminiSafetyStop()),
      "The model declined to answer this (safety filter). Try rephrasing your message.",
      /"finishReason":"SAFETY".*HARM_CATEGORY_DANGEROUS_CONTENT/,
      1,
    ],
    [
      "a blocked prompt (promptFeedback.blockReason)",
      () => standIn.reply(geminiPromptBlocked()),
      "The model declined to answer this (safety filter). Try rephrasing your message.",
      /"finishReason":"SAFETY".*"promptFeedback":\{"blockReason":"SAFETY"/,
      1,
    ],
    [
      "a rejected key (400 API_KEY_INVALID)",
      () => standIn.reply(geminiInvalidKey()),
      "The model refused this app’s API key. The app’s operator needs to check its configuration.",
      /"status":400.*API_KEY_INVALID/,
      1,
    ],
    [
      "a 403 (PERMISSION_DENIED)",
      () => standIn.reply(geminiPermissionDenied()),
      "The model refused this app’s API key. The app’s operator needs to check its configuration.",
      /"status":403.*PERMISSION_DENIED/,
      1,
    ],
  ];

  it.each(failures)("tells the user plainly about %s, and logs the raw error", async (...testCase) => {
    const [, script, message, raw, requests] = testCase;
    script();
    const conversation = newChat();

    await conversation.sendMessage({ text: "Hello there" });

    expect(standIn.requests).toHaveLength(requests);
    // What the agent sent is what the page shows (chat-failure.ts passes an agent's message through).
    expect(conversation.error?.message).toBe(message);
    expect(describeChatFailure(conversation.error!)).toEqual({ message, tooManyRequests: false });
    const userSees = JSON.stringify({ error: conversation.error?.message, messages: conversation.messages });
    expect(userSees).not.toMatch(RAW_ERROR_TRACES);
    const logged = await waitFor(() => engineLog.find((line) => line.includes("error: Chat model stream failed")));
    expect(logged).toMatch(raw);

    // The chat stays usable.
    standIn.reset();
    await conversation.sendMessage({ text: "Try again" });
    expect(conversation.error).toBeUndefined();
    expect(textOf(lastAnswer(conversation))).toBe(defaultGeminiAnswerText("Try again"));
  });
});
