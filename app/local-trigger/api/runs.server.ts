import type { DeserializedJson } from "@trigger.dev/core";
import {
  BatchItemNDJSON,
  CreateBatchRequestBody,
  createJsonErrorObject,
  parsePacket,
  TriggerTaskRequestBody,
  UpdateMetadataRequestBody,
} from "@trigger.dev/core/v3";
import { parseNaturalLanguageDurationInMs } from "@trigger.dev/core/v3/isomorphic";
import { generateJWT } from "@trigger.dev/core/v3/jwt";
import { nestingDepth, readBody, readJson } from "../http/body.server";
import { badRequest, forbidden, HttpError, json, NO_RETRY } from "../http/errors.server";
import type { Route, RouteContext } from "../http/router.server";
import { BODY_LIMITS, MAX_JSON_DEPTH } from "../limits.server";
import type { Run } from "../runs/run-manager.server";
import { type ApiRunStatus, isFinal, RunApiError, type TaskRunRecord } from "../runs/task-runs.server";
import type { IOPacket } from "../worker/protocol.server";
import { can, type Caller } from "./auth.server";
import { ENVIRONMENT_ID, type EngineContext } from "./context.server";

const ID = "([^/]+)";
/** How long an idempotency key holds when the trigger names no TTL, as on Trigger.dev. */
const DEFAULT_IDEMPOTENCY_TTL_MS = 30 * 24 * 60 * 60 * 1000;

/**
 * The run-level API: `tasks.trigger` (from a backend or inside a run, where
 * `triggerAndWait` sends `resumeParentOnCompletion`), `runs.retrieve`,
 * `runs.cancel`, and the metadata a run flushes. Who may do what follows the
 * SDK's reference: the secret key does everything; a public token may trigger
 * with `trigger:tasks:<id>` (once, if it is a one-time trigger token), and
 * retrieve with `read:runs:<id>`, `read:tasks:<id>`, `read:tags:<tag>`.
 */
export function runRoutes(engine: EngineContext): Route[] {
  const { taskRuns, auth } = engine;
  /** One-time trigger tokens already spent. In memory: a restart lets a token still unexpired be used once more. */
  const spentTokens = new Set<string>();

  async function trigger({ request, params }: RouteContext) {
    const taskId = params[0]!;
    const caller = await auth.caller(request);
    if (!mayTrigger(caller, taskId)) throw forbidden();
    const body = await readJson(request, TriggerTaskRequestBody, BODY_LIMITS.trigger);
    const options = body.options ?? {};
    await requireTasks([taskId]);
    const triggerRequest = triggerRequestOf(taskId, body.payload, options);
    spendOneTimeToken(caller);
    const { record, isCached } = runOrThrow(() =>
      taskRuns.trigger({
        ...triggerRequest,
        parentRunId: options.parentRunId,
        resumeParentOnCompletion: options.resumeParentOnCompletion ?? false,
      }),
    );
    const claims = { sub: ENVIRONMENT_ID, pub: true, scopes: [`read:runs:${record.id}`] };
    const jwt = await generateJWT({ secretKey: engine.secretKey, payload: claims, expirationTime: "1h" });
    return json(
      200,
      { id: record.id, isCached },
      { "x-trigger-jwt-claims": JSON.stringify(claims), "x-trigger-jwt": jwt },
    );
  }

  async function requireTasks(ids: string[]) {
    const taskIds = await engine.pool.taskIds.catch((error: Error) => {
      throw new HttpError(500, { error: error.message });
    });
    const unknown = ids.filter((id) => !taskIds.includes(id));
    if (unknown.length > 0) {
      throw new HttpError(
        404,
        { error: `Task "${unknown[0]}" not found (known tasks: ${taskIds.join(", ")})` },
        NO_RETRY,
      );
    }
  }

  function spendOneTimeToken(caller: Caller) {
    if (caller.kind !== "public-token" || !caller.oneTimeUse) return;
    if (spentTokens.has(caller.oneTimeUse)) {
      throw new HttpError(422, { error: "This one-time use token has already been used to trigger a run" }, NO_RETRY);
    }
    spentTokens.add(caller.oneTimeUse);
  }

  /** `batchTrigger` and `batchTriggerAndWait`, phase one: the batch, with its size and its parent. */
  async function createBatch({ request }: RouteContext) {
    const caller = await auth.caller(request);
    const body = await readJson(request, CreateBatchRequestBody, BODY_LIMITS.createBatch);
    if (!mayBatchTrigger(caller, body.taskIdentifiers)) throw forbidden();
    if (body.taskIdentifiers) await requireTasks(body.taskIdentifiers);
    spendOneTimeToken(caller);
    const { batch, isCached } = runOrThrow(() =>
      taskRuns.createBatch({
        runCount: body.runCount,
        parentRunId: body.parentRunId,
        resumeParentOnCompletion: body.resumeParentOnCompletion ?? false,
        idempotencyKey: body.idempotencyKey,
      }),
    );
    const claims = { sub: ENVIRONMENT_ID, pub: true, scopes: [`read:batch:${batch.id}`] };
    const jwt = await generateJWT({ secretKey: engine.secretKey, payload: claims, expirationTime: "1h" });
    return json(
      200,
      { id: batch.id, runCount: batch.runCount, isCached, idempotencyKey: batch.idempotencyKey },
      { "x-trigger-jwt-claims": JSON.stringify(claims), "x-trigger-jwt": jwt },
    );
  }

  /** Phase two: the items, one JSON object a line, each triggered as it is read; the batch is sealed when all have come. */
  async function addBatchItems({ request, params }: RouteContext) {
    const caller = await auth.caller(request);
    const batch = taskRuns.batch(params[0]!);
    const text = await readBody(request, BODY_LIMITS.batchItems);
    const items = text
      .split("\n")
      .map((line, number) => ({ line, number: number + 1 }))
      .filter(({ line }) => line.trim() !== "")
      .map(({ line, number }) => {
        let value: unknown;
        try {
          value = JSON.parse(line);
        } catch {
          throw badRequest(`Line ${number} of the batch is not valid JSON`);
        }
        if (nestingDepth(value) > MAX_JSON_DEPTH) {
          throw badRequest(`Line ${number} of the batch is nested more than ${MAX_JSON_DEPTH} levels deep`);
        }
        const parsed = BatchItemNDJSON.safeParse(value);
        if (!parsed.success) {
          const issues = parsed.error.issues.map((issue) => `${issue.path.join(".") || "item"}: ${issue.message}`);
          throw badRequest(`Line ${number} of the batch is not a batch item: ${issues.join("; ")}`);
        }
        return parsed.data;
      });
    if (!mayBatchTrigger(caller, [...new Set(items.map((item) => item.task))])) throw forbidden();
    if (!batch) throw new HttpError(404, { error: `Batch "${params[0]}" not found` });
    await requireTasks([...new Set(items.map((item) => item.task))]);
    const outside = items.find((item) => item.index >= batch.runCount);
    if (outside) throw badRequest(`Item index ${outside.index} is past the batch's ${batch.runCount} items`);
    // Every item is checked before any is triggered, so a bad one leaves the batch as it was.
    const requests = items.map((item) => ({
      index: item.index,
      request: triggerRequestOf(item.task, item.payload, item.options ?? {}),
    }));
    let itemsAccepted = 0;
    let itemsDeduplicated = 0;
    for (const { index, request: itemRequest } of requests) {
      const outcome = runOrThrow(() => taskRuns.addBatchItem(batch, index, itemRequest));
      if (outcome === "accepted") itemsAccepted++;
      else itemsDeduplicated++;
    }
    const enqueuedCount = batch.runIds.filter(Boolean).length;
    const sealed = enqueuedCount === batch.runCount;
    return json(200, {
      id: batch.id,
      itemsAccepted,
      itemsDeduplicated,
      sealed,
      ...(sealed ? {} : { enqueuedCount, expectedCount: batch.runCount }),
    });
  }

  async function retrieveBatch({ request, params }: RouteContext) {
    const caller = await auth.caller(request);
    if (!can(caller, "read", [{ type: "batch", id: params[0] }])) throw forbidden();
    const batch = taskRuns.batch(params[0]!);
    if (!batch) throw new HttpError(404, { error: `Batch "${params[0]}" not found` });
    const runIds = batch.runIds.filter((id): id is string => !!id);
    const sealed = runIds.length === batch.runCount;
    return json(200, {
      id: batch.id,
      status: sealed ? "COMPLETED" : runIds.length > 0 ? "PROCESSING" : "PENDING",
      idempotencyKey: batch.idempotencyKey,
      createdAt: batch.createdAt,
      updatedAt: batch.updatedAt,
      runCount: batch.runCount,
      runs: runIds,
      processing: { completedAt: sealed ? batch.updatedAt : undefined, errors: [] },
    });
  }

  async function retrieve({ request, params }: RouteContext) {
    const id = params[0]!;
    const caller = await auth.caller(request);
    const record = taskRuns.get(id);
    const sessionRun = record ? undefined : taskRuns.sessionRun(id);
    const resources = [
      { type: "runs", id },
      ...(record || sessionRun ? [{ type: "tasks", id: record?.taskIdentifier ?? sessionRun!.taskId }] : []),
      ...(record?.tags ?? []).map((tag) => ({ type: "tags", id: tag })),
      ...(record?.batchId ? [{ type: "batch", id: record.batchId }] : []),
    ];
    if (!can(caller, "read", resources)) throw forbidden();
    if (record) return json(200, await serializeRecord(record));
    if (sessionRun) return json(200, await serializeSessionRun(sessionRun));
    throw new HttpError(404, { error: `Run "${id}" not found` });
  }

  async function cancel({ request, params }: RouteContext) {
    await auth.requireSecretKey(request);
    const id = params[0]!;
    if (!taskRuns.cancel(id)) throw new HttpError(404, { error: `Run "${id}" not found` });
    return json(200, { id });
  }

  async function getMetadata({ request, params }: RouteContext) {
    await auth.requireSecretKey(request);
    const metadata = taskRuns.metadataOf(params[0]!);
    if (!metadata) throw new HttpError(404, { error: `Run "${params[0]}" not found` });
    return json(200, { metadata });
  }

  async function putMetadata({ request, params }: RouteContext) {
    await auth.requireSecretKey(request);
    const body = await readJson(request, UpdateMetadataRequestBody, BODY_LIMITS.metadata);
    return json(200, { metadata: runOrThrow(() => taskRuns.updateMetadata(params[0]!, body)) });
  }

  function common(record: TaskRunRecord, status: ApiRunStatus) {
    const started = record.startedAt ? Date.parse(record.startedAt) : undefined;
    const finished = record.finishedAt ? Date.parse(record.finishedAt) : undefined;
    return {
      id: record.id,
      status,
      taskIdentifier: record.taskIdentifier,
      idempotencyKey: record.idempotencyKey,
      ...statusFlags(status),
      isTest: record.isTest,
      createdAt: record.createdAt,
      updatedAt: record.updatedAt,
      startedAt: record.startedAt,
      finishedAt: record.finishedAt,
      tags: [...record.tags].sort((a, b) => a.localeCompare(b)),
      costInCents: 0,
      baseCostInCents: 0,
      durationMs: started === undefined ? 0 : (finished ?? Date.now()) - started,
      metadata: record.metadata,
      depth: record.depth,
      triggerFunction: record.batchId
        ? record.resumeParentOnCompletion
          ? ("batchTriggerAndWait" as const)
          : ("batchTrigger" as const)
        : record.resumeParentOnCompletion
          ? ("triggerAndWait" as const)
          : ("trigger" as const),
      batchId: record.batchId,
    };
  }

  /** The parent or root of a run: a task run, or the chat run whose tool triggered it. */
  const related = (id: string | undefined) => {
    if (!id) return undefined;
    const record = taskRuns.get(id);
    if (record) return common(record, taskRuns.statusOf(record));
    const run = taskRuns.sessionRun(id);
    return run ? common(sessionRecord(run), sessionRecord(run).status) : undefined;
  };

  async function serializeRecord(record: TaskRunRecord) {
    const status = taskRuns.statusOf(record);
    return {
      ...common(record, status),
      payload: await parsePacket(record.payload),
      output: status === "COMPLETED" && record.output ? await parsePacket(record.output) : undefined,
      error: record.error ? createJsonErrorObject(record.error) : undefined,
      relatedRuns: {
        root: related(record.rootRunId),
        parent: related(record.parentRunId),
        children: taskRuns.childrenOf(record.id).map((child) => common(child, taskRuns.statusOf(child))),
      },
      attemptCount: taskRuns.attemptsOf(record),
    };
  }

  /** A chat run, seen through the run API: what the engine knows of it while it is kept. */
  function sessionRecord(run: Run): TaskRunRecord {
    const status: ApiRunStatus =
      run.status === "EXECUTING"
        ? taskRuns.isWaiting(run.id)
          ? "WAITING"
          : "EXECUTING"
        : run.status === "FAILED"
          ? "CRASHED"
          : run.status;
    const iso = (time: number | undefined) => (time === undefined ? undefined : new Date(time).toISOString());
    const record: TaskRunRecord = {
      id: run.id,
      taskIdentifier: run.taskId,
      status,
      payload: { dataType: "application/json" },
      metadata: taskRuns.metadataOf(run.id) ?? {},
      tags: [],
      isTest: false,
      createdAt: iso(run.createdAt)!,
      updatedAt: iso(run.finishedAt ?? run.lastActivityAt)!,
      startedAt: iso(run.startedAt),
      finishedAt: iso(run.finishedAt),
      depth: 0,
      resumeParentOnCompletion: false,
      attemptCount: run.startedAt ? run.attempt : 0,
    };
    return record;
  }

  async function serializeSessionRun(run: Run) {
    const record = sessionRecord(run);
    const status = record.status;
    return {
      ...common(record, status),
      payload: run.payload,
      output: status === "COMPLETED" && run.exit?.output ? await parsePacket(run.exit.output) : undefined,
      error:
        isFinal(status) && status !== "COMPLETED"
          ? // A chat run's error is a worker's stack: its first line says what happened.
            { message: run.error?.split("\n")[0] ?? `The run was ${status.toLowerCase()}` }
          : undefined,
      relatedRuns: { children: taskRuns.childrenOf(run.id).map((child) => common(child, taskRuns.statusOf(child))) },
      attemptCount: record.attemptCount,
    };
  }

  return [
    { method: "POST", pattern: new RegExp(`^/api/v1/tasks/${ID}/trigger$`), handler: trigger },
    { method: "GET", pattern: new RegExp(`^/api/v3/runs/${ID}$`), handler: retrieve },
    { method: "POST", pattern: new RegExp(`^/api/v2/runs/${ID}/cancel$`), handler: cancel },
    { method: "POST", pattern: /^\/api\/v3\/batches$/, handler: createBatch },
    { method: "POST", pattern: new RegExp(`^/api/v3/batches/${ID}/items$`), handler: addBatchItems },
    { method: "GET", pattern: new RegExp(`^/api/v2/batches/${ID}$`), handler: retrieveBatch },
    { method: "GET", pattern: new RegExp(`^/api/v1/runs/${ID}/metadata$`), handler: getMetadata },
    { method: "PUT", pattern: new RegExp(`^/api/v1/runs/${ID}/metadata$`), handler: putMetadata },
  ];
}

/** As Trigger.dev's batch routes: `batchTrigger:tasks:<id>` for every task of the batch, or the super scopes. */
function mayBatchTrigger(caller: Caller, taskIds: string[] | undefined) {
  if (caller.kind === "secret-key") return true;
  const has = (scope: string) => caller.scopes.includes(scope);
  if (["admin", "write:tasks", "batchTrigger:tasks", "batchTrigger:all"].some(has)) return true;
  return !!taskIds?.length && taskIds.every((id) => has(`batchTrigger:tasks:${id}`));
}

type TriggerOptions = {
  delay?: unknown;
  debounce?: unknown;
  payloadType?: string;
  metadata?: unknown;
  metadataType?: string;
  tags?: string | string[];
  test?: boolean;
  idempotencyKey?: string;
  idempotencyKeyTTL?: string;
};

/** What a trigger or a batch item asks for, checked; the options the engine cannot honour are refused by name. */
function triggerRequestOf(taskIdentifier: string, payload: unknown, options: TriggerOptions) {
  const unsupported = (["delay", "debounce"] as const).filter((option) => options[option] !== undefined);
  if (unsupported.length > 0) {
    throw new HttpError(422, { error: `The local engine does not support ${unsupported.join(" or ")}` }, NO_RETRY);
  }
  if (options.payloadType === "application/store") {
    throw new HttpError(
      422,
      { error: "The local engine has no object storage for offloaded payloads; keep payloads under 128 KiB" },
      NO_RETRY,
    );
  }
  const ttl = options.idempotencyKeyTTL;
  const ttlMs = ttl === undefined ? DEFAULT_IDEMPOTENCY_TTL_MS : parseNaturalLanguageDurationInMs(ttl);
  if (ttlMs === undefined) throw badRequest(`Invalid idempotencyKeyTTL "${ttl}": use a duration like "10m" or "1d"`);
  return {
    taskIdentifier,
    payload: payloadPacket(payload, options.payloadType),
    metadata: startingMetadata(options.metadata, options.metadataType),
    tags: options.tags === undefined ? [] : typeof options.tags === "string" ? [options.tags] : options.tags,
    isTest: options.test ?? false,
    idempotencyKey: options.idempotencyKey,
    idempotencyKeyExpiresAt: Date.now() + ttlMs,
  };
}

/** As Trigger.dev's trigger route: `trigger:tasks:<id>` (or every task), or the super scopes `write:tasks` and `admin`. */
function mayTrigger(caller: Caller, taskId: string) {
  if (caller.kind === "secret-key") return true;
  return caller.scopes.some((scope) =>
    ["admin", "write:tasks", "trigger:tasks", "trigger:all", `trigger:tasks:${taskId}`].includes(scope),
  );
}

export function statusFlags(status: ApiRunStatus) {
  const isCompleted = isFinal(status);
  return {
    isQueued: status === "QUEUED",
    isExecuting: status === "EXECUTING",
    isWaiting: status === "WAITING",
    isCompleted,
    isSuccess: status === "COMPLETED",
    isFailed: isCompleted && status !== "COMPLETED",
    isCancelled: status === "CANCELED",
  };
}

/** The SDK sends its payload already serialised; a raw API caller may send plain JSON, which is kept as JSON. */
function payloadPacket(payload: unknown, payloadType: string | undefined): IOPacket {
  const dataType = payloadType ?? "application/json";
  if (payload === undefined || payload === null) return { dataType };
  if (typeof payload === "string") return { data: payload, dataType };
  if (dataType !== "application/json") throw badRequest(`A ${dataType} payload must be sent as a string`);
  return { data: JSON.stringify(payload), dataType };
}

/** Starting metadata: an object, or its JSON text with `metadataType`. */
function startingMetadata(metadata: unknown, metadataType: string | undefined): Record<string, DeserializedJson> {
  let value = metadata;
  if (typeof metadata === "string") {
    if (metadataType && metadataType !== "application/json") {
      throw badRequest(`Metadata of type ${metadataType} is not supported; send JSON`);
    }
    try {
      value = JSON.parse(metadata);
    } catch {
      throw badRequest("options.metadata is not valid JSON");
    }
  }
  if (value === undefined || value === null) return {};
  if (typeof value !== "object" || Array.isArray(value)) throw badRequest("options.metadata must be an object");
  return value as Record<string, DeserializedJson>;
}

function runOrThrow<T>(fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    if (error instanceof RunApiError) {
      throw new HttpError(error.status, { error: error.message }, error.status < 500 ? NO_RETRY : {});
    }
    throw error;
  }
}
