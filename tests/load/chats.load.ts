import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { TriggerChatTransport } from "@trigger.dev/sdk/chat";
import type { ChatTransport, UIMessage, UIMessageChunk } from "ai";
import { freePort } from "../../app/local-trigger/testing/harness";
import { NodeChat, textOf } from "../../app/local-trigger/testing/node-chat";

/*
 * `npm run test:load`: many guests chatting at once through the real client
 * path, against the production build on the embedded engine and the offline
 * model. Each guest has its own cookie; it starts its chat through the app's
 * resource routes and streams through TriggerChatTransport inside the AI SDK's
 * AbstractChat, as the chat page does. A turn that fails is retried the way
 * the page's Retry button does it, after a pause.
 *
 * Prints figures, asserts nothing: these machines are shared and noisy.
 *   LOAD_CHATS (100), LOAD_TURNS (3), LOAD_HANG_SECONDS (90), LOAD_MAX_RETRIES (10)
 */

const CHATS = Number(process.env.LOAD_CHATS ?? 100);
const TURNS = Number(process.env.LOAD_TURNS ?? 3);
const HANG_MS = Number(process.env.LOAD_HANG_SECONDS ?? 90) * 1000;
const MAX_RETRIES = Number(process.env.LOAD_MAX_RETRIES ?? 10);
const root = path.resolve(import.meta.dirname, "../..");

type TurnResult = {
  chat: number;
  turn: number;
  outcome: "completed" | "failed" | "hung";
  /** First Send → first text of the answer that finally arrived (retries included), in ms. */
  firstTextMs?: number;
  /** Error messages of failed attempts, in order. */
  errors: string[];
  crossTalk: boolean;
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The production server on the embedded engine, as `npm start` runs it, with a fresh data folder. */
async function startServer() {
  const port = await freePort();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "chat-load-"));
  const child = spawn(process.execPath, [path.join(root, "build/server.js")], {
    cwd: root,
    env: {
      ...process.env,
      NODE_ENV: "production",
      PORT: String(port),
      HOST: "127.0.0.1",
      LOCAL_TRIGGER_DATA_DIR: dataDir,
      TRIGGER_SECRET_KEY: "",
      LOCAL_TRIGGER: "",
      CHAT_MODEL: "offline:offline-chat",
      // 100 guests from one address would be a flood to a public server; this measures the engine under it.
      RATE_LIMITS: "off",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  child.stdout!.on("data", (chunk: Buffer) => (log += chunk));
  child.stderr!.on("data", (chunk: Buffer) => (log += chunk));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the server exited:\n${log}`);
    try {
      if ((await fetch(`${url}/`, { redirect: "manual" })).status < 500) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) throw new Error(`the server did not start within 60 s:\n${log}`);
    await sleep(100);
  }
  return { url, child, dataDir, log: () => log };
}

/** Requests from Node carry no Origin; a browser on the app's page sends one, and the app refuses state changes without it. */
function sendOriginLikeABrowser(appURL: string) {
  const plainFetch = globalThis.fetch;
  globalThis.fetch = (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    if (!url.startsWith(appURL)) return plainFetch(input, init);
    const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
    headers.set("Origin", appURL);
    return plainFetch(input, { ...init, headers });
  };
}

/** Peak resident memory of a process (VmHWM), in MiB. */
function peakRssMiB(child: ChildProcess) {
  const status = fs.readFileSync(`/proc/${child.pid}/status`, "utf8");
  const kib = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
  return kib / 1024;
}

/** One browser's worth of state: its guest cookie, and the calls the chat page makes. */
class Guest {
  private cookie = "";
  constructor(private readonly appURL: string) {}

  async post<T>(pathname: string, body?: unknown): Promise<T> {
    const response = await fetch(`${this.appURL}${pathname}`, {
      method: "POST",
      headers: {
        Origin: this.appURL,
        ...(this.cookie ? { Cookie: this.cookie } : {}),
        ...(body === undefined ? {} : { "Content-Type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const setCookie = response.headers.get("set-cookie");
    if (setCookie) this.cookie = setCookie.split(";")[0]!;
    const text = await response.text();
    if (!response.ok) {
      const retryAfter = response.headers.get("retry-after");
      throw new Error(
        `${pathname} answered ${response.status}${retryAfter ? ` (Retry-After: ${retryAfter})` : ""}: ${text.slice(0, 300)}`,
      );
    }
    return JSON.parse(text) as T;
  }
}

/** The transport, with the time of the first text chunk of each answer recorded. */
function timedTransport(inner: ChatTransport<UIMessage>, onFirstText: () => void): ChatTransport<UIMessage> {
  const watch = (stream: ReadableStream<UIMessageChunk>) =>
    stream.pipeThrough(
      new TransformStream<UIMessageChunk, UIMessageChunk>({
        transform(chunk, controller) {
          if (chunk.type === "text-delta") onFirstText();
          controller.enqueue(chunk);
        },
      }),
    );
  return {
    sendMessages: async (options) => watch(await inner.sendMessages(options)),
    reconnectToStream: async (options) => {
      const stream = await inner.reconnectToStream(options);
      return stream ? watch(stream) : null;
    },
  };
}

async function runChat(index: number, appURL: string, markers: string[]): Promise<TurnResult[]> {
  const chatId = randomUUID();
  const guest = new Guest(appURL);
  let firstTextAt: number | undefined;
  const transport = new TriggerChatTransport({
    task: "chat",
    baseURL: `${appURL}/local-trigger`,
    accessToken: async ({ chatId: id }) => (await guest.post<{ token: string }>(`/api/chats/${id}/token`)).token,
    startSession: async ({ chatId: id }) => ({
      publicAccessToken: (
        await guest.post<{ publicAccessToken: string }>(`/api/chats/${id}/session`, { title: `load chat ${index}` })
      ).publicAccessToken,
    }),
  });
  const chat = new NodeChat({
    id: chatId,
    transport: timedTransport(transport, () => (firstTextAt ??= performance.now())),
  });
  const results: TurnResult[] = [];

  for (let turn = 1; turn <= TURNS; turn++) {
    const marker = markers[index * TURNS + turn - 1]!;
    const result: TurnResult = { chat: index, turn, outcome: "failed", errors: [], crossTalk: false };
    results.push(result);
    const startedAt = performance.now();
    for (let attempt = 0; attempt <= MAX_RETRIES; attempt++) {
      firstTextAt = undefined;
      let sending: Promise<void>;
      if (attempt === 0) {
        sending = chat.sendMessage({ text: `message ${marker}` });
      } else if (chat.messages.at(-1)?.role === "user") {
        // Retry as the page does: a message that never got an answer is sent again as new.
        chat.messages = chat.messages.slice(0, -1);
        sending = chat.sendMessage({ text: `message ${marker}` });
      } else {
        sending = chat.regenerate();
      }
      const settled = await Promise.race([
        sending.then(() => "settled" as const),
        sleep(HANG_MS).then(() => "hung" as const),
      ]);
      if (settled === "hung") {
        result.outcome = "hung";
        break;
      }
      const answer = chat.messages.at(-1);
      if (chat.status === "ready" && answer?.role === "assistant") {
        const text = textOf(answer);
        result.outcome = "completed";
        // From the first Send, retries included: what the user waited.
        result.firstTextMs = firstTextAt === undefined ? undefined : firstTextAt - startedAt;
        // The offline model quotes the latest message and counts the turns it saw.
        result.crossTalk =
          !text.includes(marker) ||
          !text.includes(`turn ${turn} of our conversation`) ||
          markers.some((m) => m !== marker && text.includes(m));
        break;
      }
      result.errors.push(chat.error?.message ?? `status ${chat.status} without an answer`);
      chat.clearError();
      await sleep(2_000 + Math.random() * 1_000);
    }
    if (result.outcome !== "completed") break;
  }
  return results;
}

const percentile = (samples: number[], p: number) => {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
};
const ms = (value: number) => (Number.isNaN(value) ? "n/a" : `${Math.round(value).toLocaleString("en-US")} ms`);

const server = await startServer();
sendOriginLikeABrowser(server.url);
console.log(
  `load: ${CHATS} chats × ${TURNS} turns against ${server.url} (embedded engine, offline model), ${os.cpus().length} cores, node ${process.version}`,
);
const markers = Array.from({ length: CHATS * TURNS }, () => `m${randomUUID().slice(0, 8)}`);
const startedAt = performance.now();
const all = (await Promise.all(Array.from({ length: CHATS }, (_, i) => runChat(i, server.url, markers)))).flat();
const elapsed = (performance.now() - startedAt) / 1000;
const peak = peakRssMiB(server.child);
server.child.kill("SIGTERM");

const tried = CHATS * TURNS;
const completed = all.filter((r) => r.outcome === "completed");
const hung = all.filter((r) => r.outcome === "hung");
const withErrors = all.filter((r) => r.errors.length > 0);
const clearBusy = (message: string) => /\b429\b/.test(message) && /busy|capacity|limit/i.test(message);
const busyThenOk = withErrors.filter((r) => r.outcome === "completed" && r.errors.every(clearBusy));
const unclear = withErrors.flatMap((r) => r.errors.filter((message) => !clearBusy(message)));

console.log(`\nturns completed        ${completed.length} / ${tried}   (in ${elapsed.toFixed(1)} s)`);
console.log(`turns that got a clear 429 and then succeeded on retry   ${busyThenOk.length}`);
console.log(
  `turns failed for good  ${all.filter((r) => r.outcome === "failed").length} (+ ${tried - all.length} never tried after an earlier turn failed)`,
);
console.log(`turns hung (> ${HANG_MS / 1000} s)   ${hung.length}`);
console.log(`cross-talk             ${all.filter((r) => r.crossTalk).length}`);
console.log(`errors that did not say the server was busy   ${unclear.length}`);
for (const message of [...new Set(unclear)].slice(0, 5)) console.log(`  e.g. ${message.slice(0, 240)}`);
for (let turn = 1; turn <= TURNS; turn++) {
  const samples = completed.filter((r) => r.turn === turn && r.firstTextMs !== undefined).map((r) => r.firstTextMs!);
  console.log(
    `turn ${turn}: send → first text   p50 ${ms(percentile(samples, 50)).padStart(9)}   p95 ${ms(percentile(samples, 95)).padStart(9)}   (n=${samples.length})`,
  );
}
console.log(`server peak RSS        ${Math.round(peak).toLocaleString("en-US")} MiB`);
process.exit(0);
