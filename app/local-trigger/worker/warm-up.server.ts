import type { LanguageModelV3, LanguageModelV3StreamPart } from "@ai-sdk/provider";
import { resourceCatalog } from "@trigger.dev/core/v3";
import { generateJWT } from "@trigger.dev/core/v3/jwt";
import { chat } from "@trigger.dev/sdk/ai";
import { streamText } from "ai";

const warmUpModel: LanguageModelV3 = {
  specificationVersion: "v3",
  provider: "local-trigger",
  modelId: "warm-up",
  supportedUrls: {},
  doGenerate: async () => {
    throw new Error("warm-up model only streams");
  },
  doStream: async () => ({
    stream: new ReadableStream<LanguageModelV3StreamPart>({
      start(controller) {
        controller.enqueue({ type: "stream-start", warnings: [] });
        controller.enqueue({ type: "text-start", id: "t" });
        for (const word of ["warming", " up"]) controller.enqueue({ type: "text-delta", id: "t", delta: word });
        controller.enqueue({ type: "text-end", id: "t" });
        controller.enqueue({
          type: "finish",
          finishReason: { unified: "stop", raw: "stop" },
          usage: {
            inputTokens: { total: 1, noCache: 1, cacheRead: undefined, cacheWrite: undefined },
            outputTokens: { total: 2, text: 2, reasoning: undefined },
          },
        });
        controller.close();
      },
    }),
  }),
};

/** The throwaway agent's task id. A project task of that name keeps it, and the chat turn is not run. */
const WARM_UP_AGENT_ID = "local-trigger-warm-up-agent";
/** A warm-up turn that takes longer than this is abandoned: the worker still works, only colder. */
const CHAT_TURN_TIMEOUT_MS = 5_000;

/**
 * A fresh thread runs every function cold, and a chat's first turn spends
 * most of its time there. A pooled worker runs one throwaway generation
 * through the same `ai` module and signs one token before it reports ready,
 * so the run it is given starts with those paths already compiled.
 */
export async function warmUp() {
  const result = streamText({ model: warmUpModel, prompt: "warm up" });
  const reader = result.toUIMessageStream({ sendReasoning: true }).getReader();
  while (!(await reader.read()).done);
  await generateJWT({ secretKey: "local-trigger-warm-up", payload: { pub: true }, expirationTime: "1m" });
}

/**
 * Answers one message through a throwaway `chat.agent` in the SDK's
 * in-memory harness (`mockChatAgent`): the same turn loop, message handling
 * and stream plumbing the project's agent uses, which is most of a new chat's
 * first-turn CPU. The harness keeps the chat's channels in memory; only the
 * run-start reads of its records go to the engine, for a chat id with no
 * session, which it answers empty. They are kept on purpose: a thread's first
 * `fetch` compiles the HTTP client (about 25 ms of CPU), which would otherwise
 * fall on the run's first read. The harness clears the SDK's test hooks when
 * it closes, so the engine's own are installed after it.
 */
export async function warmUpChatTurn() {
  if (resourceCatalog.getTask(WARM_UP_AGENT_ID)) throw new Error(`the project defines a task "${WARM_UP_AGENT_ID}"`);
  // Imported here: the harness module installs a resource catalog when it loads, which must not be the first one.
  const { mockChatAgent } = await import("@trigger.dev/sdk/ai/test");
  resourceCatalog.setCurrentFileContext("local-trigger/warm-up", "local-trigger/warm-up");
  let agent;
  try {
    agent = chat.agent({
      id: WARM_UP_AGENT_ID,
      run: async ({ messages, signal }) => streamText({ model: warmUpModel, messages, abortSignal: signal }),
    });
  } finally {
    resourceCatalog.clearCurrentFileContext();
  }
  // A fresh id each time: a session of that name would have records to replay.
  const chatId = `local-trigger-warm-up-${crypto.randomUUID()}`;
  const harness = mockChatAgent(agent, { chatId });
  let timer: NodeJS.Timeout | undefined;
  try {
    const turn = await Promise.race([
      harness.sendMessage({ id: "warm-up", role: "user", parts: [{ type: "text", text: "warm up" }] }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer in ${CHAT_TURN_TIMEOUT_MS} ms`)), CHAT_TURN_TIMEOUT_MS);
      }),
    ]);
    if (!turn.chunks.some((chunk) => (chunk as { type?: string }).type === "text-delta")) {
      throw new Error("the turn ended without its text");
    }
  } finally {
    clearTimeout(timer);
    await harness.close();
  }
}
