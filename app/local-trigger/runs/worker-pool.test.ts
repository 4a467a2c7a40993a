import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
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

/** The engine's API as a spare's warm-up reaches it: every records read is answered empty, and remembered. */
const api = { url: "", reads: [] as { path: string; authorization: string | undefined }[] };
let apiServer: http.Server;
beforeAll(async () => {
  apiServer = http.createServer((request, response) => {
    api.reads.push({ path: request.url ?? "", authorization: request.headers.authorization });
    response.setHeader("Content-Type", "application/json");
    response.end(JSON.stringify({ records: [] }));
  });
  await new Promise<void>((resolve) => apiServer.listen(0, "127.0.0.1", resolve));
  api.url = `http://127.0.0.1:${(apiServer.address() as AddressInfo).port}`;
});
afterAll(() => apiServer.close());

async function warmPool(warmWorkers: number) {
  const pool = new WorkerPool({
    bundle,
    boot: { apiURL: api.url, secretKey: "tr_dev_unused", secretKeyClaims: { sub: "env_test", pub: true } },
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
    api.reads.length = 0;
    const pool = await warmPool(1);
    const spare = pool.take();
    expect(spare.chatTurnWarm).toBe(true);
    // Its records reads went over HTTP, so a run's first read finds the HTTP client compiled, and asked
    // for a chat id of its own, with no session and nothing to replay.
    expect(api.reads.length).toBeGreaterThan(0);
    for (const read of api.reads) {
      expect(read.path).toMatch(/^\/realtime\/v1\/sessions\/local-trigger-warm-up-[0-9a-f-]{36}\/(in|out)\/records/);
      expect(read.authorization).toBe("Bearer tr_dev_unused");
    }

    const readsBefore = api.reads.length;
    const urgent = pool.take(); // nothing booted or booting: this run's worker boots at once
    await urgent.booted;
    expect(urgent.chatTurnWarm).toBe(false);
    expect(api.reads.length).toBe(readsBefore);
  });
});
