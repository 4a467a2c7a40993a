import fs from "node:fs";
import path from "node:path";
import type { DeserializedJson } from "@trigger.dev/core";
import {
  applyMetadataOperations,
  type FlushedRunMetadata,
  type BatchTaskRunExecutionResult,
  type TaskRunError,
  type TaskRunExecutionResult,
} from "@trigger.dev/core/v3";
import { z } from "zod";
import type { EngineLog } from "../http/router.server";
import { randomId } from "../storage/data-folder.server";
import { writeFileAtomic } from "../storage/atomic-file.server";
import type { IOPacket, WaitCall } from "../worker/protocol.server";
import type { Run, RunManager } from "./run-manager.server";
import type { Waitpoints } from "./waitpoints.server";

/** The statuses the API reports (`RunStatus` in the SDK's schemas) that the engine can be in. */
export type ApiRunStatus = "QUEUED" | "EXECUTING" | "WAITING" | "COMPLETED" | "FAILED" | "CANCELED" | "CRASHED";
const FINAL = new Set<ApiRunStatus>(["COMPLETED", "FAILED", "CANCELED", "CRASHED"]);
export const isFinal = (status: ApiRunStatus) => FINAL.has(status);

type Metadata = Record<string, DeserializedJson>;

const TaskRunRecordSchema = z.object({
  id: z.string(),
  taskIdentifier: z.string(),
  status: z.enum(["QUEUED", "EXECUTING", "WAITING", "COMPLETED", "FAILED", "CANCELED", "CRASHED"]),
  payload: z.object({ data: z.string().optional(), dataType: z.string() }),
  output: z.object({ data: z.string().optional(), dataType: z.string() }).optional(),
  error: z.custom<TaskRunError>((value) => typeof value === "object" && value !== null).optional(),
  metadata: z.record(
    z.string(),
    z.custom<DeserializedJson>(() => true),
  ),
  tags: z.array(z.string()),
  idempotencyKey: z.string().optional(),
  isTest: z.boolean(),
  createdAt: z.string(),
  updatedAt: z.string(),
  startedAt: z.string().optional(),
  finishedAt: z.string().optional(),
  parentRunId: z.string().optional(),
  rootRunId: z.string().optional(),
  depth: z.number(),
  resumeParentOnCompletion: z.boolean(),
  attemptCount: z.number(),
  batchId: z.string().optional(),
});

/** A run started with `tasks.trigger` (or `triggerAndWait`), as the API reports it. */
export type TaskRunRecord = z.infer<typeof TaskRunRecordSchema>;

/** What `trigger` needs, already validated by the route. */
export type TriggerRequest = {
  taskIdentifier: string;
  payload: IOPacket;
  metadata: Metadata;
  tags: string[];
  isTest: boolean;
  idempotencyKey?: string;
  idempotencyKeyExpiresAt?: number;
  parentRunId?: string;
  resumeParentOnCompletion: boolean;
  batchId?: string;
};

/** A batch (`batchTrigger`, `batchTriggerAndWait`): created first, then its items arrive, each with its index. */
export type Batch = {
  id: string;
  runCount: number;
  parentRunId?: string;
  resumeParentOnCompletion: boolean;
  idempotencyKey?: string;
  /** The run of each item, by index, once it has arrived. */
  runIds: (string | undefined)[];
  createdAt: string;
  updatedAt: string;
};

/** Finished runs kept (in memory and on disk); the oldest are forgotten past this. */
const FINISHED_RUNS_KEPT = 1_000;
/** Metadata a run may hold, as Trigger.dev's default limit. */
export const METADATA_MAX_BYTES = 256 * 1024;
const CRASHED_BY_RESTART = "The local engine stopped while this run was under way";

/** A failure the route turns into its status. */
export class RunApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Runs triggered through the API: their records, their parents and children,
 * idempotency keys, metadata, and the waits of runs on other runs. A run
 * executes in a worker thread like a chat run (one `RunManager` for both);
 * its record is written to `runs/<id>.json` when it is triggered and when it
 * ends, so its final state survives a restart. A run that was under way when
 * the engine stopped is reported CRASHED after the restart: the engine does
 * not retry it.
 */
export class TaskRuns {
  private readonly records = new Map<string, TaskRunRecord>();
  private readonly idempotency = new Map<string, { runId: string; expiresAt: number }>();
  private readonly waiters = new Map<string, ((result: TaskRunExecutionResult) => void)[]>();
  /** Runs (task or session) waiting on a child or a token, and how many waits each has. */
  private readonly waiting = new Map<string, number>();
  /** Metadata of session runs, which have no record: kept while the engine runs. */
  private readonly sessionRunMetadata = new Map<string, Metadata>();
  /** Batches, in memory: a restart forgets them, though their runs' records stay. */
  private readonly batches = new Map<string, Batch>();
  private readonly batchIdempotency = new Map<string, string>();
  private readonly dir: string;

  constructor(private readonly options: { dataDir: string; runs: RunManager; waitpoints: Waitpoints; log: EngineLog }) {
    this.dir = path.join(options.dataDir, "runs");
    fs.mkdirSync(this.dir, { recursive: true });
    this.load();
  }

  get(id: string) {
    return this.records.get(id);
  }

  /** A session's run: not triggered through the API, but its id is a run id the SDK may be handed. */
  sessionRun(id: string): Run | undefined {
    const run = this.options.runs.get(id);
    return run && !this.records.has(id) ? run : undefined;
  }

  /** The live status of a record: a run under way is QUEUED, EXECUTING, or WAITING on a child or token. */
  statusOf(record: TaskRunRecord): ApiRunStatus {
    if (isFinal(record.status)) return record.status;
    const run = this.options.runs.get(record.id);
    if (run?.status === "EXECUTING") return this.waiting.has(record.id) ? "WAITING" : "EXECUTING";
    return "QUEUED";
  }

  /** Attempts so far: a run under way may be on a retry. */
  attemptsOf(record: TaskRunRecord) {
    if (isFinal(record.status)) return record.attemptCount;
    const run = this.options.runs.get(record.id);
    return run?.startedAt ? run.attempt : 0;
  }

  isWaiting(runId: string) {
    return this.waiting.has(runId);
  }

  trigger(request: TriggerRequest): { record: TaskRunRecord; isCached: boolean } {
    const idempotencyKey = request.idempotencyKey
      ? `${request.taskIdentifier}\u0000${request.idempotencyKey}`
      : undefined;
    if (idempotencyKey) {
      const cached = this.idempotency.get(idempotencyKey);
      const record = cached && cached.expiresAt > Date.now() ? this.records.get(cached.runId) : undefined;
      // As Trigger.dev: a run under way, completed or canceled is returned again; a failed one releases its key.
      if (record && !["FAILED", "CRASHED"].includes(record.status)) return { record, isCached: true };
    }
    let depth = 0;
    let rootRunId: string | undefined;
    if (request.parentRunId) {
      const parent = this.records.get(request.parentRunId);
      const parentRun = this.options.runs.get(request.parentRunId);
      if (!parent && !parentRun) throw new RunApiError(400, `Parent run "${request.parentRunId}" not found`);
      depth = (parent?.depth ?? 0) + 1;
      rootRunId = parent?.rootRunId ?? request.parentRunId;
    }
    const run = this.options.runs.create(
      "",
      request.taskIdentifier,
      {},
      {
        // A task run works from start to end, so it never gives its slot up to a chat.
        busy: true,
        assignment: {
          payloadPacket: request.payload,
          triggered: {
            metadata: request.metadata,
            tags: request.tags,
            isTest: request.isTest,
            createdAt: new Date().toISOString(),
            parentRunId: request.parentRunId,
            rootRunId,
          },
        },
      },
    );
    const now = new Date(run.createdAt).toISOString();
    const record: TaskRunRecord = {
      id: run.id,
      taskIdentifier: request.taskIdentifier,
      status: "QUEUED",
      payload: request.payload,
      metadata: request.metadata,
      tags: request.tags,
      idempotencyKey: request.idempotencyKey,
      isTest: request.isTest,
      createdAt: now,
      updatedAt: now,
      parentRunId: request.parentRunId,
      rootRunId,
      depth,
      resumeParentOnCompletion: request.resumeParentOnCompletion,
      attemptCount: 0,
      batchId: request.batchId,
    };
    this.records.set(record.id, record);
    if (idempotencyKey) {
      this.idempotency.set(idempotencyKey, {
        runId: record.id,
        expiresAt: request.idempotencyKeyExpiresAt ?? Number.POSITIVE_INFINITY,
      });
    }
    this.persist(record);
    // Every slot taken: it waits for one like new chat work, and stays QUEUED until a slot frees if that wait ends.
    if (run.status === "QUEUED") this.options.runs.execute(run, { busy: true }).catch(() => {});
    return { record, isCached: false };
  }

  batch(id: string) {
    return this.batches.get(id);
  }

  createBatch(options: {
    runCount: number;
    parentRunId?: string;
    resumeParentOnCompletion: boolean;
    idempotencyKey?: string;
  }): { batch: Batch; isCached: boolean } {
    const cached = options.idempotencyKey
      ? this.batches.get(this.batchIdempotency.get(options.idempotencyKey) ?? "")
      : undefined;
    if (cached) return { batch: cached, isCached: true };
    if (options.parentRunId && !this.records.has(options.parentRunId) && !this.options.runs.get(options.parentRunId)) {
      throw new RunApiError(400, `Parent run "${options.parentRunId}" not found`);
    }
    const now = new Date().toISOString();
    const batch: Batch = {
      id: `batch_${randomId()}`,
      runCount: options.runCount,
      parentRunId: options.parentRunId,
      resumeParentOnCompletion: options.resumeParentOnCompletion,
      idempotencyKey: options.idempotencyKey,
      runIds: Array.from({ length: options.runCount }, () => undefined),
      createdAt: now,
      updatedAt: now,
    };
    this.batches.set(batch.id, batch);
    if (options.idempotencyKey) this.batchIdempotency.set(options.idempotencyKey, batch.id);
    return { batch, isCached: false };
  }

  /** Triggers one item of a batch; an index that already has its run is deduplicated, as on Trigger.dev. */
  addBatchItem(batch: Batch, index: number, request: Omit<TriggerRequest, "parentRunId" | "resumeParentOnCompletion">) {
    if (index >= batch.runCount) {
      throw new RunApiError(400, `Item index ${index} is past the batch's ${batch.runCount} items`);
    }
    if (batch.runIds[index]) return "deduplicated" as const;
    const { record } = this.trigger({
      ...request,
      parentRunId: batch.parentRunId,
      resumeParentOnCompletion: batch.resumeParentOnCompletion,
      batchId: batch.id,
    });
    batch.runIds[index] = record.id;
    batch.updatedAt = new Date().toISOString();
    return "accepted" as const;
  }

  /** Cancels a run (its children follow, see `onRunEnded`). Returns false for an unknown run. */
  cancel(id: string): boolean {
    const record = this.records.get(id);
    if (!record && !this.sessionRun(id)) return false;
    if (!record || !isFinal(record.status)) this.options.runs.cancel(id, "canceled through the API");
    return true;
  }

  /** Called when any run ends; a task run's record takes its final state, and whoever waits on it is answered. */
  readonly onRunEnded = (run: Run) => {
    if (this.waiting.delete(run.id)) this.options.waitpoints.forgetRun(run.id);
    // A chat run's metadata stays readable as long as the run manager keeps the run.
    for (const id of this.sessionRunMetadata.keys()) if (!this.options.runs.get(id)) this.sessionRunMetadata.delete(id);
    // As on Trigger.dev, a canceled run's children still under way are canceled too (a closed chat's included).
    if (run.status === "CANCELED") {
      for (const child of this.records.values()) {
        if (child.parentRunId === run.id && !isFinal(child.status))
          this.options.runs.cancel(child.id, "its parent was canceled");
      }
    }
    const record = this.records.get(run.id);
    if (!record) return;
    const exit = run.exit;
    const status: ApiRunStatus =
      run.status === "COMPLETED"
        ? "COMPLETED"
        : run.status === "CANCELED"
          ? "CANCELED"
          : exit?.taskError
            ? "FAILED"
            : "CRASHED";
    record.status = status;
    record.startedAt = run.startedAt ? new Date(run.startedAt).toISOString() : undefined;
    record.finishedAt = new Date(run.finishedAt ?? Date.now()).toISOString();
    record.updatedAt = record.finishedAt;
    record.attemptCount = run.startedAt ? run.attempt : 0;
    if (status === "COMPLETED") record.output = exit?.output ?? { dataType: "application/json" };
    else if (status === "FAILED") record.error = exit!.taskError;
    else if (status === "CANCELED") record.error = { type: "STRING_ERROR", raw: "The run was canceled" };
    else record.error = crashError(run.error ?? "The run's worker ended unexpectedly");
    this.persist(record);
    this.prune();
    for (const resolve of this.waiters.get(record.id) ?? []) resolve(executionResult(record));
    this.waiters.delete(record.id);
  };

  /** A run's call to wait for a child run, a batch or a token; answered when that settles. */
  serveWaitCall(run: Run, call: WaitCall): Promise<unknown> {
    const wait: Promise<unknown> =
      call.op === "wait-run"
        ? this.waitForRun(call.runId)
        : call.op === "wait-batch"
          ? this.waitForBatch(call.batchId)
          : this.options.waitpoints.wait(call.waitpointId, run.id);
    this.waiting.set(run.id, (this.waiting.get(run.id) ?? 0) + 1);
    return wait.finally(() => {
      const count = (this.waiting.get(run.id) ?? 1) - 1;
      if (count > 0) this.waiting.set(run.id, count);
      else this.waiting.delete(run.id);
    });
  }

  /** Every item's result, in the items' order, once every run of the batch has ended. */
  private async waitForBatch(batchId: string): Promise<BatchTaskRunExecutionResult> {
    const batch = this.batches.get(batchId);
    if (!batch) throw new Error(`Batch "${batchId}" not found`);
    const missing = batch.runIds.findIndex((id) => id === undefined);
    if (missing !== -1) throw new Error(`Batch "${batchId}" is missing item ${missing}; it was never sealed`);
    return { id: batch.id, items: await Promise.all(batch.runIds.map((id) => this.waitForRun(id!))) };
  }

  private waitForRun(childId: string): Promise<TaskRunExecutionResult> {
    const child = this.records.get(childId);
    if (!child) return Promise.reject(new Error(`Run "${childId}" not found`));
    if (isFinal(child.status)) return Promise.resolve(executionResult(child));
    return new Promise((resolve) => {
      const list = this.waiters.get(childId) ?? [];
      list.push(resolve);
      this.waiters.set(childId, list);
    });
  }

  metadataOf(id: string): Metadata | undefined {
    const record = this.records.get(id);
    if (record) return record.metadata;
    return this.sessionRun(id) ? (this.sessionRunMetadata.get(id) ?? {}) : undefined;
  }

  /**
   * `PUT /api/v1/runs/:id/metadata`: replaces and/or changes a run's metadata,
   * and its parent's and root's. A run that has ended keeps what it has.
   */
  updateMetadata(id: string, body: FlushedRunMetadata): Metadata {
    const record = this.records.get(id);
    const current = this.metadataOf(id);
    if (current === undefined) throw new RunApiError(404, `Run "${id}" not found`);
    if (record && isFinal(record.status)) {
      throw new RunApiError(400, `Run "${id}" has ended; its metadata can no longer change`);
    }
    const changes: [string, Metadata][] = [];
    let own = body.metadata ?? current;
    if (body.operations?.length) own = applyMetadataOperations(own, body.operations).newMetadata as Metadata;
    changes.push([id, own]);
    const relatives: [string | undefined, FlushedRunMetadata["operations"]][] = [
      [record?.parentRunId, body.parentOperations],
      [record?.rootRunId, body.rootOperations],
    ];
    for (const [relativeId, operations] of relatives) {
      if (!relativeId || !operations?.length) continue;
      const base = changes.findLast(([changed]) => changed === relativeId)?.[1] ?? this.metadataOf(relativeId);
      if (base === undefined) continue;
      changes.push([relativeId, applyMetadataOperations(base, operations).newMetadata as Metadata]);
    }
    for (const [changedId, metadata] of changes) {
      const bytes = Buffer.byteLength(JSON.stringify(metadata));
      if (bytes > METADATA_MAX_BYTES) {
        throw new RunApiError(413, `Metadata of run "${changedId}" would be ${bytes} bytes, over the 256 KiB limit`);
      }
    }
    for (const [changedId, metadata] of changes) this.setMetadata(changedId, metadata);
    return own;
  }

  private setMetadata(id: string, metadata: Metadata) {
    const record = this.records.get(id);
    if (!record) {
      this.sessionRunMetadata.set(id, metadata);
      return;
    }
    record.metadata = metadata;
    record.updatedAt = new Date().toISOString();
  }

  childrenOf(id: string) {
    return [...this.records.values()].filter((record) => record.parentRunId === id);
  }

  private persist(record: TaskRunRecord) {
    try {
      writeFileAtomic(this.fileOf(record.id), JSON.stringify(record));
    } catch (error) {
      // The run goes on; only a restart would not know it.
      this.options.log(`could not save run ${record.id}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private fileOf(id: string) {
    return path.join(this.dir, `${id}.json`);
  }

  private load() {
    for (const name of fs.readdirSync(this.dir)) {
      if (!name.endsWith(".json")) continue;
      const file = path.join(this.dir, name);
      let record: TaskRunRecord;
      try {
        record = TaskRunRecordSchema.parse(JSON.parse(fs.readFileSync(file, "utf8")));
      } catch {
        this.options.log(`run record ${name} is damaged; skipping it`);
        continue;
      }
      if (!isFinal(record.status)) {
        record.status = "CRASHED";
        record.error = crashError(CRASHED_BY_RESTART);
        record.finishedAt = record.updatedAt = new Date().toISOString();
        this.persist(record);
      }
      this.records.set(record.id, record);
    }
    this.prune();
  }

  /** Forgets the oldest finished runs past the bound, on disk too. */
  private prune() {
    const finished = [...this.records.values()].filter((record) => isFinal(record.status));
    if (finished.length <= FINISHED_RUNS_KEPT) return;
    finished.sort((a, b) => (a.finishedAt ?? "").localeCompare(b.finishedAt ?? ""));
    for (const record of finished.slice(0, finished.length - FINISHED_RUNS_KEPT)) {
      this.records.delete(record.id);
      fs.rmSync(this.fileOf(record.id), { force: true });
    }
  }
}

const crashError = (message: string): TaskRunError => ({
  type: "INTERNAL_ERROR",
  code: "TASK_RUN_CRASHED",
  message,
});

/** What a parent's `triggerAndWait` receives, as Trigger.dev's runtime builds it from the child's waitpoint. */
function executionResult(record: TaskRunRecord): TaskRunExecutionResult {
  if (record.status === "COMPLETED") {
    return {
      ok: true,
      id: record.id,
      output: record.output?.data,
      outputType: record.output?.dataType ?? "application/json",
      taskIdentifier: record.taskIdentifier,
    };
  }
  const error: TaskRunError =
    record.status === "CANCELED"
      ? { type: "INTERNAL_ERROR", code: "TASK_RUN_CANCELLED", message: "The run was canceled" }
      : (record.error ?? crashError("The run ended without a result"));
  return { ok: false, id: record.id, error, taskIdentifier: record.taskIdentifier };
}
