import type { EngineLog } from "../http/router.server";
import type { EngineCall, RunAssignment } from "../worker/protocol.server";
import { randomId } from "../storage/data-folder.server";
import type { PoolWorker, WorkerExit, WorkerPool } from "./worker-pool.server";

export type RunStatus = "QUEUED" | "EXECUTING" | "COMPLETED" | "FAILED" | "CANCELED";

export type Run = {
  id: string;
  sessionId: string;
  taskId: string;
  payload: Record<string, unknown>;
  status: RunStatus;
  /** Mid-turn: a message is owed an answer. A busy run is never evicted. */
  busy: boolean;
  /** When an idle run may be evicted. */
  evictableAt: number;
  lastActivityAt: number;
  error?: string;
  /** The attempt under way, from 1; a failed attempt is retried as the task's `retry` config asks. */
  attempt: number;
  /** Set while a failed attempt waits out its backoff; the run keeps its slot meanwhile. */
  retryTimer?: NodeJS.Timeout;
  /** How a FAILED run failed: its task threw (for good), or its thread crashed. */
  failure?: "error" | "crash";
  createdAt: number;
  startedAt?: number;
  finishedAt?: number;
  /** What the worker reported when its last attempt ended: its output or error. */
  exit?: WorkerExit;
  /** What a triggered run (not a session's) hands its worker besides the payload. */
  assignment?: Pick<RunAssignment, "payloadPacket" | "triggered">;
  worker?: PoolWorker;
  /** Set while the run waits for a slot, so concurrent callers share one wait. */
  starting?: Promise<void>;
};

/** Every slot is mid-turn and stayed so for as long as a request may wait. */
export class CapacityError extends Error {
  constructor(
    readonly limit: number,
    readonly retryAfterSeconds: number,
  ) {
    super(`The server is busy: all ${limit} agent runs are answering other chats. Please try again in a few seconds.`);
  }
}

export type RunManagerOptions = {
  pool: WorkerPool;
  maxLiveRuns: number;
  /** How long a run may wait for a slot when every slot is mid-turn. */
  queueWaitMs: number;
  /** How many runs may wait at once; beyond it, new work is refused at once. */
  maxWaiting: number;
  /** Serves a run's call into the engine; synchronous, so calls apply in the order the agent made them. */
  onEngineCall: (run: Run, call: EngineCall) => unknown;
  /** Called once when a run ends, however it ended (a queued run that is canceled included). */
  onRunEnded: (run: Run) => void;
  log: EngineLog;
};

/**
 * A run is evicted only after this long idle. Its last writes (the post-turn
 * snapshot) land just after its turn-complete, and a conversation that goes
 * straight on (a quick reply, a tool round trip) keeps its warm run instead of
 * paying a boot for every turn.
 */
const IDLE_BEFORE_EVICTION_MS = 1_000;
const RETRY_AFTER_SECONDS = 5;
const ENDED_RUNS_KEPT = 1_000;

type Waiter = { run: Run; busy: boolean; resolve: () => void; reject: (error: Error) => void; timer: NodeJS.Timeout };

/**
 * The runs and their slots. A live run (one worker thread) holds a slot, and
 * at most `maxLiveRuns` are live. A slot is only *held* while a turn is
 * running: an idle or just-created run gives its slot up to new work (it is
 * ended, and its session continues in a new run on the next message, from
 * its snapshot, as on Trigger.dev after a checkpoint). When every slot is
 * mid-turn, new work waits in a bounded queue and is then refused with a
 * CapacityError. A run nobody is waiting on yet stays QUEUED until a slot is
 * free.
 */
export class RunManager {
  private readonly runs = new Map<string, Run>();
  private readonly executing = new Set<Run>();
  private readonly waiters: Waiter[] = [];
  /** Created while every slot was taken; started when a slot frees, after every waiter. */
  private readonly queued: Run[] = [];
  private closed = false;
  private recheckTimer?: NodeJS.Timeout;
  private serving = false;

  constructor(private readonly options: RunManagerOptions) {}

  get(runId: string | null | undefined) {
    return runId ? this.runs.get(runId) : undefined;
  }

  get liveCount() {
    return this.executing.size;
  }

  get waitingCount() {
    return this.waiters.length;
  }

  /** Turns owed an answer: running, or waiting for a slot. */
  get turnsUnderWay() {
    let count = this.waiters.length;
    for (const run of this.executing) if (run.busy) count++;
    return count;
  }

  /**
   * A new run for a session. It starts at once when a slot is free without
   * taking one from another run; otherwise it is QUEUED until `execute` or a
   * free slot starts it.
   */
  create(
    sessionId: string,
    taskId: string,
    payload: Record<string, unknown>,
    options: { busy?: boolean; assignment?: Run["assignment"] } = {},
  ): Run {
    if (this.closed) throw new Error("The local engine is shutting down");
    const run: Run = {
      id: `run_${randomId()}`,
      sessionId,
      taskId,
      payload,
      status: "QUEUED",
      busy: !!options.busy,
      evictableAt: 0,
      lastActivityAt: Date.now(),
      attempt: 1,
      createdAt: Date.now(),
      assignment: options.assignment,
    };
    this.runs.set(run.id, run);
    if (this.waiters.length === 0 && this.executing.size < this.options.maxLiveRuns) this.begin(run, run.busy);
    else this.queued.push(run);
    return run;
  }

  /**
   * Makes sure the run is executing, waiting for a slot when every slot is
   * mid-turn. With `busy`, the run holds its slot from the moment it starts,
   * so nothing can take it before the caller hands it its message.
   */
  execute(run: Run, options: { busy: boolean; waitMs?: number }): Promise<void> {
    if (run.status === "EXECUTING") {
      if (options.busy) this.setBusy(run.id, true);
      return Promise.resolve();
    }
    if (run.status !== "QUEUED") return Promise.reject(new Error(`run ${run.id} has already ended`));
    if (run.starting) return run.starting.then(() => (options.busy ? this.setBusy(run.id, true) : undefined));
    // Out of the queue first: making room ends a run, and nothing may promote this one meanwhile.
    this.unqueue(run);
    if (this.waiters.length === 0 && this.makeRoom()) {
      this.begin(run, options.busy);
      return Promise.resolve();
    }
    if (this.waiters.length >= this.options.maxWaiting) {
      this.queued.push(run);
      return Promise.reject(new CapacityError(this.options.maxLiveRuns, RETRY_AFTER_SECONDS));
    }
    run.starting = new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        run,
        busy: options.busy,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.removeWaiter(waiter);
          // Still this session's run: it starts when a slot frees, or with the next message.
          this.queued.push(run);
          reject(new CapacityError(this.options.maxLiveRuns, RETRY_AFTER_SECONDS));
          this.serveWaiters();
        }, options.waitMs ?? this.options.queueWaitMs),
      };
      this.waiters.push(waiter);
      this.scheduleRecheck();
    }).finally(() => {
      run.starting = undefined;
    });
    return run.starting;
  }

  /** Marks a run mid-turn (holds its slot) or idle (gives it up once it has been idle a while). */
  setBusy(runId: string | null | undefined, busy: boolean) {
    const run = this.get(runId);
    if (!run) return;
    run.lastActivityAt = Date.now();
    if (run.busy === busy) return;
    run.busy = busy;
    if (!busy) {
      run.evictableAt = Date.now() + IDLE_BEFORE_EVICTION_MS;
      this.scheduleRecheck();
    }
  }

  /** Ends a run at once, as a cancel on Trigger.dev ends the run's process: the thread is the run. */
  cancel(runId: string | null | undefined, reason: string) {
    const run = this.get(runId);
    if (!run || (run.status !== "EXECUTING" && run.status !== "QUEUED")) return;
    this.options.log(`run ${run.id} canceled: ${reason}`);
    this.stop(run, { handOutSlots: true });
  }

  async close() {
    this.closed = true;
    clearTimeout(this.recheckTimer);
    for (const waiter of this.waiters.splice(0)) {
      clearTimeout(waiter.timer);
      waiter.reject(new Error("The local engine is shutting down"));
    }
    for (const run of this.runs.values()) {
      clearTimeout(run.retryTimer);
      if (run.status === "EXECUTING" || run.status === "QUEUED") run.status = "CANCELED";
    }
    await this.pool.close();
  }

  private get pool() {
    return this.options.pool;
  }

  /** Frees a slot if one can be had now: below the cap, or by ending the idle run that has been idle longest. */
  private makeRoom(): boolean {
    if (this.executing.size < this.options.maxLiveRuns) return true;
    const now = Date.now();
    let victim: Run | undefined;
    for (const run of this.executing) {
      if (run.busy || run.evictableAt > now) continue;
      if (!victim || run.lastActivityAt < victim.lastActivityAt) victim = run;
    }
    if (!victim) return false;
    this.options.log(
      `run ${victim.id} ended to make room for another chat; its next message continues it in a new run`,
    );
    // The caller is handing out this slot, and must not be re-entered to hand it out twice.
    this.stop(victim, { handOutSlots: false });
    return this.executing.size < this.options.maxLiveRuns;
  }

  private begin(run: Run, busy: boolean) {
    run.status = "EXECUTING";
    run.busy = busy;
    run.lastActivityAt = Date.now();
    run.startedAt = Date.now();
    this.executing.add(run);
    this.startAttempt(run);
    const purpose = run.sessionId ? `for ${run.sessionId}` : `of task ${run.taskId}`;
    this.options.log(`run ${run.id} started ${purpose}${run.payload.continuation ? " (continuation)" : ""}`);
  }

  /** Runs the run's current attempt on a worker of its own, as each attempt gets a fresh process on Trigger.dev. */
  private startAttempt(run: Run) {
    const worker = this.pool.take();
    run.worker = worker;
    worker.assign(
      { runId: run.id, taskId: run.taskId, payload: run.payload, attempt: run.attempt, ...run.assignment },
      {
        onCall: (call) => {
          if (run.status !== "EXECUTING") throw new Error(`run ${run.id} has ended`);
          return this.options.onEngineCall(run, call);
        },
        onExit: (exit) => this.onWorkerExit(run, exit),
        onLog: (level, line) => this.options.log(`run ${run.id} ${level}: ${line}`, level),
        onSuspend: () => this.onSuspend(run),
      },
    );
  }

  /** Cancels a run and ends its thread (or its pending boot). */
  private stop(run: Run, options: { handOutSlots: boolean }) {
    clearTimeout(run.retryTimer);
    run.retryTimer = undefined;
    if (options.handOutSlots) this.finish(run, "CANCELED");
    else this.end(run, "CANCELED");
    if (run.worker) this.pool.release(run.worker);
  }

  /**
   * The agent's idle timeout passed and it suspends, where Trigger.dev would
   * checkpoint the run and free its machine. A thread cannot be checkpointed,
   * so it ends: an idle chat holds no thread, and its next message continues
   * it in a new run from its snapshot. A run a message has just reached is
   * busy, and wakes in place instead.
   */
  private onSuspend(run: Run) {
    if (run.status !== "EXECUTING" || run.busy) return;
    this.options.log(`run ${run.id} suspended while idle; its thread ends, and the next message continues the chat`);
    this.finish(run, "COMPLETED");
    if (run.worker) this.pool.release(run.worker);
  }

  private onWorkerExit(run: Run, exit: WorkerExit) {
    run.exit = exit;
    if (exit.error) run.error = exit.error;
    if (exit.status === "FAILED" && exit.error) {
      this.options.log(`run ${run.id} attempt ${run.attempt} failed: ${exit.error}`, "warn");
    }
    if (exit.status === "FAILED" && exit.retryInMs !== undefined && !this.closed && run.status === "EXECUTING") {
      // Trigger.dev retries the run after the backoff its task's `retry` config gives; the run keeps its slot.
      const delay = Math.max(0, exit.retryInMs);
      this.options.log(`run ${run.id} retries in ${delay} ms as attempt ${run.attempt + 1}`);
      run.worker = undefined;
      run.retryTimer = setTimeout(() => {
        run.retryTimer = undefined;
        if (run.status !== "EXECUTING" || this.closed) return;
        run.attempt++;
        this.startAttempt(run);
      }, delay);
      return;
    }
    if (exit.status === "FAILED") run.failure = exit.crashed ? "crash" : "error";
    this.finish(run, this.closed ? "CANCELED" : exit.status);
  }

  private finish(run: Run, status: Exclude<RunStatus, "EXECUTING" | "QUEUED">) {
    if (this.end(run, status)) this.serveWaiters();
  }

  /** Records that a run ended and tells the session layer; returns false if it had already ended. */
  private end(run: Run, status: Exclude<RunStatus, "EXECUTING" | "QUEUED">): boolean {
    if (run.status !== "EXECUTING" && run.status !== "QUEUED") return false;
    this.executing.delete(run);
    this.unqueue(run);
    const waiter = this.waiters.find((candidate) => candidate.run === run);
    if (waiter) {
      this.removeWaiter(waiter);
      waiter.reject(new Error(`run ${run.id} was canceled`));
    }
    run.status = status;
    run.finishedAt = Date.now();
    this.options.log(`run ${run.id} ${status.toLowerCase()}`);
    this.forgetEndedRuns();
    this.options.onRunEnded(run);
    return true;
  }

  /** Ended runs are kept for status lookups, up to a bound. */
  private forgetEndedRuns() {
    let excess = this.runs.size - this.executing.size - this.queued.length - ENDED_RUNS_KEPT;
    for (const [id, run] of this.runs) {
      if (excess <= 0) break;
      if (run.status === "EXECUTING" || run.status === "QUEUED") continue;
      this.runs.delete(id);
      excess--;
    }
  }

  /** Hands free slots to waiting runs first, then to queued ones, and re-checks when an idle run becomes evictable. */
  private serveWaiters() {
    if (this.serving || this.closed) return;
    this.serving = true;
    try {
      while (this.waiters.length > 0 && this.makeRoom()) {
        const waiter = this.waiters.shift()!;
        clearTimeout(waiter.timer);
        this.unqueue(waiter.run);
        this.begin(waiter.run, waiter.busy);
        waiter.resolve();
      }
      while (this.waiters.length === 0 && this.queued.length > 0 && this.executing.size < this.options.maxLiveRuns) {
        const run = this.queued.shift()!;
        this.begin(run, run.busy);
      }
    } finally {
      this.serving = false;
    }
    this.scheduleRecheck();
  }

  private scheduleRecheck() {
    clearTimeout(this.recheckTimer);
    if (this.waiters.length === 0 || this.closed) return;
    let next = Number.POSITIVE_INFINITY;
    for (const run of this.executing) {
      if (!run.busy) next = Math.min(next, run.evictableAt);
    }
    if (next === Number.POSITIVE_INFINITY) return;
    this.recheckTimer = setTimeout(() => this.serveWaiters(), Math.max(0, next - Date.now()) + 5);
    this.recheckTimer.unref();
  }

  private unqueue(run: Run) {
    const index = this.queued.indexOf(run);
    if (index !== -1) this.queued.splice(index, 1);
  }

  private removeWaiter(waiter: Waiter) {
    clearTimeout(waiter.timer);
    const index = this.waiters.indexOf(waiter);
    if (index !== -1) this.waiters.splice(index, 1);
  }
}
