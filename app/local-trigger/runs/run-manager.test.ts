import { describe, expect, it } from "vitest";
import { RunManager, type Run } from "./run-manager.server";
import type { PoolWorker, WorkerPool } from "./worker-pool.server";

/*
 * What the run manager does when a run's agent suspends after its idle
 * timeout: an idle run's thread ends, and a run that a message has just
 * reached keeps its thread and wakes in place. The pool is a stand-in that
 * records which workers were handed out and ended; the engine tests cover the
 * same path on real threads.
 */

type Hooks = Parameters<PoolWorker["assign"]>[1];

function manager() {
  const hooks: Hooks[] = [];
  const released: unknown[] = [];
  const ended: Run[] = [];
  const pool = {
    take: () => ({ assign: (_run: unknown, runHooks: Hooks) => hooks.push(runHooks) }),
    release: (worker: unknown) => released.push(worker),
    close: async () => {},
  } as unknown as WorkerPool;
  const runs = new RunManager({
    pool,
    maxLiveRuns: 4,
    queueWaitMs: 1_000,
    maxWaiting: 4,
    onEngineCall: () => null,
    onRunEnded: (run) => ended.push(run),
    log: () => {},
  });
  return { runs, hooks, released, ended };
}

describe("a run that suspends", () => {
  it("ends its thread when it is idle, and gives its slot back", () => {
    const { runs, hooks, released, ended } = manager();
    const run = runs.create("session_a", "echo", {}, { busy: true });
    runs.setBusy(run.id, false);
    hooks[0]!.onSuspend();
    expect(run.status).toBe("COMPLETED");
    expect(released).toEqual([run.worker]);
    expect(ended).toEqual([run]);
    expect(runs.liveCount).toBe(0);
  });

  it("keeps its thread when a message has just reached it, so it wakes in place", () => {
    const { runs, hooks, released, ended } = manager();
    const run = runs.create("session_a", "echo", {}, { busy: true });
    runs.setBusy(run.id, false);
    runs.setBusy(run.id, true); // the next message arrived as the agent suspended
    hooks[0]!.onSuspend();
    expect(run.status).toBe("EXECUTING");
    expect(released).toEqual([]);
    expect(ended).toEqual([]);
  });
});
