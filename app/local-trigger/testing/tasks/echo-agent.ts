import fs from "node:fs";
import { sessions } from "@trigger.dev/sdk";
import { chat } from "@trigger.dev/sdk/ai";
import { streamText } from "ai";
import { createScriptedModel } from "../scripted-model";

/**
 * The agent the engine's contract tests drive: a plain `chat.agent`, so every
 * behaviour under test is the SDK's, with a model whose reply states what it
 * saw (prompt size, the user's words) so history is checkable. Suspends and
 * resumes are counted in the session's metadata, where tests can see them.
 * A message containing "crash" kills the run mid-answer, once per marker file;
 * "crash every time" kills every run that tries to answer it. With
 * ECHO_AGENT_BOOT_GATE set, a worker's boot (this module's import) waits until
 * that file exists, so a test decides when the agent's worker is ready.
 */
const delayMs = Number(process.env.ECHO_AGENT_DELAY_MS ?? 10);
const lifecycle = { suspends: 0, resumes: 0 };
const crashMarker = process.env.ECHO_AGENT_CRASH_MARKER;
const bootGate = process.env.ECHO_AGENT_BOOT_GATE;

while (bootGate && !fs.existsSync(bootGate)) await new Promise((resolve) => setTimeout(resolve, 20));

function crashOnce(index: number, userText: string) {
  if (index < 5) return;
  if (userText.includes("crash every time")) process.exit(1);
  if (!crashMarker || !userText.includes("crash") || fs.existsSync(crashMarker)) return;
  fs.writeFileSync(crashMarker, "crashed");
  process.exit(1);
}

export const echoAgent = chat.agent({
  id: "echo",
  idleTimeoutInSeconds: Number(process.env.ECHO_AGENT_IDLE_SECONDS ?? 30),
  ...(process.env.ECHO_AGENT_TURN_TIMEOUT ? { turnTimeout: process.env.ECHO_AGENT_TURN_TIMEOUT } : {}),
  onChatSuspend: async ({ chatId }) => {
    lifecycle.suspends++;
    await sessions.update(chatId, { metadata: { ...lifecycle } });
  },
  onChatResume: async ({ chatId }) => {
    lifecycle.resumes++;
    await sessions.update(chatId, { metadata: { ...lifecycle } });
  },
  run: async ({ messages, signal }) =>
    streamText({
      ...chat.toStreamTextOptions(),
      model: createScriptedModel({ delayMs, beforeWord: crashOnce }),
      messages,
      abortSignal: signal,
    }),
});
