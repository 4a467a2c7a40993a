import type {
  LanguageModelV3,
  LanguageModelV3CallOptions,
  LanguageModelV3Prompt,
  LanguageModelV3StreamPart,
  LanguageModelV3Usage,
} from "@ai-sdk/provider";

export const OFFLINE_MODEL_ID = "offline-chat";

const QUOTE_WORD_LIMIT = 20;
const TEXT_ID = "offline-answer";

export type OfflineModelOptions = {
  /** Pause before each streamed word; 0 streams everything without timers. */
  wordDelayMs: number;
};

/**
 * A deterministic stand-in for a real LLM, so the chat works end to end with no
 * account or API key. Its answer echoes the conversation and explains how to
 * switch to Gemini.
 */
export function createOfflineModel({ wordDelayMs }: OfflineModelOptions): LanguageModelV3 {
  return {
    specificationVersion: "v3",
    provider: "offline",
    modelId: OFFLINE_MODEL_ID,
    supportedUrls: {},

    async doGenerate(options) {
      throwIfAborted(options.abortSignal);
      const text = composeOfflineAnswer(options.prompt);
      return {
        content: [{ type: "text", text }],
        finishReason: { unified: "stop", raw: "stop" },
        usage: usageFor(options.prompt, splitIntoWords(text).length),
        warnings: [],
      };
    },

    async doStream(options) {
      const words = splitIntoWords(composeOfflineAnswer(options.prompt));
      const parts = streamParts(words, options.prompt);
      return {
        stream: new ReadableStream<LanguageModelV3StreamPart>({
          async pull(controller) {
            const next = parts.next();
            if (next.done) {
              controller.close();
              return;
            }
            try {
              if (next.value.type === "text-delta" && wordDelayMs > 0) {
                await sleep(wordDelayMs, options.abortSignal);
              }
              throwIfAborted(options.abortSignal);
              controller.enqueue(next.value);
            } catch (error) {
              controller.error(error);
            }
          },
        }),
      };
    },
  };
}

/** The answer the offline model gives to a prompt; exported for tests. */
export function composeOfflineAnswer(prompt: LanguageModelV3Prompt): string {
  const userMessages = prompt.filter((message) => message.role === "user");
  const latest = userMessages.at(-1);
  const latestText = latest ? textOf(latest.content) : "";
  const turn = userMessages.length;

  return [
    `This is turn ${turn} of our conversation, answered by the **offline demo model**, which replies without calling any AI service. You wrote:`,
    "",
    `> ${latestText ? quote(latestText) : "(a message without text)"}`,
    "",
    "To get real answers from Gemini:",
    "",
    "- Set `GOOGLE_GENERATIVE_AI_API_KEY` in the agent's environment.",
    "- Optionally choose the model with `CHAT_MODEL=google:gemini-2.5-flash`.",
    "- Restart the agent and send another message.",
  ].join("\n");
}

function* streamParts(words: string[], prompt: LanguageModelV3Prompt): Generator<LanguageModelV3StreamPart> {
  yield { type: "stream-start", warnings: [] };
  yield { type: "text-start", id: TEXT_ID };
  for (const word of words) {
    yield { type: "text-delta", id: TEXT_ID, delta: word };
  }
  yield { type: "text-end", id: TEXT_ID };
  yield {
    type: "finish",
    finishReason: { unified: "stop", raw: "stop" },
    usage: usageFor(prompt, words.length),
  };
}

/** Words with their trailing whitespace, so the deltas join back into the exact answer. */
function splitIntoWords(text: string): string[] {
  return text.match(/\S+\s*/g) ?? [];
}

function textOf(content: ReadonlyArray<{ type: string; text?: string }>): string {
  return content
    .flatMap((part) => (part.type === "text" && part.text ? [part.text] : []))
    .join(" ")
    .replace(/\s+/g, " ")
    .trim();
}

function quote(text: string): string {
  const words = text.split(" ");
  return words.length > QUOTE_WORD_LIMIT ? `${words.slice(0, QUOTE_WORD_LIMIT).join(" ")}…` : text;
}

// There is no tokenizer here; words are an honest, deterministic stand-in for tokens.
function usageFor(prompt: LanguageModelV3Prompt, outputWords: number): LanguageModelV3Usage {
  const inputWords = prompt.reduce((total, message) => {
    const text = typeof message.content === "string" ? message.content : textOf(message.content);
    return total + (text ? text.split(/\s+/).length : 0);
  }, 0);
  return {
    inputTokens: { total: inputWords, noCache: inputWords, cacheRead: undefined, cacheWrite: undefined },
    outputTokens: { total: outputWords, text: outputWords, reasoning: undefined },
  };
}

function abortError(): DOMException {
  return new DOMException("The offline model's response was aborted.", "AbortError");
}

// An AbortError is what streamText recognises as a stop rather than a failure.
function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortError();
}

function sleep(ms: number, signal: LanguageModelV3CallOptions["abortSignal"]): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortError());
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
