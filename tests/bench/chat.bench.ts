import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, chromium, type Page } from "@playwright/test";
import tailwindcss from "@tailwindcss/vite";
import { build as esbuild } from "esbuild";
import { build as viteBuild } from "vite";
import { composeOfflineAnswer } from "../../app/lib/ai/offline-model";
import { highlightAliases } from "../../vite.config";
import { AppServer } from "../e2e/app-server";
import { send } from "./composer";

/*
 * `npm run bench`: this app against what a developer would write instead, a
 * plain AI SDK route handler (`streamText(...).toUIMessageStreamResponse()`,
 * `useChat` with the default transport, the app's own message components), in
 * real Chromium, both on production builds and the offline model at zero delay.
 * Rounds are interleaved (the order swaps every round) so machine noise falls on
 * both alike. Printed and written to JSON, never asserted: these machines are
 * shared and noisy.
 *   - Send → first text: Enter pressed → the new answer's first text in the DOM
 *   - Send → last text:  Enter pressed → the answer's last change before Send is back
 *   for the first message of a new chat and for a follow-up, p50 and p95;
 *   - server CPU per 1,000 chunks: the server process's CPU time (all its threads)
 *     while long answers stream, per 1,000 text chunks the model sent.
 */

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 20);
const WARMUP_ROUNDS = Number(process.env.BENCH_WARMUP_ROUNDS ?? 2);
const CPU_ANSWERS = Number(process.env.BENCH_CPU_ANSWERS ?? 3);
const CPU_ANSWER_WORDS = 4_000;
/** How long the first message is typed before Send, from its first keystroke; 0 sends at once, as a paste would. */
const TYPING_MS = Number(process.env.BENCH_TYPING_MS ?? 0);
/** Round-trip time Chromium adds to every request, as a network between browser and server would; 0 is loopback. */
const LATENCY_MS = Number(process.env.BENCH_LATENCY_MS ?? 0);
const OUTPUT = process.env.BENCH_OUTPUT ?? "reports/bench.json";
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const BASELINE_SOURCE = path.join(ROOT, "tests/bench/baseline");
const BASELINE_OUT = path.join(ROOT, "reports/bench-baseline");

type Target = { name: "app" | "baseline"; url: string; pid: () => number | undefined };
type Turn = { firstTextMs: number; lastTextMs: number };
type Samples = Record<"newChatFirst" | "newChatLast" | "followUpFirst" | "followUpLast", number[]>;

/**
 * In each page before its scripts: times from Enter in the composer to the new answer's text.
 * No named functions inside: tsx would wrap them in a helper the page does not have.
 */
function instrumentPage() {
  const probe = { sentAt: 0, answersBefore: 0, firstTextAt: 0, lastTextAt: 0, length: 0 };
  Object.assign(window, { __turn: probe });
  const ANSWERS = '[data-testid="message-assistant"]';
  document.addEventListener(
    "keydown",
    (event) => {
      if (event.key !== "Enter" || event.shiftKey || !(event.target instanceof HTMLTextAreaElement)) return;
      Object.assign(probe, {
        sentAt: performance.now(),
        answersBefore: document.querySelectorAll(ANSWERS).length,
        firstTextAt: 0,
        lastTextAt: 0,
        length: 0,
      });
    },
    true,
  );
  new MutationObserver(() => {
    if (!probe.sentAt) return;
    const all = document.querySelectorAll(ANSWERS);
    if (all.length <= probe.answersBefore) return;
    const length = all[all.length - 1]!.querySelector(".markdown")?.textContent?.length ?? 0;
    if (length === probe.length) return;
    probe.length = length;
    const now = performance.now();
    if (!probe.firstTextAt) probe.firstTextAt = now;
    probe.lastTextAt = now;
  }).observe(document, { childList: true, subtree: true, characterData: true });
}

type Probe = { sentAt: number; answersBefore: number; firstTextAt: number; lastTextAt: number; length: number };

async function sendTurn(page: Page, text: string, typingMs = 0): Promise<Turn> {
  if (typingMs > 0) {
    // The first keystroke, once the page takes it; Send measures from Enter, as for everyone else.
    const input = page.getByRole("textbox", { name: "Message" });
    while (!(await page.getByTestId("send-button").isEnabled())) {
      await input.fill(text.slice(0, 1));
      await page.waitForTimeout(20);
    }
    await page.waitForTimeout(typingMs);
  }
  await send(page, text);
  // Done when the answer is on screen and Send is back: the turn is over.
  await page
    .waitForFunction(
      () => {
        const probe = (window as unknown as { __turn: Probe }).__turn;
        return probe.firstTextAt > 0 && document.querySelector('[data-testid="send-button"]') !== null;
      },
      undefined,
      { timeout: 60_000, polling: 20 },
    )
    .catch(async (error: unknown) => {
      const probe = await page.evaluate(() => (window as unknown as { __turn: Probe }).__turn);
      throw new Error(`no answer in 60 s at ${page.url()}: ${JSON.stringify(probe)}`, { cause: error });
    });
  const probe = await page.evaluate(() => (window as unknown as { __turn: Probe }).__turn);
  return { firstTextMs: probe.firstTextAt - probe.sentAt, lastTextMs: probe.lastTextAt - probe.sentAt };
}

async function openNewChat(browser: Browser, target: Target) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await context.addInitScript(instrumentPage);
  const page = await context.newPage();
  if (LATENCY_MS > 0) {
    const cdp = await context.newCDPSession(page);
    await cdp.send("Network.enable");
    await cdp.send("Network.emulateNetworkConditions", {
      offline: false,
      latency: LATENCY_MS,
      downloadThroughput: -1,
      uploadThroughput: -1,
    });
  }
  await page.goto(`${target.url}/`);
  if (target.name === "app") await page.waitForURL(/\/chat\/[0-9a-f-]{36}$/);
  await page.getByRole("textbox", { name: "Message" }).waitFor();
  return { context, page };
}

async function buildBaseline() {
  await viteBuild({
    root: BASELINE_SOURCE,
    configFile: false,
    // Libraries' "use client" directives make a warning per file, which says nothing here.
    logLevel: "error",
    plugins: [tailwindcss(), highlightAliases()],
    resolve: { tsconfigPaths: true },
    build: { outDir: path.join(BASELINE_OUT, "client"), emptyOutDir: true },
  });
  await esbuild({
    entryPoints: [path.join(BASELINE_SOURCE, "server.ts")],
    bundle: true,
    platform: "node",
    format: "esm",
    packages: "external",
    outfile: path.join(BASELINE_OUT, "server.js"),
    logLevel: "warning",
  });
}

async function startBaseline(): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(
    process.execPath,
    [path.join(BASELINE_OUT, "server.js"), path.join(BASELINE_OUT, "client"), "0"],
    {
      cwd: ROOT,
      env: { ...process.env, OFFLINE_MODEL_DELAY_MS: "0", NODE_ENV: "production" },
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  const port = await new Promise<number>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`the baseline server exited (${code})`)));
    child.stdout!.on("data", (chunk: Buffer) => {
      const match = /listening on (\d+)/.exec(String(chunk));
      if (match) resolve(Number(match[1]));
    });
  });
  return { child, url: `http://127.0.0.1:${port}` };
}

const CLOCK_TICKS_PER_SECOND = Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim()) || 100;

/** The process's CPU time so far, user and system, all threads (Linux). */
function cpuMs(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
}

/** The text chunks the offline model streams for one `/long` answer: one per word. */
function longAnswerChunks(): number {
  const answer = composeOfflineAnswer([
    { role: "user", content: [{ type: "text", text: `/long ${CPU_ANSWER_WORDS}` }] },
  ]);
  return answer.match(/\S+\s*/g)?.length ?? 0;
}

async function serverCpuPerThousandChunks(browser: Browser, target: Target): Promise<number> {
  const { context, page } = await openNewChat(browser, target);
  try {
    // The chat is started first, so only the answers' streaming is measured.
    await sendTurn(page, "hello");
    const pid = target.pid();
    if (!pid) throw new Error(`no process id for ${target.name}`);
    const before = cpuMs(pid);
    for (let answer = 0; answer < CPU_ANSWERS; answer++) await sendTurn(page, `/long ${CPU_ANSWER_WORDS}`);
    return ((cpuMs(pid) - before) * 1000) / (CPU_ANSWERS * longAnswerChunks());
  } finally {
    await context.close();
  }
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
};
const ms = (value: number) => `${Math.round(value)} ms`;

async function main() {
  if (!fs.existsSync(path.join(ROOT, "build/server.js")))
    throw new Error("No production build: run `npm run build` first (npm run bench does).");
  console.error("building the baseline page and route handler…");
  await buildBaseline();
  const app = await AppServer.start({ wordDelayMs: 0, env: { RATE_LIMITS: "off" } });
  const baseline = await startBaseline();
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-gpu"] });
  const targets: Target[] = [
    { name: "app", url: app.url, pid: () => app.pid },
    { name: "baseline", url: baseline.url, pid: () => baseline.child.pid },
  ];
  const samples: Record<Target["name"], Samples> = {
    app: { newChatFirst: [], newChatLast: [], followUpFirst: [], followUpLast: [] },
    baseline: { newChatFirst: [], newChatLast: [], followUpFirst: [], followUpLast: [] },
  };
  try {
    for (let round = 0; round < WARMUP_ROUNDS + ROUNDS; round++) {
      const order = round % 2 === 0 ? targets : [...targets].reverse();
      for (const target of order) {
        const { context, page } = await openNewChat(browser, target);
        try {
          const first = await sendTurn(page, `Hello, round ${round}`, TYPING_MS);
          const followUp = await sendTurn(page, "And a follow-up question");
          if (round < WARMUP_ROUNDS) continue;
          const into = samples[target.name];
          into.newChatFirst.push(first.firstTextMs);
          into.newChatLast.push(first.lastTextMs);
          into.followUpFirst.push(followUp.firstTextMs);
          into.followUpLast.push(followUp.lastTextMs);
        } finally {
          await context.close();
        }
      }
      console.error(`round ${round + 1 - WARMUP_ROUNDS}/${ROUNDS}${round < WARMUP_ROUNDS ? " (warm-up)" : ""}`);
    }
    console.error("server CPU while long answers stream…");
    const cpu = {
      app: await serverCpuPerThousandChunks(browser, targets[0]!),
      baseline: await serverCpuPerThousandChunks(browser, targets[1]!),
    };

    const rows = [
      ["New chat: Send → first text", "newChatFirst"],
      ["New chat: Send → last text", "newChatLast"],
      ["Follow-up: Send → first text", "followUpFirst"],
      ["Follow-up: Send → last text", "followUpLast"],
    ] as const;
    const summary = Object.fromEntries(
      rows.map(([, key]) => {
        const of = (name: Target["name"]) => ({
          p50: percentile(samples[name][key], 50),
          p95: percentile(samples[name][key], 95),
        });
        const appFigures = of("app");
        const baselineFigures = of("baseline");
        return [key, { app: appFigures, baseline: baselineFigures, ratioP50: appFigures.p50 / baselineFigures.p50 }];
      }),
    );

    console.log(
      `\nThis app against a plain AI SDK route handler: ${ROUNDS} interleaved rounds, offline model at zero delay${
        LATENCY_MS > 0 ? `, ${LATENCY_MS} ms added to every request` : ""
      }${TYPING_MS > 0 ? `, first message typed for ${TYPING_MS} ms` : ""}\n`,
    );
    console.log("| | this app, p50 / p95 | plain route handler, p50 / p95 | ratio of p50s |");
    console.log("|---|---|---|---|");
    for (const [label, key] of rows) {
      const { app: a, baseline: b, ratioP50 } = summary[key]!;
      console.log(`| ${label} | ${ms(a.p50)} / ${ms(a.p95)} | ${ms(b.p50)} / ${ms(b.p95)} | ${ratioP50.toFixed(2)}× |`);
    }
    console.log(
      `| Server CPU per 1,000 text chunks | ${cpu.app.toFixed(0)} ms | ${cpu.baseline.toFixed(0)} ms | ${(cpu.app / cpu.baseline).toFixed(2)}× |`,
    );

    fs.mkdirSync(path.dirname(OUTPUT), { recursive: true });
    fs.writeFileSync(
      OUTPUT,
      `${JSON.stringify({ rounds: ROUNDS, latencyMs: LATENCY_MS, typingMs: TYPING_MS, summary, cpuMsPerThousandChunks: cpu, samples, at: new Date().toISOString() }, null, 2)}\n`,
    );
    console.log(`\nWritten to ${OUTPUT}`);
  } finally {
    await browser.close();
    baseline.child.kill("SIGTERM");
    await app.close();
  }
}

await main();
