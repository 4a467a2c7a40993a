import type {
  LanguageModelV3,
  LanguageModelV3CallOptions,
  LanguageModelV3Content,
  LanguageModelV3Prompt,
  LanguageModelV3StreamPart,
  LanguageModelV3ToolResultOutput,
  LanguageModelV3Usage,
} from "@ai-sdk/provider";

export const OFFLINE_MODEL_ID = "offline-chat";

/** The echo quotes this much of a message; a pasted book would otherwise stream for an hour. */
const QUOTE_WORD_LIMIT = 2_000;
const TEXT_ID = "offline-answer";
const REASONING_ID = "offline-reasoning";

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
      const plan = planOfflineAnswer(options.prompt, toolNamesOf(options));
      const content: LanguageModelV3Content[] = [];
      if (plan.reasoning) content.push({ type: "reasoning", text: plan.reasoning });
      if (plan.text) content.push({ type: "text", text: plan.text });
      if (plan.toolCall)
        content.push({ type: "tool-call", ...plan.toolCall, input: JSON.stringify(plan.toolCall.input) });
      const finish = plan.toolCall ? "tool-calls" : "stop";
      return {
        content,
        finishReason: { unified: finish, raw: finish },
        usage: usageFor(options.prompt, splitIntoWords(plan.text).length),
        warnings: [],
      };
    },

    async doStream(options) {
      const parts = streamParts(planOfflineAnswer(options.prompt, toolNamesOf(options)), options.prompt);
      return {
        stream: new ReadableStream<LanguageModelV3StreamPart>({
          async pull(controller) {
            const next = parts.next();
            if (next.done) {
              controller.close();
              return;
            }
            try {
              if ((next.value.type === "text-delta" || next.value.type === "reasoning-delta") && wordDelayMs > 0) {
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

/** What the offline model answers: optionally its reasoning first, then text, then optionally one tool call. */
export type OfflinePlan = {
  reasoning?: string;
  text: string;
  toolCall?: { toolCallId: string; toolName: string; input: Record<string, string> };
};

/** "What time is it in Tokyo?", "what's the time in Europe/Paris" */
const TIME_REQUEST = /\bwhat(?:'s|’s| is) the time in\s+([^?!.\n]+)|\bwhat time is it in\s+([^?!.\n]+)/i;
/** "calculate 12 * (3 + 4)", "compute sqrt(2)", "convert 5 km to mile" */
const CALCULATION_REQUEST = /^\s*(calculate|compute|convert)\s+(.+?)\s*\??\s*$/is;
/** A message that asks to think it through gets a short reasoning part before its answer. */
const THINK_REQUEST = /\bthink\b/i;

/** Places the offline model knows by name; anything else is passed on as written (an IANA name works). */
const TIME_ZONES: Record<string, string> = {
  tokyo: "Asia/Tokyo",
  london: "Europe/London",
  paris: "Europe/Paris",
  berlin: "Europe/Berlin",
  "new york": "America/New_York",
  "los angeles": "America/Los_Angeles",
  "san francisco": "America/Los_Angeles",
  sydney: "Australia/Sydney",
  singapore: "Asia/Singapore",
  mumbai: "Asia/Kolkata",
  delhi: "Asia/Kolkata",
  beijing: "Asia/Shanghai",
  utc: "UTC",
};

const GEMINI_ADVICE = [
  "To get real answers from Gemini:",
  "",
  "- Set `GOOGLE_GENERATIVE_AI_API_KEY` in the agent's environment.",
  "- Optionally choose the model with `CHAT_MODEL=google:gemini-2.5-flash`.",
  "- Restart the agent and send another message.",
];

/**
 * What the offline model does with a prompt, the same every time. After tool
 * results it reports them. Otherwise, when the agent offers the tools, "what
 * time is it in <place>" calls `currentTime` and "calculate <expression>"
 * calls `calculate`; any other message is quoted back. A message with the
 * word "think" gets a short reasoning part first.
 */
export function planOfflineAnswer(
  prompt: LanguageModelV3Prompt,
  toolNames: ReadonlySet<string> = new Set(),
): OfflinePlan {
  const last = prompt.at(-1);
  if (last?.role === "tool") return { text: [reportToolResults(prompt), "", ...GEMINI_ADVICE].join("\n") };

  const userMessages = prompt.filter((message) => message.role === "user");
  const latestText = userMessages.at(-1) ? textOf(userMessages.at(-1)!.content) : "";
  const turn = userMessages.length;
  const reasoning = THINK_REQUEST.test(latestText)
    ? `The user asks me to think before answering. I am the offline demo model, so I cannot reason about it for real: I will quote the message back and say how to switch to Gemini.`
    : undefined;

  const time = TIME_REQUEST.exec(latestText);
  if (time && toolNames.has("currentTime")) {
    const place = (time[1] ?? time[2] ?? "").trim();
    const timeZone = TIME_ZONES[place.toLowerCase()] ?? place;
    return {
      reasoning,
      text: `Let me look at the clock in ${place}.`,
      toolCall: { toolCallId: `offline-call-${turn}`, toolName: "currentTime", input: { timeZone } },
    };
  }
  const calculation = CALCULATION_REQUEST.exec(latestText);
  if (calculation && toolNames.has("calculate")) {
    return {
      reasoning,
      text: "I’ll use the calculator for that.",
      toolCall: { toolCallId: `offline-call-${turn}`, toolName: "calculate", input: { expression: calculation[2]! } },
    };
  }
  return { reasoning, text: composeOfflineAnswer(prompt) };
}

/** What the tools returned since the model last spoke, in a sentence each. */
function reportToolResults(prompt: LanguageModelV3Prompt): string {
  const results: string[] = [];
  for (let index = prompt.length - 1; index >= 0 && prompt[index]!.role === "tool"; index--) {
    const message = prompt[index]!;
    if (message.role !== "tool") break;
    for (const part of message.content) {
      if (part.type === "tool-result") results.unshift(describeToolResult(part.toolName, part.output));
    }
  }
  return results.length > 0 ? results.join("\n\n") : "The tool gave no result.";
}

function describeToolResult(toolName: string, output: LanguageModelV3ToolResultOutput): string {
  switch (output.type) {
    case "execution-denied":
      return `You declined the ${toolName} call, so I did not run it.`;
    case "error-text":
      return `The ${toolName} tool failed: ${output.value}`;
    case "error-json":
      return `The ${toolName} tool failed: ${JSON.stringify(output.value)}`;
    case "json": {
      const value = output.value as Record<string, unknown> | null;
      if (toolName === "currentTime" && value && typeof value.local === "string") {
        return `In ${String(value.timeZone)} it is ${value.local} (${String(value.utcOffset)}).`;
      }
      if (toolName === "calculate" && value && typeof value.result === "string") {
        return `\`${String(value.expression)}\` = **${value.result}**`;
      }
      return `The ${toolName} tool returned \`${JSON.stringify(output.value)}\`.`;
    }
    case "text":
      return `The ${toolName} tool returned: ${output.value}`;
    default:
      return `The ${toolName} tool returned a result.`;
  }
}

function toolNamesOf(options: LanguageModelV3CallOptions): Set<string> {
  return new Set((options.tools ?? []).flatMap((tool) => (tool.type === "function" ? [tool.name] : [])));
}

/** The text the offline model writes when it calls no tool: it quotes the latest message. */
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
  return [...body, "", ...GEMINI_ADVICE].join("\n");
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

function* streamParts(plan: OfflinePlan, prompt: LanguageModelV3Prompt): Generator<LanguageModelV3StreamPart> {
  yield { type: "stream-start", warnings: [] };
  if (plan.reasoning) {
    yield { type: "reasoning-start", id: REASONING_ID };
    for (const word of splitIntoWords(plan.reasoning)) yield { type: "reasoning-delta", id: REASONING_ID, delta: word };
    yield { type: "reasoning-end", id: REASONING_ID };
  }
  const words = splitIntoWords(plan.text);
  yield { type: "text-start", id: TEXT_ID };
  for (const word of words) {
    yield { type: "text-delta", id: TEXT_ID, delta: word };
  }
  yield { type: "text-end", id: TEXT_ID };
  if (plan.toolCall) {
    const { toolCallId, toolName, input } = plan.toolCall;
    const json = JSON.stringify(input);
    yield { type: "tool-input-start", id: toolCallId, toolName };
    yield { type: "tool-input-delta", id: toolCallId, delta: json };
    yield { type: "tool-input-end", id: toolCallId };
    yield { type: "tool-call", toolCallId, toolName, input: json };
  }
  const finish = plan.toolCall ? "tool-calls" : "stop";
  yield {
    type: "finish",
    finishReason: { unified: finish, raw: finish },
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
