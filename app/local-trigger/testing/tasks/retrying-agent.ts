import { AbortTaskRunError } from "@trigger.dev/sdk";
import { chat } from "@trigger.dev/sdk/ai";
import { streamText } from "ai";
import { z } from "zod";
import { createScriptedModel } from "../scripted-model";

/**
 * Agents for the engine's retry tests. `retrying` is a custom agent with a
 * task-level retry config: its client data says how many attempts fail at
 * boot (`failAttempts: 1` fails the first, a large number fails them all;
 * `failTurnAttempts` fails that many mid-turn instead), and
 * its reply names the attempt that answered; `abort: true` throws
 * AbortTaskRunError, which skips retrying. `strict` is a `chat.agent` (one
 * attempt, as the SDK sets it) whose client data must match its schema.
 */
export const retryingAgent = chat.customAgent({
  id: "retrying",
  retry: { maxAttempts: 3, factor: 2, minTimeoutInMs: 20, maxTimeoutInMs: 100, randomize: false },
  run: async (payload, { signal, ctx }) => {
    const options = (payload.metadata ?? {}) as { failAttempts?: number; failTurnAttempts?: number; abort?: boolean };
    if (options.abort) throw new AbortTaskRunError("retrying agent: aborts without retrying, on purpose");
    if (ctx.attempt.number <= (options.failAttempts ?? 0)) {
      throw new Error(`retrying agent: attempt ${ctx.attempt.number} fails on purpose`);
    }
    const session = chat.createSession(payload, { signal, idleTimeoutInSeconds: 30, timeout: "1h" });
    for await (const turn of session) {
      if (ctx.attempt.number <= (options.failTurnAttempts ?? 0)) {
        throw new Error(`retrying agent: attempt ${ctx.attempt.number} fails mid-turn on purpose`);
      }
      const result = streamText({
        model: createScriptedModel({ delayMs: 5, prefix: `[attempt ${ctx.attempt.number}] ` }),
        messages: turn.messages,
        abortSignal: turn.signal,
      });
      await turn.complete(result);
    }
  },
});

export const strictAgent = chat.agent({
  id: "strict",
  clientDataSchema: z.object({ userId: z.string() }),
  run: async ({ messages, signal }) =>
    streamText({
      ...chat.toStreamTextOptions(),
      model: createScriptedModel({ delayMs: 5 }),
      messages,
      abortSignal: signal,
    }),
});
