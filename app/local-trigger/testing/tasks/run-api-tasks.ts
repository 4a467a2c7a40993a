import type { LanguageModelV3, LanguageModelV3Prompt, LanguageModelV3StreamPart } from "@ai-sdk/provider";
import { metadata, task, wait } from "@trigger.dev/sdk";
import { chat } from "@trigger.dev/sdk/ai";
import { stepCountIs, streamText, tool } from "ai";
import { z } from "zod";

/*
 * Tasks the run-level API tests drive (`engine.runs.test.ts`): a child task, a
 * task that waits on a waitpoint token, and a chat agent whose tool calls the
 * child with `triggerAndWait`, as a sub-agent would be.
 */

type ChildPayload = { text: string; fail?: boolean; holdMs?: number };

/** Echoes its text back in capitals, recording its progress in its metadata and its parent's. */
export const childTask = task({
  id: "run-api-child",
  run: async (payload: ChildPayload) => {
    metadata.set("progress", 0.5).append("steps", "started");
    metadata.parent.append("children", payload.text);
    if (payload.holdMs) await new Promise((resolve) => setTimeout(resolve, payload.holdMs));
    if (payload.fail) throw new Error(`child refused "${payload.text}"`);
    metadata.set("progress", 1).append("steps", "done");
    return { echo: payload.text, upper: payload.text.toUpperCase(), at: new Date("2026-01-02T03:04:05Z") };
  },
});

/** Fails its first attempt, so the run is retried as its `retry` config asks. */
export const flakyTask = task({
  id: "run-api-flaky",
  retry: { maxAttempts: 3, minTimeoutInMs: 10, maxTimeoutInMs: 10, factor: 1 },
  run: async (_payload: undefined, { ctx }) => {
    if (ctx.attempt.number < 2) throw new Error("the first attempt fails");
    return { attempt: ctx.attempt.number };
  },
});

/** Waits for the child with `triggerAndWait`, as a task (not a chat) calling a sub-agent would. */
export const parentTask = task({
  id: "run-api-parent",
  run: async (payload: ChildPayload) => {
    const result = await childTask.triggerAndWait(payload);
    return result.ok ? { child: result.output.upper } : { error: String(result.error) };
  },
});

/** Fans out to the child with `batchTriggerAndWait` and reports each item's result, in order. */
export const fanOutTask = task({
  id: "run-api-fan-out",
  run: async (payload: { texts: string[] }) => {
    const results = await childTask.batchTriggerAndWait(
      payload.texts.map((text) => ({ payload: { text, fail: text.includes("fail") } })),
    );
    return results.runs.map((result) => (result.ok ? result.output.upper : `error: ${result.error}`));
  },
});

/** Waits longer than the SDK waits in place (5 s), which on Trigger.dev is a checkpoint and here a timer. */
export const sleeperTask = task({
  id: "run-api-sleeper",
  run: async () => {
    await wait.for({ seconds: 6 });
    return { woke: true };
  },
});

type ApprovalPayload = { tokenId?: string; timeout?: string };

/**
 * Waits for a human: on a token it is given, or on one it creates (whose id
 * it puts in its metadata, where a backend finds it), and returns what the
 * token was completed with, or that it timed out.
 */
export const approvalTask = task({
  id: "run-api-approval",
  run: async (payload: ApprovalPayload) => {
    const tokenId = payload.tokenId ?? (await wait.createToken({ timeout: payload.timeout ?? "1h" })).id;
    metadata.set("tokenId", tokenId);
    await metadata.flush();
    const result = await wait.forToken<{ approved: boolean; note?: string }>(tokenId);
    return result.ok ? { ok: true, output: result.output } : { ok: false, error: result.error.message };
  },
});

const lastUserText = (prompt: LanguageModelV3Prompt) => {
  const last = prompt.findLast((message) => message.role === "user");
  return last?.role === "user" ? last.content.map((part) => (part.type === "text" ? part.text : "")).join(" ") : "";
};

/**
 * A model that asks the sub-agent tool first, then answers with what the tool
 * returned, so the answer shows the child run's output reached the chat.
 */
const toolCallingModel: LanguageModelV3 = {
  specificationVersion: "v3",
  provider: "scripted",
  modelId: "tool-calling",
  supportedUrls: {},
  doGenerate: async () => {
    throw new Error("The tool-calling model only streams");
  },
  doStream: async ({ prompt }) => {
    const last = prompt.at(-1);
    const toolResult =
      last?.role === "tool" ? last.content.find((part) => part.type === "tool-result")?.output : undefined;
    const usage = {
      inputTokens: { total: 1, noCache: 1, cacheRead: undefined, cacheWrite: undefined },
      outputTokens: { total: 1, text: 1, reasoning: undefined },
    };
    const parts: LanguageModelV3StreamPart[] = toolResult
      ? [
          { type: "stream-start", warnings: [] },
          { type: "text-start", id: "t" },
          { type: "text-delta", id: "t", delta: `The sub-agent answered: ${JSON.stringify(toolResult)}` },
          { type: "text-end", id: "t" },
          { type: "finish", finishReason: { unified: "stop", raw: "stop" }, usage },
        ]
      : [
          { type: "stream-start", warnings: [] },
          {
            type: "tool-call",
            toolCallId: "call-1",
            toolName: "askSubAgent",
            input: JSON.stringify({ question: lastUserText(prompt) }),
          },
          { type: "finish", finishReason: { unified: "tool-calls", raw: "tool_calls" }, usage },
        ];
    return {
      stream: new ReadableStream({
        start(controller) {
          for (const part of parts) controller.enqueue(part);
          controller.close();
        },
      }),
    };
  },
};

export const subAgentChat = chat.agent({
  id: "run-api-sub-agent-chat",
  run: async ({ messages, signal }) =>
    streamText({
      ...chat.toStreamTextOptions(),
      model: toolCallingModel,
      messages,
      abortSignal: signal,
      stopWhen: stepCountIs(3),
      tools: {
        askSubAgent: tool({
          description: "Ask the sub-agent",
          inputSchema: z.object({ question: z.string() }),
          execute: async ({ question }) => {
            const result = await childTask.triggerAndWait({ text: question, fail: question.includes("fail") });
            if (!result.ok) return { failed: String(result.error) };
            return { upper: result.output.upper, childRunId: result.id };
          },
        }),
      },
    }),
});
