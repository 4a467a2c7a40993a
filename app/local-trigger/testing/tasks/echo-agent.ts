import { chat } from "@trigger.dev/sdk/ai";
import { streamText } from "ai";
import { createScriptedModel } from "../scripted-model";

/**
 * The agent the engine's contract tests drive: a plain `chat.agent`, so every
 * behaviour under test is the SDK's, with a model whose reply states what it
 * saw (turn number, prompt size, the user's words) so history is checkable.
 */
const delayMs = Number(process.env.ECHO_AGENT_DELAY_MS ?? 10);

export const echoAgent = chat.agent({
  id: "echo",
  idleTimeoutInSeconds: Number(process.env.ECHO_AGENT_IDLE_SECONDS ?? 30),
  ...(process.env.ECHO_AGENT_TURN_TIMEOUT ? { turnTimeout: process.env.ECHO_AGENT_TURN_TIMEOUT } : {}),
  run: async ({ messages, signal }) =>
    streamText({ ...chat.toStreamTextOptions(), model: createScriptedModel({ delayMs }), messages, abortSignal: signal }),
});
