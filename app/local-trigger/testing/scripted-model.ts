import type { LanguageModelV3, LanguageModelV3Prompt, LanguageModelV3StreamPart } from "@ai-sdk/provider";

const lastUserText = (prompt: LanguageModelV3Prompt) => {
  const last = prompt.findLast((message) => message.role === "user");
  if (!last || last.role !== "user") return "";
  return last.content.map((part) => (part.type === "text" ? part.text : "")).join(" ");
};

/**
 * A deterministic model for engine tests. The reply is
 * `Reply to "<text>" after N prompt messages. w1 w2 … wK.` streamed one word
 * per chunk; "long" in the user text makes it 60 words so a test can act
 * mid-stream, and "words:N" makes it N words for throughput benchmarks.
 */
type ScriptedModelOptions = {
  delayMs: number;
  prefix?: string;
  /** Called before each word is streamed; lets a test agent misbehave at a chosen point. */
  beforeWord?: (index: number, userText: string) => void;
};

export function createScriptedModel({ delayMs, prefix = "", beforeWord }: ScriptedModelOptions): LanguageModelV3 {
  const stream = async ({ prompt, abortSignal }: { prompt: LanguageModelV3Prompt; abortSignal?: AbortSignal }) => {
    const userText = lastUserText(prompt);
    const requested = /words:(\d+)/.exec(userText)?.[1];
    const wordCount = requested ? Number(requested) : userText.includes("long") ? 60 : 8;
    const words = [
      `${prefix}Reply to "${userText}" after ${prompt.filter((m) => m.role !== "system").length} prompt messages.`,
    ];
    for (let i = 1; i <= wordCount; i++) words.push(`w${i}`);
    const parts: LanguageModelV3StreamPart[] = [
      { type: "stream-start", warnings: [] },
      { type: "text-start", id: "text" },
      ...words.map((word, i): LanguageModelV3StreamPart => ({
        type: "text-delta",
        id: "text",
        delta: i === 0 ? word : ` ${word}`,
      })),
      { type: "text-end", id: "text" },
      {
        type: "finish",
        finishReason: { unified: "stop", raw: "stop" },
        usage: {
          inputTokens: { total: 1, noCache: 1, cacheRead: undefined, cacheWrite: undefined },
          outputTokens: { total: words.length, text: words.length, reasoning: undefined },
        },
      },
    ];
    let index = 0;
    return {
      stream: new ReadableStream<LanguageModelV3StreamPart>({
        async pull(controller) {
          if (abortSignal?.aborted || index >= parts.length) return controller.close();
          const part = parts[index++]!;
          if (part.type === "text-delta") {
            beforeWord?.(index, userText);
            if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
          }
          controller.enqueue(part);
        },
      }),
    };
  };
  return {
    specificationVersion: "v3",
    provider: "scripted",
    modelId: "scripted",
    supportedUrls: {},
    doStream: stream,
    doGenerate: async () => {
      throw new Error("The scripted model only streams");
    },
  };
}
