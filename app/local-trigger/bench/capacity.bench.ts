import { fork } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createLocalEngine, type LocalEngine } from "../engine.server";
import { readOut } from "./read-out";

/*
 * `npm run bench:capacity`: what open chats cost and how a burst of new chats
 * is served, on the app's real agent (`trigger/`) with the offline model.
 *   - memory: the engine process's resident memory (every thread) with 1, 10
 *     and 100 open chats, all idle and suspended, then with 10 of them (1 of 1)
 *     mid-answer;
 *   - burst: 20 new chats at once, session create → first `.out` text, with
 *     warm pools of several sizes.
 * Each scenario runs in a fresh process, so one's freed memory does not count
 * in the next. Figures are printed, not asserted: these machines are shared
 * and noisy.
 */

const MiB = 1024 * 1024;
const scenario = process.env.CAPACITY_SCENARIO;

type Engine = LocalEngine;

async function startEngine(options: { warmWorkers?: number; delayMs: number }) {
  return createLocalEngine({
    dataDir: fs.mkdtempSync(path.join(os.tmpdir(), "local-trigger-capacity-")),
    taskDirs: ["trigger"],
    ...(options.warmWorkers === undefined ? {} : { warmWorkers: options.warmWorkers }),
    maxLiveRuns: 64,
    workerEnv: {
      CHAT_MODEL: "offline:offline-chat",
      OFFLINE_MODEL_DELAY_MS: String(options.delayMs),
      // Idle chats suspend (and their threads end) a second after their turn, not after the app's 30 s.
      CHAT_IDLE_TIMEOUT_SECONDS: "1",
    },
    log: () => {},
  });
}

const authed = (token: string) => ({ Authorization: `Bearer ${token}`, "Content-Type": "application/json" });

async function createSession(engine: Engine, chatId: string) {
  const response = await fetch(`${engine.apiURL}/api/v1/sessions`, {
    method: "POST",
    headers: authed(engine.secretKey),
    body: JSON.stringify({
      type: "chat.agent",
      externalId: chatId,
      taskIdentifier: "chat",
      triggerConfig: { basePayload: { chatId, trigger: "preload", messages: [] } },
    }),
  });
  if (response.status !== 201) throw new Error(`create failed: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { publicAccessToken: string }).publicAccessToken;
}

async function appendMessage(engine: Engine, chatId: string, token: string, text: string) {
  const message = { id: `u-${Math.random().toString(36).slice(2)}`, role: "user", parts: [{ type: "text", text }] };
  const response = await fetch(`${engine.apiURL}/realtime/v1/sessions/${chatId}/in/append`, {
    method: "POST",
    headers: authed(token),
    body: JSON.stringify({ kind: "message", payload: { message, chatId, trigger: "submit-message" } }),
  });
  if (!response.ok) throw new Error(`append failed: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { seq: number }).seq;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
async function until(probe: () => boolean, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

const rss = () => process.memoryUsage().rss / MiB;

async function memoryScenario(chats: number) {
  const engine = await startEngine({ delayMs: 25 });
  await engine.taskIds();
  const tokens: string[] = [];
  const outSeqs: number[] = [];
  const ids = Array.from({ length: chats }, (_, i) => `memory-${i}-${Date.now()}`);
  // A few chats at a time: this measures what open chats hold, not a burst.
  for (let i = 0; i < chats; i += 4) {
    await Promise.all(
      ids.slice(i, i + 4).map(async (chatId, j) => {
        const token = await createSession(engine, chatId);
        tokens[i + j] = token;
        await appendMessage(engine, chatId, token, "hello");
        outSeqs[i + j] = (await readOut(engine.apiURL, chatId, token, 0, true, 120)).lastSeq;
      }),
    );
  }
  await until(() => engine.stats().liveRuns === 0, 60_000, "every chat to suspend");
  await until(() => engine.stats().bootingWorkers === 0, 60_000, "the warm pool to refill");
  await sleep(2_000);
  const idle = { rss: rss(), threads: engine.stats().workerThreads };

  const midTurn = Math.min(10, chats);
  // A long answer at 25 ms a word is still streaming while memory is read.
  await Promise.all(
    ids.slice(0, midTurn).map(async (chatId, i) => {
      await appendMessage(engine, chatId, tokens[i]!, "/long 3000");
      await readOut(engine.apiURL, chatId, tokens[i]!, outSeqs[i]! + 1, false, 120);
    }),
  );
  await sleep(2_000);
  const busy = { rss: rss(), threads: engine.stats().workerThreads, turns: engine.stats().turnsUnderWay };
  return { chats, idle, midTurn, busy };
}

async function burstScenario(warmWorkers: number, chats: number) {
  const engine = await startEngine({ warmWorkers, delayMs: 0 });
  await engine.taskIds();
  await until(() => engine.stats().warmWorkers >= warmWorkers, 120_000, "the warm pool to fill");
  await sleep(1_000);
  const cpuBefore = process.cpuUsage();
  const startedAt = performance.now();
  const samples = await Promise.all(
    Array.from({ length: chats }, async (_, i) => {
      const chatId = `burst-${i}-${Date.now()}`;
      const token = await createSession(engine, chatId);
      await appendMessage(engine, chatId, token, "hello");
      const { firstTextAt } = await readOut(engine.apiURL, chatId, token, 0, false, 120);
      return firstTextAt - startedAt;
    }),
  );
  const cpu = process.cpuUsage(cpuBefore);
  return { warmWorkers, samples, cpuMs: (cpu.user + cpu.system) / 1000, rss: rss() };
}

const percentile = (samples: number[], p: number) => {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
};

/** Runs one scenario in a fresh process and returns what it printed as JSON. */
function inChild<T>(name: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), [], {
      env: { ...process.env, CAPACITY_SCENARIO: name },
      execArgv: process.execArgv,
      stdio: ["ignore", "pipe", "inherit", "ipc"],
    });
    child.on("message", (message) => resolve(message as T));
    child.on("exit", (code) => {
      if (code !== 0) reject(new Error(`scenario ${name} exited with code ${code}`));
    });
  });
}

if (scenario) {
  const [kind, a, b] = scenario.split(":");
  const result = kind === "memory" ? await memoryScenario(Number(a)) : await burstScenario(Number(a), Number(b ?? 20));
  process.send!(result);
  // Closing 100 sessions' threads is not what is measured; the process ends with them.
  process.exit(0);
} else {
  const chatCounts = (process.env.CAPACITY_CHATS ?? "1,10,100").split(",").filter(Boolean).map(Number);
  const pools = (process.env.CAPACITY_POOLS ?? "1,4,8").split(",").filter(Boolean).map(Number);
  const burst = Number(process.env.CAPACITY_BURST ?? 20);
  console.log(
    `engine capacity: the app's agent on the offline model, ${os.cpus().length} cores, node ${process.version}\n`,
  );
  for (const chats of chatCounts) {
    const r = await inChild<Awaited<ReturnType<typeof memoryScenario>>>(`memory:${chats}`);
    console.log(
      `${`${chats} open chats, all idle`.padEnd(34)} RSS ${r.idle.rss.toFixed(0).padStart(5)} MiB   worker threads ${r.idle.threads}`,
    );
    console.log(
      `${`${chats} open chats, ${r.midTurn} mid-answer`.padEnd(34)} RSS ${r.busy.rss.toFixed(0).padStart(5)} MiB   worker threads ${r.busy.threads}`,
    );
  }
  for (const warmWorkers of pools) {
    const r = await inChild<Awaited<ReturnType<typeof burstScenario>>>(`burst:${warmWorkers}:${burst}`);
    console.log(
      `${`${burst} new chats at once, ${warmWorkers} warm`.padEnd(34)} first text p50 ${percentile(r.samples, 50).toFixed(0).padStart(5)} ms` +
        `   p95 ${percentile(r.samples, 95).toFixed(0).padStart(5)} ms   max ${Math.max(...r.samples)
          .toFixed(0)
          .padStart(5)} ms` +
        `   CPU ${(r.cpuMs / 1000).toFixed(1)} s   RSS ${r.rss.toFixed(0)} MiB`,
    );
  }
}
