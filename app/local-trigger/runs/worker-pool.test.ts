import fs from "node:fs";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { waitFor } from "../testing/harness";
import { bundleWorker, type WorkerBundle } from "./bundle.server";
import { WorkerPool } from "./worker-pool.server";

/*
 * The warm pool's refill, on real worker threads: spares wait while runs are
 * still taking workers (a burst's first answers need the CPU), and boot once
 * runs stop arriving, or after a bounded delay when they never stop.
 */

let bundle: WorkerBundle;
beforeAll(async () => {
  bundle = await bundleWorker({ projectRoot: process.cwd(), taskDirs: ["app/local-trigger/testing/tasks"] });
});
afterAll(() => fs.rmSync(bundle.outDir, { recursive: true, force: true }));

const pools: WorkerPool[] = [];
afterEach(async () => {
  vi.useRealTimers();
  await Promise.all(pools.splice(0).map((pool) => pool.close()));
});

async function warmPool(warmWorkers: number) {
  const pool = new WorkerPool({
    bundle,
    boot: { apiURL: "http://127.0.0.1:9", secretKey: "tr_dev_unused", secretKeyClaims: { sub: "env_test", pub: true } },
    env: { ...process.env },
    warmWorkers,
    maxConcurrentBoots: 2,
    log: () => {},
  });
  pools.push(pool);
  await waitFor(() => pool.readyCount === warmWorkers, { timeoutMs: 30_000 });
  vi.useFakeTimers({ toFake: ["Date", "setTimeout", "clearTimeout"] });
  return pool;
}

describe("warm pool refill", () => {
  it("boots spares only once runs have stopped taking workers for a moment", async () => {
    const pool = await warmPool(2);
    pool.take();
    pool.take();
    expect(pool.readyCount).toBe(0);
    expect(pool.bootingCount).toBe(0);

    vi.advanceTimersByTime(400);
    pool.take(); // a third run in the burst boots at once, and pushes the spares back
    expect(pool.bootingCount).toBe(1);
    vi.advanceTimersByTime(450);
    expect(pool.bootingCount).toBe(1);

    vi.advanceTimersByTime(100);
    expect(pool.bootingCount).toBe(2);
  });

  it("boots a spare after a bounded delay when runs keep taking warm workers", async () => {
    const pool = await warmPool(8);
    pool.take();
    for (let elapsed = 400; elapsed < 3_000; elapsed += 400) {
      vi.advanceTimersByTime(400);
      pool.take();
      expect(pool.bootingCount).toBe(0);
    }
    vi.advanceTimersByTime(199); // 2,999 ms since the first spare was queued
    expect(pool.bootingCount).toBe(0);
    vi.advanceTimersByTime(1);
    expect(pool.bootingCount).toBe(1);
  });
});

describe("warm-up", () => {
  it("boots a spare through a throwaway chat turn, and a worker a run is waiting for without one", async () => {
    const pool = await warmPool(1);
    const spare = pool.take();
    expect(spare.chatTurnWarm).toBe(true);

    const urgent = pool.take(); // nothing booted or booting: this run's worker boots at once
    await urgent.booted;
    expect(urgent.chatTurnWarm).toBe(false);
  });
});
