import type {
  LanguageModelV3,
  LanguageModelV3CallOptions,
  LanguageModelV3Prompt,
  LanguageModelV3StreamPart,
  LanguageModelV3Usage,
} from "@ai-sdk/provider";

export const OFFLINE_MODEL_ID = "offline-chat";

/** The echo quotes this much of a message; a pasted book would otherwise stream for an hour. */
const QUOTE_WORD_LIMIT = 2_000;
const TEXT_ID = "offline-answer";

/** `/long` asks for a long markdown answer, `/long 600` for one of about 600 words. */
const LONG_REQUEST = /^\/long(?:\s+(\d+))?\s*$/;
export const LONG_ANSWER_DEFAULT_WORDS = 4_000;
export const LONG_ANSWER_MAX_WORDS = 20_000;

export type OfflineModelOptions = {
  /** Pause before each streamed word; 0 streams everything without timers. */
  wordDelayMs: number;
};

/**
 * A deterministic stand-in for a real LLM, so the chat works end to end with no
 * account or API key. Its answer quotes the latest message, markdown intact,
 * and explains how to switch to Gemini; `/long [words]` makes it write a long
 * markdown answer (headings, lists, tables, a code block about every 100
 * words), so the UI can be tried and tested at any length.
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
  const long = LONG_REQUEST.exec(latestText);

  const body = long
    ? [
        `This is turn ${turn} of our conversation, answered by the **offline demo model**, which replies without calling any AI service. Here is the long answer you asked for.`,
        "",
        longMarkdown(Math.min(LONG_ANSWER_MAX_WORDS, Math.max(1, Number(long[1] ?? LONG_ANSWER_DEFAULT_WORDS)))),
      ]
    : [
        `This is turn ${turn} of our conversation, answered by the **offline demo model**, which replies without calling any AI service. You wrote:`,
        "",
        latestText ? blockquote(latestText) : "> (a message without text)",
      ];
  return [
    ...body,
    "",
    "To get real answers from Gemini:",
    "",
    "- Set `GOOGLE_GENERATIVE_AI_API_KEY` in the agent's environment.",
    "- Optionally choose the model with `CHAT_MODEL=google:gemini-2.5-flash`.",
    "- Restart the agent and send another message.",
  ].join("\n");
}

const TOPICS = ["streams", "sessions", "snapshots", "tokens", "retries", "queues", "workers", "transcripts"];
const LANGUAGES: [string, (n: number, topic: string) => string][] = [
  [
    "ts",
    (n, topic) =>
      `export async function step${n}(input: string): Promise<string> {\n  const ${topic} = await load("${topic}", input);\n  return ${topic}.trim();\n}`,
  ],
  [
    "python",
    (n, topic) => `def step_${n}(value):\n    ${topic} = load("${topic}", value)\n    return ${topic}.strip()`,
  ],
  ["bash", (n, topic) => `curl -s "http://localhost:3000/api/${topic}?step=${n}" \\\n  | jq '.items | length'`],
  ["json", (n, topic) => `{\n  "step": ${n},\n  "topic": "${topic}",\n  "ok": true\n}`],
  ["sql", (n, topic) => `SELECT id, created_at\nFROM ${topic}\nWHERE step = ${n}\nORDER BY created_at DESC;`],
];

/**
 * About `targetWords` words of varied markdown, the same every time: numbered
 * sections, each with a paragraph, a list and a fenced code block, and a table
 * every fifth section. It stops at a block boundary, so every fence is closed.
 */
function longMarkdown(targetWords: number): string {
  const blocks: string[] = [];
  let words = 0;
  const add = (block: string) => {
    blocks.push(block);
    words += block.split(/\s+/).filter(Boolean).length;
  };
  for (let section = 1; words < targetWords; section++) {
    const topic = TOPICS[section % TOPICS.length]!;
    const [language, code] = LANGUAGES[section % LANGUAGES.length]!;
    add(`## ${section}. Working with ${topic}`);
    if (words >= targetWords) break;
    add(
      `Section ${section} looks at ${topic} in a durable chat. Each step is small, and each one can be retried on its own, ` +
        `so a crash halfway through costs only the step that was running. The ${topic} here are examples; the shape is what matters.`,
    );
    if (words >= targetWords) break;
    add(
      [
        `- Read the ${topic} for step ${section}.`,
        `- Check what changed since step ${section - 1}.`,
        `- Write the result, then move on.`,
      ].join("\n"),
    );
    if (words >= targetWords) break;
    add(`\`\`\`${language}\n${code(section, topic)}\n\`\`\``);
    if (section % 5 === 0 && words < targetWords) {
      add(
        [
          "| Step | Topic | Status |",
          "| --- | --- | --- |",
          ...[0, 1, 2].map((row) => `| ${section - row} | ${TOPICS[(section - row) % TOPICS.length]} | done |`),
        ].join("\n"),
      );
    }
  }
  return blocks.join("\n\n");
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

/** The message's text as the user wrote it: line breaks and markdown kept. */
function textOf(content: ReadonlyArray<{ type: string; text?: string }>): string {
  return content
    .flatMap((part) => (part.type === "text" && part.text ? [part.text] : []))
    .join("\n\n")
    .trim();
}

/** The text as a markdown quote, line for line, cut after {@link QUOTE_WORD_LIMIT} words. */
function blockquote(text: string): string {
  const words = text.match(/\S+\s*/g) ?? [];
  const kept = words.length > QUOTE_WORD_LIMIT ? `${words.slice(0, QUOTE_WORD_LIMIT).join("").trimEnd()}…` : text;
  const cut = words.length > QUOTE_WORD_LIMIT ? [">", `> (${words.length - QUOTE_WORD_LIMIT} more words)`] : [];
  return [...kept.split("\n").map((line) => (line.trim() === "" ? ">" : `> ${line}`)), ...cut].join("\n");
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
