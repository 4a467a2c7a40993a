import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createLocalEngine, type LocalEngine } from "../engine.server";
import { readOut } from "./read-out";

/*
 * `npm run bench:engine`: latency and throughput of the engine with a
 * zero-delay model, over raw HTTP as the SDK clients speak it.
 *   - new chat, cold worker: session create → first `.out` text chunk, no warm pool
 *   - new chat, warm pool:   the same with a booted worker waiting
 *   - follow-up turn:        `.in/append` → first text chunk on a live run
 *   - follow-up after idle:  the same once the run has suspended and its thread
 *                            ended, so a new run continues the chat from its snapshot
 *   - throughput:            text chunks per second through one session
 *   - memory:                resident memory each idle live run adds (a run is a worker thread)
 * Figures are printed, not asserted: these machines are shared and noisy.
 */

const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 50);
const THROUGHPUT_WORDS = 20_000;

type Engine = LocalEngine;

async function startEngine(warmWorkers: number, workerEnv: Record<string, string> = {}) {
  return createLocalEngine({
    dataDir: fs.mkdtempSync(path.join(os.tmpdir(), "local-trigger-bench-")),
    taskDirs: ["app/local-trigger/testing/tasks"],
    warmWorkers,
    maxLiveRuns: 64,
    workerEnv: { ECHO_AGENT_DELAY_MS: "0", ...workerEnv },
    log: () => {},
  });
}

const authed = (engine: Engine, token = engine.secretKey) => ({
  Authorization: `Bearer ${token}`,
  "Content-Type": "application/json",
});

async function createSession(engine: Engine, chatId: string) {
  const response = await fetch(`${engine.apiURL}/api/v1/sessions`, {
    method: "POST",
    headers: authed(engine),
    body: JSON.stringify({
      type: "chat.agent",
      externalId: chatId,
      taskIdentifier: "echo",
      triggerConfig: { basePayload: { chatId, trigger: "preload", messages: [] } },
    }),
  });
  if (response.status !== 201) throw new Error(`create failed: ${response.status} ${await response.text()}`);
  return (await response.json()) as { publicAccessToken: string };
}

async function appendMessage(engine: Engine, chatId: string, token: string, text: string) {
  const message = { id: `u-${Math.random().toString(36).slice(2)}`, role: "user", parts: [{ type: "text", text }] };
  const response = await fetch(`${engine.apiURL}/realtime/v1/sessions/${chatId}/in/append`, {
    method: "POST",
    headers: authed(engine, token),
    body: JSON.stringify({ kind: "message", payload: { message, chatId, trigger: "submit-message" } }),
  });
  if (!response.ok) throw new Error(`append failed: ${response.status}`);
  return ((await response.json()) as { seq: number }).seq;
}

async function closeSession(engine: Engine, chatId: string) {
  await fetch(`${engine.apiURL}/api/v1/sessions/${chatId}/close`, {
    method: "POST",
    headers: authed(engine),
    body: "{}",
  });
}

async function newChatLatency(engine: Engine, label: string, waitForWarmWorker: boolean) {
  const samples: number[] = [];
  for (let i = 0; i < ITERATIONS; i++) {
    if (waitForWarmWorker)
      while (engine.stats().warmWorkers === 0) await new Promise((resolve) => setTimeout(resolve, 20));
    const chatId = `${label}-${i}-${Date.now()}`;
    const startedAt = performance.now();
    const { publicAccessToken } = await createSession(engine, chatId);
    await appendMessage(engine, chatId, publicAccessToken, "hello");
    const { firstTextAt } = await readOut(engine.apiURL, chatId, publicAccessToken, 0);
    samples.push(firstTextAt - startedAt);
    await closeSession(engine, chatId);
  }
  return samples;
}

async function followUpLatency(engine: Engine) {
  const chatId = `follow-up-${Date.now()}`;
  const { publicAccessToken } = await createSession(engine, chatId);
  await appendMessage(engine, chatId, publicAccessToken, "first");
  let { lastSeq } = await readOut(engine.apiURL, chatId, publicAccessToken, 0, true);
  const samples: number[] = [];
  for (let i = 0; i < ITERATIONS; i++) {
    const startedAt = performance.now();
    await appendMessage(engine, chatId, publicAccessToken, `turn ${i}`);
    const result = await readOut(engine.apiURL, chatId, publicAccessToken, lastSeq + 1, true);
    samples.push(result.firstTextAt - startedAt);
    lastSeq = result.lastSeq;
  }
  return { samples, chatId, publicAccessToken, lastSeq };
}

/** Follow-ups after each turn's run has suspended (idle timeout 1 s) and its thread has ended. */
async function followUpAfterIdle(engine: Engine, waitForWarmWorker: boolean) {
  const chatId = `after-idle-${Date.now()}`;
  const { publicAccessToken } = await createSession(engine, chatId);
  await appendMessage(engine, chatId, publicAccessToken, "first");
  let { lastSeq } = await readOut(engine.apiURL, chatId, publicAccessToken, 0, true);
  const samples: number[] = [];
  for (let i = 0; i < Math.min(ITERATIONS, 20); i++) {
    while (engine.runFor(chatId)?.status === "EXECUTING") await new Promise((resolve) => setTimeout(resolve, 50));
    if (waitForWarmWorker)
      while (engine.stats().warmWorkers === 0) await new Promise((resolve) => setTimeout(resolve, 20));
    const startedAt = performance.now();
    await appendMessage(engine, chatId, publicAccessToken, `turn ${i}`);
    const result = await readOut(engine.apiURL, chatId, publicAccessToken, lastSeq + 1, true);
    samples.push(result.firstTextAt - startedAt);
    lastSeq = result.lastSeq;
  }
  return samples;
}

async function throughput(engine: Engine, chatId: string, token: string, lastSeq: number) {
  const startedAt = performance.now();
  const cpuBefore = process.cpuUsage();
  await appendMessage(engine, chatId, token, `words:${THROUGHPUT_WORDS}`);
  const { deltas } = await readOut(engine.apiURL, chatId, token, lastSeq + 1, true);
  const cpu = process.cpuUsage(cpuBefore);
  // CPU of every thread (engine, run, this client): steadier than wall time on a shared machine.
  const cpuPerThousand = (cpu.user + cpu.system) / 1000 / (deltas / 1000);
  return { deltas, perSecond: deltas / ((performance.now() - startedAt) / 1000), cpuPerThousand };
}

const percentile = (samples: number[], p: number) => {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
};
const report = (label: string, samples: number[], target?: string) =>
  console.log(
    `${label.padEnd(48)} p50 ${percentile(samples, 50).toFixed(1).padStart(7)} ms   p95 ${percentile(samples, 95).toFixed(1).padStart(7)} ms` +
      `   (n=${samples.length}${target ? `, target ${target}` : ""})`,
  );

console.log(
  `local engine benchmark: zero-delay model, ${ITERATIONS} iterations, ${os.cpus().length} cores, node ${process.version}\n`,
);

const cold = await startEngine(0);
await cold.taskIds();
report("new chat, cold worker: create → first text", await newChatLatency(cold, "cold", false));
await cold.close();

const warm = await startEngine(1);
await warm.taskIds();
report("new chat, warm pool: create → first text", await newChatLatency(warm, "warm", true), "p50 < 150 ms");
const followUp = await followUpLatency(warm);
report("follow-up turn: .in/append → first text", followUp.samples, "p50 < 30 ms");
const { deltas, perSecond, cpuPerThousand } = await throughput(
  warm,
  followUp.chatId,
  followUp.publicAccessToken,
  followUp.lastSeq,
);
console.log(
  `${"throughput, one session".padEnd(48)} ${Math.round(perSecond).toLocaleString("en-US")} text chunks/s (${deltas.toLocaleString("en-US")} chunks), ` +
    `${cpuPerThousand.toFixed(0)} ms CPU per 1,000 chunks`,
);
await warm.close();

const idling = await startEngine(1, { ECHO_AGENT_IDLE_SECONDS: "1" });
await idling.taskIds();
report("follow-up after idle, warm pool: → first text", await followUpAfterIdle(idling, true));
await idling.close();
const idlingCold = await startEngine(0, { ECHO_AGENT_IDLE_SECONDS: "1" });
await idlingCold.taskIds();
report("follow-up after idle, cold worker: → first text", await followUpAfterIdle(idlingCold, false));
await idlingCold.close();

const memoryEngine = await startEngine(0);
await memoryEngine.taskIds();
const LIVE_RUNS = 10;
await new Promise((resolve) => setTimeout(resolve, 500));
const rssBefore = process.memoryUsage().rss;
for (let i = 0; i < LIVE_RUNS; i++) {
  const chatId = `memory-${i}-${Date.now()}`;
  const { publicAccessToken } = await createSession(memoryEngine, chatId);
  await appendMessage(memoryEngine, chatId, publicAccessToken, "hello");
  await readOut(memoryEngine.apiURL, chatId, publicAccessToken, 0, true);
}
const perRun = (process.memoryUsage().rss - rssBefore) / LIVE_RUNS / 1024 / 1024;
console.log(
  `${"memory per live run".padEnd(48)} ${perRun.toFixed(1)} MiB RSS (${LIVE_RUNS} runs, after one turn each, before they suspend)`,
);
await memoryEngine.close();
process.exit(0);
