import fs from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { type Browser, type BrowserContext, chromium, type Page } from "@playwright/test";
import { AppServer } from "../e2e/app-server";
import { send } from "./composer";

/*
 * `npm run bench:ui`: how the chat page copes with a long answer, in real
 * Chromium against the production build. The offline model streams a
 * 4,000-word markdown answer (about 40 code blocks) one word per chunk every
 * 10 ms, as token-level providers do. Printed, never asserted: these machines
 * are shared and noisy.
 *   - long tasks:    main-thread tasks over 50 ms while the answer streams (count, longest)
 *   - blocking:      total blocking time (the sum of each long task's excess over 50 ms)
 *   - last word lag: the model's last word reaching this process over SSE → the last change to the answer's text on screen
 *   - turn settled:  the same start → the Send button back, once the agent has closed the turn (its turn-complete record)
 *   - stop reaction: Stop clicked when the model has sent 75 % of the answer → the Send button back
 *   - scripts:       the chat page's scripts, gzip, on a new chat and on a chat with an answer with code
 * at 1× and 4× CPU throttle (BENCH_THROTTLE="1,4" to choose).
 */

const WORDS = Number(process.env.BENCH_WORDS ?? 4_000);
const WORD_DELAY_MS = Number(process.env.BENCH_WORD_DELAY_MS ?? 10);
const THROTTLES = (process.env.BENCH_THROTTLE ?? "1,4").split(",").map(Number);
/** A run that has not finished by then is reported as such: the old renderer needed minutes at 4×. */
const RUN_TIMEOUT_MS = Number(process.env.BENCH_RUN_TIMEOUT_MS ?? 300_000);
const OUTPUT = process.env.BENCH_OUTPUT ?? "reports/bench-ui.json";
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

type StreamRun = {
  throttle: number;
  finished: boolean;
  /** Text chunks the model sent for the long answer. */
  answerChunks: number;
  longTasks: number;
  longestTaskMs: number;
  totalBlockingMs: number;
  lastWordLagMs: number | undefined;
  settledLagMs: number | undefined;
  answerChars: number;
};
/** `stopped` is false when the answer was complete before the page acted on the click. */
type StopRun = { throttle: number; stopReactionMs: number | undefined; stopped: boolean };

/** In the page before any script: records long tasks and when the last answer's text last changed. */
function instrumentPage() {
  const probe = {
    longTasks: [] as { start: number; duration: number }[],
    lastTextChangeAt: 0,
    textLength: 0,
    sendButtonTimes: [] as number[],
  };
  Object.assign(window, { __bench: probe });
  let sendButtonShown = false;
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) probe.longTasks.push({ start: entry.startTime, duration: entry.duration });
  }).observe({ type: "longtask", buffered: true });
  new MutationObserver(() => {
    // The answer's own text: the model badge and the actions under it appear when the turn closes, not with a word.
    const answers = document.querySelectorAll('[data-testid="message-assistant"] .markdown');
    const length = answers[answers.length - 1]?.textContent?.length ?? 0;
    if (length !== probe.textLength) {
      probe.textLength = length;
      probe.lastTextChangeAt = performance.timeOrigin + performance.now();
    }
    const shown = document.querySelector('[data-testid="send-button"]') !== null;
    if (shown && !sendButtonShown) probe.sendButtonTimes.push(performance.timeOrigin + performance.now());
    sendButtonShown = shown;
  }).observe(document, { childList: true, subtree: true, characterData: true });
}

type Probe = {
  longTasks: { start: number; duration: number }[];
  lastTextChangeAt: number;
  textLength: number;
  sendButtonTimes: number[];
};
const readProbe = (page: Page) => page.evaluate(() => (window as unknown as { __bench: Probe }).__bench);

/**
 * Reads the chat's output stream from this process, as a second subscriber, and
 * notes when each text chunk arrives: the model's pace, unaffected by how busy
 * the page is.
 */
async function watchModelOutput(server: AppServer, context: BrowserContext, chatId: string) {
  const origin = server.url;
  const tokenResponse = await context.request.post(`${origin}/api/chats/${chatId}/token`, {
    headers: { Origin: origin },
    data: {},
  });
  if (!tokenResponse.ok()) throw new Error(`token: ${tokenResponse.status()} ${await tokenResponse.text()}`);
  const { token } = (await tokenResponse.json()) as { token: string };
  const abort = new AbortController();
  const state = { lastTextAt: 0, textChunks: 0 };
  const response = await fetch(`${origin}/local-trigger/realtime/v1/sessions/${chatId}/out`, {
    headers: { Authorization: `Bearer ${token}`, Accept: "text/event-stream", "Timeout-Seconds": "600" },
    signal: abort.signal,
  });
  if (!response.ok || !response.body) throw new Error(`subscribe: ${response.status}`);
  const reading = (async () => {
    const decoder = new TextDecoder();
    let pending = "";
    const reader = response.body!.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      pending += decoder.decode(value, { stream: true });
      const lines = pending.split("\n");
      pending = lines.pop()!;
      for (const line of lines) {
        // One event can carry a batch of records.
        const chunks = line.startsWith("data:") ? line.split("text-delta").length - 1 : 0;
        if (chunks > 0) {
          state.lastTextAt = Date.now();
          state.textChunks += chunks;
        }
      }
    }
  })().catch(() => {});
  return {
    state,
    close: async () => {
      abort.abort();
      await reading;
    },
  };
}

async function newChat(browser: Browser, server: AppServer, throttle: number) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await context.addInitScript(instrumentPage);
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await page.goto(`${server.url}/`);
  await page.waitForURL(/\/chat\/[0-9a-f-]{36}$/);
  const chatId = new URL(page.url()).pathname.split("/").at(-1)!;
  // A short first turn creates the session, so the stream can be watched before the long answer starts.
  await send(page, "hello");
  await page.getByTestId("send-button").waitFor();
  await page.getByTestId("offline-badge").first().waitFor();
  await cdp.send("Emulation.setCPUThrottlingRate", { rate: throttle });
  return { context, page, chatId };
}

async function streamRun(browser: Browser, server: AppServer, throttle: number): Promise<StreamRun> {
  const { context, page, chatId } = await newChat(browser, server, throttle);
  const model = await watchModelOutput(server, context, chatId);
  try {
    const before = await readProbe(page);
    const chunksBefore = model.state.textChunks;
    const startedAt = Date.now();
    await send(page, `/long ${WORDS}`);
    await page.getByTestId("stop-button").waitFor({ timeout: RUN_TIMEOUT_MS });
    // Done when the model has finished and the page has caught up: the Send button is back.
    const finished = await page
      .getByTestId("send-button")
      .waitFor({ timeout: Math.max(1, RUN_TIMEOUT_MS - (Date.now() - startedAt)) })
      .then(
        () => true,
        () => false,
      );
    const probe = await readProbe(page);
    const tasks = probe.longTasks.slice(before.longTasks.length);
    return {
      throttle,
      finished,
      answerChunks: model.state.textChunks - chunksBefore,
      longTasks: tasks.length,
      longestTaskMs: Math.round(Math.max(0, ...tasks.map((task) => task.duration))),
      totalBlockingMs: Math.round(tasks.reduce((total, task) => total + Math.max(0, task.duration - 50), 0)),
      lastWordLagMs: finished ? Math.max(0, Math.round(probe.lastTextChangeAt - model.state.lastTextAt)) : undefined,
      settledLagMs: finished ? Math.round(probe.sendButtonTimes.at(-1)! - model.state.lastTextAt) : undefined,
      answerChars: probe.textLength,
    };
  } finally {
    await model.close();
    await context.close();
  }
}

async function stopRun(browser: Browser, server: AppServer, throttle: number, answerChunks: number): Promise<StopRun> {
  const { context, page, chatId } = await newChat(browser, server, throttle);
  const model = await watchModelOutput(server, context, chatId);
  try {
    const before = model.state.textChunks;
    await send(page, `/long ${WORDS}`);
    const stopButton = await page.getByTestId("stop-button").boundingBox({ timeout: RUN_TIMEOUT_MS });
    if (!stopButton) throw new Error("no Stop button while the answer streams");
    // Stop when the model has written 75 % of the answer, however far behind the page is.
    const deadline = Date.now() + RUN_TIMEOUT_MS;
    while (model.state.textChunks - before < answerChunks * 0.75) {
      if (Date.now() > deadline) return { throttle, stopReactionMs: undefined, stopped: false };
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    // A raw click where the button is, as a user's would land: no waiting for the page to be ready for it.
    const clickedAt = Date.now();
    await page.mouse.click(stopButton.x + stopButton.width / 2, stopButton.y + stopButton.height / 2);
    await page.getByTestId("send-button").waitFor({ timeout: RUN_TIMEOUT_MS });
    const backAt = (await readProbe(page)).sendButtonTimes.find((time) => time >= clickedAt);
    const chunksAtEnd = model.state.textChunks - before;
    return {
      throttle,
      stopReactionMs: backAt === undefined ? undefined : Math.round(backAt - clickedAt),
      stopped: chunksAtEnd < answerChunks,
    };
  } finally {
    await model.close();
    await context.close();
  }
}

type ScriptWeight = {
  count: number;
  rawKiB: number;
  gzipKiB: number;
  files: { file: string; rawKiB: number; gzipKiB: number }[];
};

/**
 * Every script the chat page loads, and their total gzipped as the server
 * would send them: on a new chat, and on a chat that has an answer with code
 * (the markdown renderer and the highlighter come with it), opened afresh.
 */
async function scriptWeights(browser: Browser, server: AppServer) {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    const newChat = await loadScripts(page, `${server.url}/`);
    await send(page, "Some code:\n\n```ts\nconst answer: number = 42;\n```");
    await page.getByTestId("offline-badge").first().waitFor();
    await page.locator("pre [class^='hljs-']").first().waitFor();
    const withAnswer = await loadScripts(page, page.url());
    await page.locator("pre [class^='hljs-']").first().waitFor();
    return { newChat, withAnswer };
  } finally {
    await context.close();
  }
}

async function loadScripts(page: Page, url: string): Promise<ScriptWeight> {
  const scripts = new Map<string, Buffer>();
  const onResponse = async (response: import("@playwright/test").Response) => {
    if (response.request().resourceType() !== "script") return;
    scripts.set(response.url(), await response.body().catch(() => Buffer.alloc(0)));
  };
  page.on("response", onResponse);
  await page.goto(url);
  await page.waitForURL(/\/chat\/[0-9a-f-]{36}$/);
  await page.waitForLoadState("networkidle");
  page.off("response", onResponse);
  const files = [...scripts.entries()].map(([scriptUrl, body]) => ({
    file: new URL(scriptUrl).pathname,
    rawKiB: body.length / 1024,
    gzipKiB: gzipSync(body).length / 1024,
  }));
  return {
    count: files.length,
    rawKiB: files.reduce((sum, file) => sum + file.rawKiB, 0),
    gzipKiB: files.reduce((sum, file) => sum + file.gzipKiB, 0),
    files: files.sort((a, b) => b.gzipKiB - a.gzipKiB),
  };
}

const format = (value: number | undefined, unit = "") => (value === undefined ? "did not finish" : `${value}${unit}`);

async function main() {
  if (!fs.existsSync("build/server.js"))
    throw new Error("No production build: run `npm run build` first (npm run bench:ui does).");
  const server = await AppServer.start({ wordDelayMs: WORD_DELAY_MS });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-gpu"] });
  try {
    const weights = await scriptWeights(browser, server);
    const streams: StreamRun[] = [];
    const stops: StopRun[] = [];
    for (const throttle of THROTTLES) {
      console.error(`streaming ${WORDS} words at ${WORD_DELAY_MS} ms per word, CPU ${throttle}×…`);
      const run = await streamRun(browser, server, throttle);
      streams.push(run);
      console.error(`stopping at 75 %, CPU ${throttle}×…`);
      console.error(JSON.stringify(run));
      const stop = await stopRun(browser, server, throttle, run.answerChunks);
      console.error(JSON.stringify(stop));
      stops.push(stop);
    }

    console.log(`\nUI benchmark: ${WORDS}-word markdown answer, one word per chunk every ${WORD_DELAY_MS} ms\n`);
    console.log(
      "| CPU | long tasks > 50 ms | longest | total blocking | last word on screen after the model's | Send back after the model's last word | Stop at 75 % |",
    );
    console.log("|---|---|---|---|---|---|---|");
    for (const [index, run] of streams.entries()) {
      const stop = stops[index]!;
      console.log(
        `| ${run.throttle}× | ${run.finished ? run.longTasks : "—"} | ${format(run.finished ? run.longestTaskMs : undefined, " ms")} | ` +
          `${format(run.finished ? run.totalBlockingMs : undefined, " ms")} | ${format(run.lastWordLagMs, " ms")} | ${format(run.settledLagMs, " ms")} | ${format(stop.stopReactionMs, " ms")}${stop.stopped ? "" : " (too late: the answer had finished)"} |`,
      );
    }
    for (const [label, weight] of [
      ["a new chat", weights.newChat],
      ["a chat with an answer and code, opened afresh", weights.withAnswer],
    ] as const) {
      console.log(
        `\nChat page scripts, ${label}: ${weight.count} files, ${weight.gzipKiB.toFixed(1)} kB gzip (${weight.rawKiB.toFixed(1)} kB raw)`,
      );
      for (const file of weight.files.slice(0, 6))
        console.log(`  ${file.gzipKiB.toFixed(1).padStart(6)} kB  ${file.file}`);
    }

    fs.mkdirSync(path.dirname(OUTPUT), { recursive: true });
    fs.writeFileSync(
      OUTPUT,
      `${JSON.stringify({ words: WORDS, wordDelayMs: WORD_DELAY_MS, streams, stops, scripts: weights, at: new Date().toISOString() }, null, 2)}\n`,
    );
    console.log(`\nWritten to ${OUTPUT}`);
  } finally {
    await browser.close();
    await server.close();
  }
}

await main();
