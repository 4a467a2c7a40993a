import { stepCountIs, streamText, tool, type TextStreamPart, type ToolSet } from "ai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import {
  geminiAnswer,
  geminiFunctionCall,
  geminiInternalError,
  geminiPermissionDenied,
  geminiPromptBlocked,
  geminiRateLimited,
  geminiSafetyStop,
  startGeminiStandIn,
  type GeminiStandIn,
} from "../../local-trigger/testing/gemini-stand-in";
import { parseModelEnv } from "./model-env";
import { describeModelFailure, MODEL_FAILURE_MESSAGES, reportModelRefusals } from "./model-failures";
import { getChatModel } from "./model";

/*
 * `@ai-sdk/google`, as the agent configures it (model.ts, with
 * GOOGLE_GENERATIVE_AI_BASE_URL), speaking Gemini's streaming API to the local
 * stand-in: what it sends, how it reads each kind of reply, and what the agent
 * makes of each failure. The agent has no tools yet, so function calls are
 * tested here with a tool of the test's own.
 */

let standIn: GeminiStandIn;
beforeAll(async () => {
  standIn = await startGeminiStandIn();
});
afterAll(async () => {
  await standIn?.close();
});
beforeEach(() => standIn.reset());

const geminiModel = (apiKey = standIn.apiKey) =>
  getChatModel(
    parseModelEnv({
      CHAT_MODEL: "google:gemini-2.5-flash",
      GOOGLE_GENERATIVE_AI_API_KEY: apiKey,
      GOOGLE_GENERATIVE_AI_BASE_URL: standIn.baseURL,
    }),
  );

/** Streams one prompt the way the agent does, with no retries so a failure shows at once. */
async function run(prompt: string, options: { tools?: ToolSet; apiKey?: string } = {}) {
  const result = streamText({
    model: geminiModel(options.apiKey),
    system: "You are a test.",
    prompt,
    tools: options.tools,
    stopWhen: stepCountIs(3),
    maxRetries: 0,
    experimental_transform: reportModelRefusals,
    // Read from the stream below; the default handler would print each one.
    onError: () => {},
  });
  const parts: TextStreamPart<ToolSet>[] = [];
  for await (const part of result.fullStream) parts.push(part);
  const errors = parts.flatMap((part) => (part.type === "error" ? [part.error] : []));
  const text = parts.flatMap((part) => (part.type === "text-delta" ? [part.text] : [])).join("");
  const reasoning = parts.flatMap((part) => (part.type === "reasoning-delta" ? [part.text] : [])).join("");
  return { parts, errors, text, reasoning, textDeltas: parts.filter((part) => part.type === "text-delta").length };
}

describe("@ai-sdk/google against the Gemini stand-in", () => {
  it("streams the answer in pieces, sending the key, the model, the system prompt and the question", async () => {
    const answer = "Streams arrive in small pieces, a few words at a time, until the answer is complete.";
    standIn.reply(geminiAnswer(answer));

    const { text, errors, textDeltas } = await run("How do streams arrive?");

    expect(errors).toEqual([]);
    expect(text).toBe(answer);
    expect(textDeltas).toBeGreaterThan(3);
    expect(standIn.requests).toHaveLength(1);
    const [request] = standIn.requests;
    expect(request).toMatchObject({ model: "gemini-2.5-flash", method: "streamGenerateContent", query: "?alt=sse" });
    expect(request!.apiKey).toBe("test-key-not-real");
    expect(request!.body.systemInstruction).toEqual({ parts: [{ text: "You are a test." }] });
    expect(request!.body.contents).toEqual([{ role: "user", parts: [{ text: "How do streams arrive?" }] }]);
  });

  it("calls a function the model asks for and sends its result back, then streams the answer", async () => {
    const calls: unknown[] = [];
    const tools = {
      get_weather: tool({
        description: "The weather in a city",
        inputSchema: z.object({ city: z.string() }),
        execute: async (input) => {
          calls.push(input);
          return { city: input.city, forecast: "sunny", celsius: 24 };
        },
      }),
    };
    standIn.reply(geminiFunctionCall("get_weather", { city: "Lisbon" }), geminiAnswer("It is sunny in Lisbon, 24 °C."));

    const { text, errors, parts } = await run("What is the weather in Lisbon?", { tools });

    expect(errors).toEqual([]);
    expect(calls).toEqual([{ city: "Lisbon" }]);
    expect(parts).toContainEqual(
      expect.objectContaining({ type: "tool-call", toolName: "get_weather", input: { city: "Lisbon" } }),
    );
    expect(text).toBe("It is sunny in Lisbon, 24 °C.");
    expect(standIn.requests).toHaveLength(2);
    const declared = standIn.requests[0]!.body.tools?.flatMap((entry) => entry.functionDeclarations ?? []);
    expect(declared).toEqual([expect.objectContaining({ name: "get_weather", description: "The weather in a city" })]);
    // The second request replays the call and carries its result.
    const [, modelTurn, resultTurn] = standIn.requests[1]!.body.contents;
    expect(modelTurn).toEqual({
      role: "model",
      parts: [
        expect.objectContaining({
          functionCall: expect.objectContaining({ name: "get_weather", args: { city: "Lisbon" } }),
        }),
      ],
    });
    expect(resultTurn).toEqual({
      role: "user",
      parts: [
        {
          functionResponse: expect.objectContaining({
            name: "get_weather",
            response: { name: "get_weather", content: { city: "Lisbon", forecast: "sunny", celsius: 24 } },
          }),
        },
      ],
    });
  });

  it("keeps thoughts out of the answer text: they arrive as reasoning", async () => {
    const thoughts = ["The user wants a number. ", "Seven is a fine number."];
    standIn.reply(geminiAnswer("Seven.", { thoughts }));

    const { text, reasoning, errors } = await run("Pick a number");

    expect(errors).toEqual([]);
    expect(text).toBe("Seven.");
    expect(reasoning).toBe(thoughts.join(""));
  });

  it("reports a safety stop mid-answer as a refusal, keeping the words written before it", async () => {
    standIn.reply(geminiSafetyStop({ partialText: "Here is how to" }));

    const { text, errors, parts } = await run("Something dangerous");

    expect(text).toBe("Here is how to");
    expect(parts.find((part) => part.type === "finish")).toMatchObject({
      finishReason: "content-filter",
      rawFinishReason: "SAFETY",
    });
    expect(errors).toHaveLength(1);
    expect(describeModelFailure(errors[0])).toMatchObject({
      reason: "refused",
      userMessage: MODEL_FAILURE_MESSAGES.refused,
    });
  });

  it("reports a blocked prompt (promptFeedback.blockReason, no candidate) as a refusal", async () => {
    standIn.reply(geminiPromptBlocked("PROHIBITED_CONTENT"));

    const { text, errors } = await run("Something prohibited");

    expect(text).toBe("");
    expect(errors).toHaveLength(1);
    const failure = describeModelFailure(errors[0]);
    expect(failure).toMatchObject({ reason: "refused", details: { finishReason: "PROHIBITED_CONTENT" } });
  });

  it.each([
    ["a 429", () => standIn.reply(geminiRateLimited()), "rate-limited", 429, "RESOURCE_EXHAUSTED"],
    ["a 500", () => standIn.reply(geminiInternalError()), "unavailable", 500, '"INTERNAL"'],
    ["a 403", () => standIn.reply(geminiPermissionDenied()), "credentials", 403, "PERMISSION_DENIED"],
  ] as const)("turns %s into a clear message, keeping the status and body for the logs", async (...testCase) => {
    const [, script, reason, status, inBody] = testCase;
    script();

    const { errors } = await run("Hello");

    expect(errors).toHaveLength(1);
    const failure = describeModelFailure(errors[0]);
    expect(failure.reason).toBe(reason);
    expect(failure.userMessage).toBe(MODEL_FAILURE_MESSAGES[reason]);
    expect(failure.userMessage).not.toMatch(/\d{3}|RESOURCE|INTERNAL|PERMISSION|http/);
    const url = `${standIn.baseURL}/models/gemini-2.5-flash:streamGenerateContent?alt=sse`;
    expect(failure.details).toMatchObject({ status, url });
    expect(failure.details.body).toContain(inBody);
  });

  it("gets Gemini's answer to a wrong key from the stand-in's key check: a credentials problem", async () => {
    const { errors } = await run("Hello", { apiKey: "a-revoked-key" });

    expect(standIn.requests.map((request) => request.apiKey)).toEqual(["a-revoked-key"]);
    const failure = describeModelFailure(errors[0]);
    expect(failure).toMatchObject({ reason: "credentials", details: { status: 400 } });
    expect(failure.details.body).toContain("API_KEY_INVALID");
    expect(failure.details.body).not.toContain("a-revoked-key");
  });

  it("calls a provider it cannot reach unavailable", async () => {
    const unreachable = await startGeminiStandIn();
    const baseURL = unreachable.baseURL;
    await unreachable.close();
    const model = getChatModel(
      parseModelEnv({
        CHAT_MODEL: "google:gemini-2.5-flash",
        GOOGLE_GENERATIVE_AI_API_KEY: "test-key-not-real",
        GOOGLE_GENERATIVE_AI_BASE_URL: baseURL,
      }),
    );
    const result = streamText({ model, prompt: "Hello", maxRetries: 0, onError: () => {} });
    const errors: unknown[] = [];
    for await (const part of result.fullStream) if (part.type === "error") errors.push(part.error);

    expect(describeModelFailure(errors[0]).reason).toBe("unavailable");
  });
});
