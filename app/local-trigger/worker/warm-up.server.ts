import type { LanguageModelV3, LanguageModelV3StreamPart } from "@ai-sdk/provider";
import { generateJWT } from "@trigger.dev/core/v3/jwt";
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
