import { Worker } from "node:worker_threads";
import type { WorkerBundle } from "./bundle";
import { randomId } from "./storage";
import type { EngineCall, ParentToWorker, RunAssignment, WorkerBootData, WorkerToParent } from "./worker/protocol";

export type RunStatus = "EXECUTING" | "COMPLETED" | "FAILED" | "CANCELED";

export type Run = {
  id: string;
  sessionId: string;
  taskId: string;
  status: RunStatus;
  /** True from an incoming message until the run writes its turn-complete. */
  busy: boolean;
  lastActivityAt: number;
  error?: string;
  worker: PooledWorker;
};

type PooledWorker = {
  thread: Worker;
  booted: Promise<string[]>;
  ready: boolean;
  run?: Run;
};

export class CapacityError extends Error {
  constructor(readonly limit: number) {
    super(
      `The local engine is already running its limit of ${limit} live runs, all of them mid-turn. ` +
        `Wait for one to finish, or raise LOCAL_TRIGGER_MAX_RUNS.`,
    );
  }
}

export type RunManagerOptions = {
  bundle: WorkerBundle;
  apiURL: string;
  secretKey: string;
  warmWorkers: number;
  maxLiveRuns: number;
  env: Record<string, string | undefined>;
  /** Serves a run's call into the engine; synchronous, so calls apply in the order the agent made them. */
  onEngineCall: (run: Run, call: EngineCall) => unknown;
  /** Called once when a live run ends, however it ended. */
  onRunEnded: (run: Run) => void;
  log: (message: string) => void;
};

/**
 * Owns the worker threads: a warm pool of booted workers, one worker per run,
 * and a cap on live runs. When the cap is reached, the least recently active
 * idle run is ended to make room; its session continues in a new run on the
 * next message, restoring history from its snapshot, exactly as after a
 * suspended run times out.
 */
export class RunManager {
  private readonly pool: PooledWorker[] = [];
  private readonly runs = new Map<string, Run>();
  private closed = false;
  readonly taskIds: Promise<string[]>;

  constructor(private options: RunManagerOptions) {
    const first = this.spawn();
    this.pool.push(first);
    this.taskIds = first.booted;
    // A failed boot is reported to whoever needs a run; don't crash the process on it.
    this.taskIds.catch(() => {});
    void this.taskIds.then(() => this.refill(), () => {});
  }

  get(runId: string | null | undefined) {
    return runId ? this.runs.get(runId) : undefined;
  }

  isAlive(runId: string | null | undefined) {
    return this.get(runId)?.status === "EXECUTING";
  }

  get maxLiveRuns() {
    return this.options.maxLiveRuns;
  }

  /** Whether `start` would succeed: below the cap, or some idle run can make room. */
  hasRoomForRun() {
    if (this.liveCount < this.options.maxLiveRuns) return true;
    for (const run of this.runs.values()) if (run.status === "EXECUTING" && !run.busy) return true;
    return false;
  }

  /** Booted workers waiting in the pool. */
  get warmReady() {
    return this.pool.filter((worker) => worker.ready).length;
  }

  get liveCount() {
    let count = 0;
    for (const run of this.runs.values()) if (run.status === "EXECUTING") count++;
    return count;
  }

  /** Synchronous so a burst of callers for one session cannot start two runs. */
  start(sessionId: string, taskId: string, payload: Record<string, unknown>): Run {
    if (this.closed) throw new Error("The local engine is shutting down");
    if (this.liveCount >= this.options.maxLiveRuns) this.evictIdleRun();

    // Prefer a booted worker; a booting one is next best, since its boot is already under way.
    const readyIndex = this.pool.findIndex((candidate) => candidate.ready);
    const worker = (readyIndex === -1 ? this.pool.shift() : this.pool.splice(readyIndex, 1)[0]) ?? this.spawn();
    const run: Run = {
      id: `run_${randomId()}`,
      sessionId,
      taskId,
      status: "EXECUTING",
      busy: true,
      lastActivityAt: Date.now(),
      worker,
    };
    worker.run = run;
    this.runs.set(run.id, run);
    const assignment: RunAssignment = { runId: run.id, taskId, payload, attempt: 1 };
    worker.booted.then(
      () => this.send(worker, { type: "start", run: assignment }),
      (error: unknown) => this.finish(run, "FAILED", String(error)),
    );
    this.refill();
    this.options.log(`run ${run.id} started for ${sessionId}${payload.continuation ? " (continuation)" : ""}`);
    return run;
  }

  /** Ends a run at once, as a cancel on Trigger.dev ends the run's process: the thread is the run. */
  /**
   * New code for new runs, as a deploy does on Trigger.dev: pooled workers
   * booted on the old bundle are replaced; live runs finish on the version
   * they started with.
   */
  replaceBundle(bundle: WorkerBundle) {
    this.options = { ...this.options, bundle };
    for (const worker of this.pool.splice(0)) void worker.thread.terminate();
    this.refill();
  }

  cancel(runId: string | null | undefined, reason: string) {
    const run = this.get(runId);
    if (run?.status !== "EXECUTING") return;
    this.options.log(`run ${run.id} canceled: ${reason}`);
    this.finish(run, "CANCELED");
    void run.worker.thread.terminate();
  }

  markActivity(runId: string | null | undefined, busy: boolean) {
    const run = this.get(runId);
    if (!run) return;
    run.busy = busy;
    run.lastActivityAt = Date.now();
  }

  async close() {
    this.closed = true;
    const threads = [...this.pool.map((w) => w.thread), ...[...this.runs.values()].map((r) => r.worker.thread)];
    this.pool.length = 0;
    await Promise.all(threads.map((thread) => thread.terminate()));
  }

  private evictIdleRun() {
    let victim: Run | undefined;
    for (const run of this.runs.values()) {
      if (run.status !== "EXECUTING" || run.busy) continue;
      if (!victim || run.lastActivityAt < victim.lastActivityAt) victim = run;
    }
    if (!victim) throw new CapacityError(this.options.maxLiveRuns);
    this.options.log(`run ${victim.id} ended to make room (idle since ${new Date(victim.lastActivityAt).toISOString()})`);
    this.cancel(victim.id, "evicted to make room for another run");
  }

  private refill() {
    if (this.closed) return;
    while (this.pool.length < this.options.warmWorkers) this.pool.push(this.spawn());
  }

  private spawn(): PooledWorker {
    const bootData: WorkerBootData = {
      apiURL: this.options.apiURL,
      secretKey: this.options.secretKey,
      taskModules: this.options.bundle.taskModules,
      lazyChunks: this.options.bundle.lazyChunks,
    };
    const thread = new Worker(this.options.bundle.workerEntry, { workerData: bootData, env: this.options.env });
    let resolveBoot!: (taskIds: string[]) => void;
    let rejectBoot!: (error: Error) => void;
    const worker: PooledWorker = {
      thread,
      ready: false,
      booted: new Promise<string[]>((resolve, reject) => {
        resolveBoot = resolve;
        rejectBoot = reject;
      }),
    };
    worker.booted.catch(() => {});

    thread.on("message", (message: WorkerToParent) => {
      switch (message.type) {
        case "ready":
          worker.ready = true;
          return resolveBoot(message.taskIds);
        case "boot-failed":
          this.options.log(`worker failed to boot: ${message.error}`);
          return rejectBoot(new Error(`The project's tasks failed to load: ${message.error.split("\n")[0]}`));
        case "call":
          return this.handleCall(worker, message);
        case "exit":
          if (worker.run) this.finish(worker.run, message.status, message.error);
          return;
      }
    });
    thread.on("error", (error) => {
      rejectBoot(error);
      if (worker.run) this.finish(worker.run, "FAILED", error.stack ?? error.message);
    });
    thread.on("exit", (code) => {
      rejectBoot(new Error(`worker exited with code ${code} before it booted`));
      const index = this.pool.indexOf(worker);
      if (index !== -1) this.pool.splice(index, 1);
      // Terminated threads exit non-zero; a run ended by shutdown or cancel was not a failure.
      if (worker.run) this.finish(worker.run, this.closed ? "CANCELED" : code === 0 ? "COMPLETED" : "FAILED");
    });
    return worker;
  }

  private handleCall(worker: PooledWorker, message: Extract<WorkerToParent, { type: "call" }>) {
    try {
      if (!worker.run) throw new Error("no run is assigned to this worker");
      const value = this.options.onEngineCall(worker.run, message.call);
      this.send(worker, { type: "call-result", requestId: message.requestId, value });
    } catch (error) {
      this.send(worker, { type: "call-error", requestId: message.requestId, message: error instanceof Error ? error.message : String(error) });
    }
  }

  private finish(run: Run, status: Exclude<RunStatus, "EXECUTING">, error?: string) {
    const wasLive = run.status === "EXECUTING";
    if (wasLive) run.status = status;
    if (error && !run.error) {
      run.error = error;
      if (status === "FAILED") this.options.log(`run ${run.id} failed: ${error}`);
    }
    if (wasLive) {
      this.options.log(`run ${run.id} ${run.status.toLowerCase()}`);
      this.options.onRunEnded(run);
    }
  }

  private send(worker: PooledWorker, message: ParentToWorker) {
    try {
      worker.thread.postMessage(message);
    } catch {
      // The thread is gone; its exit handler settles the run.
    }
  }
}
