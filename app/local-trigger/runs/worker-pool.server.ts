import { Worker } from "node:worker_threads";
import { WORKER_RESOURCE_LIMITS } from "../limits.server";
import type {
  EngineCall,
  ParentToWorker,
  RunAssignment,
  WorkerBootData,
  WorkerToParent,
} from "../worker/protocol.server";
import type { ForwardedLogLevel } from "../worker/task-logger.server";
import type { WorkerBundle } from "./bundle.server";

/**
 * How a worker's run ended. `crashed`: the thread died (process.exit, out of
 * memory) rather than the task throwing. `retryInMs`: the task asks for
 * another attempt after that long. `output` and `taskError`: what the task
 * returned or threw, as the run API reports them.
 */
export type WorkerExit = Omit<Extract<WorkerToParent, { type: "exit" }>, "type"> & { crashed?: boolean };

type RunHooks = {
  /**
   * Serves a run's call into the engine; synchronous, so calls apply in the
   * order the agent made them. A wait returns a promise, answered when it settles.
   */
  onCall: (call: EngineCall) => unknown;
  /** Called once when the thread is gone, however it went. */
  onExit: (exit: WorkerExit) => void;
  /** A warning or error the run's code logged with the SDK's `logger`. */
  onLog: (level: ForwardedLogLevel, line: string) => void;
  /** The run is suspending, idle, on an `.in` waitpoint. */
  onSuspend: () => void;
};

/**
 * One worker thread, from the moment a boot is asked for: it may wait for a
 * boot slot, boot (import the SDK and the project's tasks, run a warm-up
 * generation), wait in the pool, and then serve exactly one run.
 */
export class PoolWorker {
  state: "waiting" | "booting" | "ready" | "gone" = "waiting";
  thread?: Worker;
  /** A spare for the warm pool, not yet asked for by a run: its boot may wait for a quiet moment. */
  spare = true;
  /** Booted through a throwaway chat turn (spares only), so its run's first turn runs compiled code. */
  chatTurnWarm = false;
  /** When it joined the boot queue. */
  readonly queuedAt = Date.now();
  readonly booted: Promise<string[]>;
  private hooks?: RunHooks;
  private resolveBoot!: (taskIds: string[]) => void;
  private rejectBoot!: (error: Error) => void;
  private exited = false;

  constructor(
    readonly bundle: WorkerBundle,
    /** For what the worker logs before it has a run. */
    private readonly log: (message: string) => void,
  ) {
    this.booted = new Promise<string[]>((resolve, reject) => {
      this.resolveBoot = resolve;
      this.rejectBoot = reject;
    });
    // Reported to whoever runs on this worker; never an unhandled rejection.
    this.booted.catch(() => {});
  }

  get assigned() {
    return this.hooks !== undefined;
  }

  /** Gives this worker its run; the run starts as soon as the worker has booted. */
  assign(run: RunAssignment, hooks: RunHooks) {
    this.hooks = hooks;
    this.booted.then(
      () => this.send({ type: "start", run }),
      (error: Error) => this.exit({ status: "FAILED", error: error.message }),
    );
  }

  /** Ends the thread (or its pending boot) at once: cancelling a run ends its process on Trigger.dev too. */
  terminate() {
    if (this.state === "gone") return;
    const wasWaiting = this.state === "waiting";
    this.state = "gone";
    this.rejectBoot(new Error("The worker was stopped before it booted"));
    if (wasWaiting) this.exit({ status: "FAILED", error: "canceled before it started" });
    void this.thread?.terminate();
  }

  spawn(boot: WorkerBootData, env: Record<string, string | undefined>, onBooted: (ok: boolean) => void) {
    this.state = "booting";
    const thread = new Worker(this.bundle.workerEntry, {
      workerData: boot,
      env,
      resourceLimits: WORKER_RESOURCE_LIMITS,
    });
    this.thread = thread;
    let settled = false;
    const booted = (ok: boolean) => {
      if (settled) return;
      settled = true;
      onBooted(ok);
    };
    thread.on("message", (message: WorkerToParent) => {
      switch (message.type) {
        case "ready":
          this.chatTurnWarm = message.chatTurnWarm;
          if (this.state === "booting") this.state = "ready";
          this.resolveBoot(message.taskIds);
          return booted(true);
        case "boot-failed":
          this.rejectBoot(new Error(`The project's tasks failed to load: ${message.error.split("\n")[0]}`));
          return booted(false);
        case "call":
          return this.serveCall(message);
        case "log":
          if (this.hooks) return this.hooks.onLog(message.level, message.line);
          return this.log(`worker ${message.level} before its run: ${message.line}`);
        case "suspended":
          return this.hooks?.onSuspend();
        case "exit":
          return this.exit({
            status: message.status,
            error: message.error,
            retryInMs: message.retryInMs,
            output: message.output,
            taskError: message.taskError,
          });
      }
    });
    thread.on("error", (error) => {
      this.rejectBoot(error);
      booted(false);
      this.exit({ status: "FAILED", error: error.stack ?? error.message, crashed: true });
    });
    thread.on("exit", (code) => {
      this.rejectBoot(new Error(`The worker exited with code ${code} before it booted`));
      booted(false);
      this.state = "gone";
      this.exit({
        status: code === 0 ? "COMPLETED" : "FAILED",
        error: code === 0 ? undefined : `the worker exited with code ${code}`,
        crashed: code !== 0,
      });
    });
  }

  private serveCall(message: Extract<WorkerToParent, { type: "call" }>) {
    const fail = (error: unknown) =>
      this.send({
        type: "call-error",
        requestId: message.requestId,
        message: error instanceof Error ? error.message : String(error),
      });
    try {
      if (!this.hooks) throw new Error("no run is assigned to this worker");
      const value = this.hooks.onCall(message.call);
      if (value instanceof Promise) {
        value.then((settled) => this.send({ type: "call-result", requestId: message.requestId, value: settled }), fail);
      } else {
        this.send({ type: "call-result", requestId: message.requestId, value });
      }
    } catch (error) {
      fail(error);
    }
  }

  private exit(exit: WorkerExit) {
    if (this.exited || !this.hooks) return;
    this.exited = true;
    this.hooks.onExit(exit);
  }

  private send(message: ParentToWorker) {
    try {
      this.thread?.postMessage(message);
    } catch {
      // The thread is gone; its exit handler settles the run.
    }
  }
}

export type WorkerPoolOptions = {
  bundle: WorkerBundle;
  boot: Omit<WorkerBootData, "taskModules" | "lazyChunks" | "warmUpChatTurn">;
  env: Record<string, string | undefined>;
  /** Booted workers kept waiting for the next run. */
  warmWorkers: number;
  /** Boots allowed at once: booting is CPU-bound, so more than the cores only makes every boot slower. */
  maxConcurrentBoots: number;
  log: (message: string) => void;
};

/**
 * A spare's boot waits until no run has taken a worker for this long: a run's
 * first turn on a fresh thread is CPU-bound too, and a boot beside it slows
 * it. In a burst of new chats, the pool refills once the burst has its
 * workers and first answers.
 */
const SPARE_BOOT_QUIET_MS = 500;
/** …but no longer than this, so a steady stream of new chats still gets its pool back. */
const SPARE_BOOT_MAX_DELAY_MS = 3_000;

/**
 * Boots worker threads with bounded concurrency and keeps a few booted ones
 * waiting. A run that needs a worker takes a booted one, else one whose boot
 * is under way, else goes to the front of the boot queue; refilling the pool
 * comes after every run that is waiting, once runs stop arriving for a moment.
 */
export class WorkerPool {
  private bundle: WorkerBundle;
  /** Unassigned workers: booting or ready. */
  private readonly idle: PoolWorker[] = [];
  /** Workers waiting for a boot slot, the ones runs need first. */
  private readonly bootQueue: PoolWorker[] = [];
  private readonly all = new Set<PoolWorker>();
  private booting = 0;
  private closed = false;
  /** After a failed boot the pool waits for demand or new code before booting spares again, so broken tasks do not boot in a loop. */
  private refillPaused = false;
  private lastTakeAt = 0;
  private spareTimer?: NodeJS.Timeout;
  taskIds: Promise<string[]>;

  constructor(private readonly options: WorkerPoolOptions) {
    this.bundle = options.bundle;
    const first = this.enqueue(false);
    this.idle.push(first);
    this.taskIds = first.booted;
    this.refill();
  }

  /** Booted workers waiting for a run. */
  get readyCount() {
    return this.idle.filter((worker) => worker.state === "ready").length;
  }

  get bootingCount() {
    return this.booting;
  }

  /** Worker threads alive: serving runs, booted and waiting, or booting. */
  get threadCount() {
    let count = 0;
    for (const worker of this.all) if (worker.thread && worker.state !== "gone") count++;
    return count;
  }

  /** A worker for a run, taken from the pool or queued for a boot ahead of spares. */
  take(): PoolWorker {
    if (this.closed) throw new Error("The local engine is shutting down");
    this.refillPaused = false;
    this.lastTakeAt = Date.now();
    const readyIndex = this.idle.findIndex((worker) => worker.state === "ready");
    const bootingIndex = this.idle.findIndex((worker) => worker.state === "booting");
    const index = readyIndex !== -1 ? readyIndex : bootingIndex;
    let worker: PoolWorker;
    if (index !== -1) {
      worker = this.idle.splice(index, 1)[0]!;
    } else {
      // A queued spare becomes this run's worker, at the front of the queue.
      const spareIndex = this.idle.findIndex((candidate) => candidate.state === "waiting");
      worker = spareIndex !== -1 ? this.idle.splice(spareIndex, 1)[0]! : this.enqueue(true);
      worker.spare = false;
      const queued = this.bootQueue.indexOf(worker);
      if (queued > 0) {
        this.bootQueue.splice(queued, 1);
        this.bootQueue.unshift(worker);
      }
    }
    this.refill();
    this.pump();
    return worker;
  }

  /** Ends a worker a run no longer needs, booted or not. */
  release(worker: PoolWorker) {
    const index = this.idle.indexOf(worker);
    if (index !== -1) this.idle.splice(index, 1);
    this.discard(worker);
    this.pump();
  }

  /** New code for new runs, as a deploy does on Trigger.dev: spares are replaced, live runs keep their version. */
  replaceBundle(bundle: WorkerBundle) {
    this.bundle = bundle;
    for (const worker of this.idle.splice(0)) this.discard(worker);
    this.refillPaused = false;
    const first = this.enqueue(false);
    this.idle.push(first);
    this.taskIds = first.booted;
    this.taskIds.catch(() => {});
    this.refill();
  }

  async close() {
    this.closed = true;
    clearTimeout(this.spareTimer);
    this.bootQueue.length = 0;
    const threads = [...this.all].flatMap((worker) => (worker.thread ? [worker.thread] : []));
    for (const worker of this.all) worker.terminate();
    await Promise.all(threads.map((thread) => thread.terminate()));
  }

  private enqueue(urgent: boolean) {
    const worker = new PoolWorker(this.bundle, this.options.log);
    this.all.add(worker);
    if (urgent) this.bootQueue.unshift(worker);
    else this.bootQueue.push(worker);
    this.pump();
    return worker;
  }

  private discard(worker: PoolWorker) {
    const queued = this.bootQueue.indexOf(worker);
    if (queued !== -1) this.bootQueue.splice(queued, 1);
    worker.terminate();
    this.all.delete(worker);
  }

  private refill() {
    if (this.closed || this.refillPaused) return;
    while (this.idle.length < this.options.warmWorkers) this.idle.push(this.enqueue(false));
  }

  private pump() {
    while (!this.closed && this.booting < this.options.maxConcurrentBoots && this.bootQueue.length > 0) {
      const worker = this.bootQueue[0]!;
      if (worker.state === "waiting" && worker.spare && this.spareMustWait(worker)) return;
      this.bootQueue.shift();
      if (worker.state !== "waiting") continue;
      this.booting++;
      const boot: WorkerBootData = {
        ...this.options.boot,
        taskModules: worker.bundle.taskModules,
        lazyChunks: worker.bundle.lazyChunks,
        warmUpChatTurn: worker.spare,
      };
      worker.spawn(boot, this.options.env, (ok) => {
        this.booting--;
        if (!ok) {
          const index = this.idle.indexOf(worker);
          if (index !== -1) {
            this.idle.splice(index, 1);
            this.refillPaused = true;
          }
        }
        this.pump();
      });
      worker.thread!.once("exit", () => {
        this.all.delete(worker);
        const index = this.idle.indexOf(worker);
        if (index !== -1) this.idle.splice(index, 1);
      });
    }
  }

  /** True while runs are still arriving; pumps again when the spare may boot. */
  private spareMustWait(worker: PoolWorker) {
    const now = Date.now();
    const bootAt = Math.min(this.lastTakeAt + SPARE_BOOT_QUIET_MS, worker.queuedAt + SPARE_BOOT_MAX_DELAY_MS);
    if (bootAt <= now) return false;
    clearTimeout(this.spareTimer);
    this.spareTimer = setTimeout(() => this.pump(), bootAt - now);
    this.spareTimer.unref();
    return true;
  }
}
