import http from "node:http";
import type { AddressInfo, Socket } from "node:net";

/*
 * A local stand-in for Gemini's REST API, for tests: it answers
 * `POST <base>/models/<model>:streamGenerateContent?alt=sse` the way the API
 * does for `@ai-sdk/google` 3.0.x (one `data: <GenerateContentResponse>` event
 * per chunk, errors as Google's JSON error body), checks the `x-goog-api-key`
 * header, and records every request so tests can assert what the provider sent.
 * What it answers is scripted per request; see the reply builders below.
 */

/** One `GenerateContentResponse` chunk, as Gemini streams it. */
export type GeminiChunk = {
  candidates?: {
    content?: { role: "model"; parts: GeminiPart[] };
    finishReason?: string;
    index?: number;
    safetyRatings?: SafetyRating[];
  }[];
  promptFeedback?: { blockReason: string; safetyRatings?: SafetyRating[] };
  usageMetadata?: { promptTokenCount: number; candidatesTokenCount?: number; totalTokenCount: number };
  modelVersion?: string;
  responseId?: string;
};

export type GeminiPart =
  { text: string; thought?: true } | { functionCall: { name: string; args: Record<string, unknown>; id?: string } };

type SafetyRating = { category: string; probability: string; blocked?: boolean };

/** Google's error body: `{ error: { code, message, status, details } }`. */
export type GoogleErrorBody = {
  error: { code: number; message: string; status: string; details?: Record<string, unknown>[] };
};

export type GeminiErrorReply = { kind: "error"; httpStatus: number; body: GoogleErrorBody };
export type GeminiReply = { kind: "stream"; chunks: GeminiChunk[]; chunkDelayMs?: number } | GeminiErrorReply;

/** What the provider sent, parsed. */
export type GeminiRequest = {
  model: string;
  /** The part after the model: "streamGenerateContent" or "generateContent". */
  method: string;
  query: string;
  apiKey: string | undefined;
  body: GeminiRequestBody;
};

/** The parts of the request body tests look at; the rest is kept as sent. */
export type GeminiRequestBody = {
  contents: { role: "user" | "model"; parts: Record<string, unknown>[] }[];
  systemInstruction?: { parts: { text: string }[] };
  tools?: { functionDeclarations?: { name: string; description?: string; parameters?: unknown }[] }[];
  generationConfig?: Record<string, unknown>;
  [key: string]: unknown;
};

const MODEL_VERSION = "gemini-2.5-flash";
const usage = (candidates: number) => ({
  promptTokenCount: 12,
  candidatesTokenCount: candidates,
  totalTokenCount: 12 + candidates,
});

/** Splits text into pieces of a few words, keeping the spaces, as Gemini's chunks do. */
function pieces(text: string, wordsPerChunk: number) {
  const words = text.match(/\S+\s*/g) ?? [text];
  const chunks: string[] = [];
  for (let i = 0; i < words.length; i += wordsPerChunk) chunks.push(words.slice(i, i + wordsPerChunk).join(""));
  return chunks;
}

const textChunk = (part: GeminiPart): GeminiChunk => ({
  candidates: [{ content: { role: "model", parts: [part] }, index: 0 }],
  modelVersion: MODEL_VERSION,
});

type AnswerOptions = { thoughts?: string[]; wordsPerChunk?: number; chunkDelayMs?: number };

/**
 * A streamed answer, a few words per chunk. `thoughts` come first as parts with
 * `thought: true`, as Gemini sends them when thinking is on and
 * `includeThoughts` is set.
 */
export function geminiAnswer(
  text: string,
  { thoughts = [], wordsPerChunk = 3, chunkDelayMs }: AnswerOptions = {},
): GeminiReply {
  const chunks = [
    ...thoughts.map((thought) => textChunk({ text: thought, thought: true })),
    ...pieces(text, wordsPerChunk).map((piece) => textChunk({ text: piece })),
  ];
  const last = chunks.at(-1)!;
  last.candidates![0]!.finishReason = "STOP";
  last.usageMetadata = usage(text.split(/\s+/).length);
  return { kind: "stream", chunks, chunkDelayMs };
}

/** The model asks for one function call, and ends its turn so the caller can run it. */
export function geminiFunctionCall(name: string, args: Record<string, unknown>): GeminiReply {
  const chunk = textChunk({ functionCall: { name, args } });
  chunk.candidates![0]!.finishReason = "STOP";
  return { kind: "stream", chunks: [{ ...chunk, usageMetadata: usage(5) }] };
}

const BLOCKED_RATINGS: SafetyRating[] = [
  { category: "HARM_CATEGORY_SEXUALLY_EXPLICIT", probability: "NEGLIGIBLE" },
  { category: "HARM_CATEGORY_HATE_SPEECH", probability: "NEGLIGIBLE" },
  { category: "HARM_CATEGORY_HARASSMENT", probability: "NEGLIGIBLE" },
  { category: "HARM_CATEGORY_DANGEROUS_CONTENT", probability: "HIGH", blocked: true },
];

/** The answer is stopped by the safety filter: `finishReason: "SAFETY"`, after `partialText` if any. */
export function geminiSafetyStop({ partialText = "" }: { partialText?: string } = {}): GeminiReply {
  const chunks = partialText ? pieces(partialText, 3).map((piece) => textChunk({ text: piece })) : [];
  chunks.push({
    candidates: [{ finishReason: "SAFETY", index: 0, safetyRatings: BLOCKED_RATINGS }],
    usageMetadata: usage(partialText.split(/\s+/).length),
    modelVersion: MODEL_VERSION,
  });
  return { kind: "stream", chunks };
}

/** The prompt itself is blocked: no candidate at all, only `promptFeedback.blockReason`. */
export function geminiPromptBlocked(blockReason = "SAFETY"): GeminiReply {
  return {
    kind: "stream",
    chunks: [
      {
        promptFeedback: { blockReason, safetyRatings: BLOCKED_RATINGS },
        usageMetadata: usage(0),
        modelVersion: MODEL_VERSION,
      },
    ],
  };
}

export function geminiError(httpStatus: number, error: GoogleErrorBody["error"]): GeminiErrorReply {
  return { kind: "error", httpStatus, body: { error } };
}

const RATE_LIMITS_DOCS = "https://ai.google.dev/gemini-api/docs/rate-limits";

/** What Gemini sends when a quota is used up (free tier, per minute). */
export const geminiRateLimited = () =>
  geminiError(429, {
    code: 429,
    message:
      "You exceeded your current quota, please check your plan and billing details. For more information on " +
      `this error, head to: ${RATE_LIMITS_DOCS}.`,
    status: "RESOURCE_EXHAUSTED",
    details: [
      {
        "@type": "type.googleapis.com/google.rpc.QuotaFailure",
        violations: [
          {
            quotaMetric: "generativelanguage.googleapis.com/generate_content_free_tier_requests",
            quotaId: "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
            quotaDimensions: { location: "global", model: MODEL_VERSION },
            quotaValue: "10",
          },
        ],
      },
      {
        "@type": "type.googleapis.com/google.rpc.Help",
        links: [{ description: "Learn more about Gemini API quotas", url: RATE_LIMITS_DOCS }],
      },
      { "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: "37s" },
    ],
  });

export const geminiInternalError = () =>
  geminiError(500, {
    code: 500,
    message:
      "An internal error has occurred. Please retry or report in " +
      "https://developers.generativeai.google/guide/troubleshooting",
    status: "INTERNAL",
  });

/** Gemini answers a wrong key with 400 and reason API_KEY_INVALID, not 401. */
export const geminiInvalidKey = () =>
  geminiError(400, {
    code: 400,
    message: "API key not valid. Please pass a valid API key.",
    status: "INVALID_ARGUMENT",
    details: [
      {
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        reason: "API_KEY_INVALID",
        domain: "googleapis.com",
        metadata: { service: "generativelanguage.googleapis.com" },
      },
    ],
  });

/** A key that is valid but not allowed this API (or no key at all). */
export const geminiPermissionDenied = () =>
  geminiError(403, {
    code: 403,
    message:
      "Method doesn't allow unregistered callers (callers without established identity). " +
      "Please use API Key or other form of API consumer identity to call this API.",
    status: "PERMISSION_DENIED",
  });

const lastUserText = (body: GeminiRequestBody) => {
  const last = body.contents?.findLast((content) => content.role === "user");
  return (last?.parts ?? []).map((part) => (typeof part.text === "string" ? part.text : "")).join(" ");
};

/**
 * What a one-shot `generateContent` gets, such as the agent's request for a
 * chat title: the question's first words, so a test can tell it from a title
 * derived without the model.
 */
export const geminiTitleFor = (question: string) => `Gemini on ${question.split(/\s+/).slice(0, 3).join(" ")}`;

/** The answer when nothing is scripted: names the question, so a test can tell answers apart. */
export const defaultGeminiAnswerText = (question: string) =>
  `Gemini stand-in here. You asked: "${question}". That is all I know.`;

export type GeminiStandIn = Awaited<ReturnType<typeof startGeminiStandIn>>;

/**
 * Starts the stand-in on a free loopback port. `baseURL` is what to give
 * `createGoogleGenerativeAI` (or GOOGLE_GENERATIVE_AI_BASE_URL).
 */
export async function startGeminiStandIn({ apiKey = "test-key-not-real", chunkDelayMs = 15 } = {}) {
  const requests: GeminiRequest[] = [];
  const oneShotRequests: GeminiRequest[] = [];
  const queued: GeminiReply[] = [];
  let fallback: ((request: GeminiRequest) => GeminiReply) | undefined;
  const sockets = new Set<Socket>();

  const pickReply = (request: GeminiRequest): GeminiReply => {
    if (request.apiKey === undefined || request.apiKey === "") return geminiPermissionDenied();
    if (request.apiKey !== apiKey) return geminiInvalidKey();
    return queued.shift() ?? fallback?.(request) ?? geminiAnswer(defaultGeminiAnswerText(lastUserText(request.body)));
  };

  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://stand-in");
    const route = /^\/v1beta\/models\/([^/:]+):(\w+)$/.exec(url.pathname);
    if (req.method !== "POST" || !route) {
      const message = `No route for ${req.method} ${url.pathname}`;
      return sendError(res, geminiError(404, { code: 404, message, status: "NOT_FOUND" }));
    }
    let body: GeminiRequestBody;
    try {
      body = JSON.parse(await readBody(req)) as GeminiRequestBody;
    } catch {
      return sendError(res, invalidArgument("Invalid JSON payload received."));
    }
    const request: GeminiRequest = {
      model: route[1]!,
      method: route[2]!,
      query: url.search,
      apiKey: header(req, "x-goog-api-key"),
      body,
    };
    if (request.method === "generateContent") {
      // Kept apart from the streamed answers and their scripted replies, which they would otherwise take in turn.
      oneShotRequests.push(request);
      if (request.apiKey !== apiKey) return sendError(res, geminiInvalidKey());
      const text = geminiTitleFor(lastUserText(body));
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(
        JSON.stringify({
          candidates: [{ content: { role: "model", parts: [{ text }] }, finishReason: "STOP", index: 0 }],
          usageMetadata: usage(text.split(/\s+/).length),
          modelVersion: MODEL_VERSION,
        }),
      );
      return;
    }
    requests.push(request);
    if (request.method !== "streamGenerateContent" || url.searchParams.get("alt") !== "sse") {
      return sendError(res, invalidArgument("The stand-in only streams (streamGenerateContent?alt=sse)."));
    }
    const reply = pickReply(request);
    if (reply.kind === "error") return sendError(res, reply);
    res.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-cache" });
    let closed = false;
    res.on("close", () => (closed = true));
    for (const chunk of reply.chunks) {
      if (closed) return;
      res.write(`data: ${JSON.stringify(chunk)}\r\n\r\n`);
      await new Promise((resolve) => setTimeout(resolve, reply.chunkDelayMs ?? chunkDelayMs));
    }
    res.end();
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    baseURL: `http://127.0.0.1:${port}/v1beta`,
    apiKey,
    /** Every streamed request so far, oldest first. */
    requests,
    /** Every one-shot `generateContent` request so far (the agent's title), oldest first. */
    oneShotRequests,
    /** Replies for the next requests, one each, before the fallback. */
    reply(...replies: GeminiReply[]) {
      queued.push(...replies);
    },
    /** The reply for every request once the queue is empty (a provider's retries included). */
    replyAlways(reply: GeminiReply | ((request: GeminiRequest) => GeminiReply)) {
      fallback = typeof reply === "function" ? reply : () => reply;
    },
    /** Back to the default answer, with no request recorded. */
    reset() {
      queued.length = 0;
      fallback = undefined;
      requests.length = 0;
      oneShotRequests.length = 0;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const header = (req: http.IncomingMessage, name: string) => {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
};

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let data = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => (data += chunk));
    req.on("end", () => resolve(data));
    req.on("error", reject);
  });
}

const invalidArgument = (message: string) => geminiError(400, { code: 400, message, status: "INVALID_ARGUMENT" });

function sendError(res: http.ServerResponse, reply: GeminiErrorReply) {
  res.writeHead(reply.httpStatus, { "Content-Type": "application/json; charset=UTF-8" });
  res.end(JSON.stringify(reply.body, null, 2));
}
