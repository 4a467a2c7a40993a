import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import {
  CloseSessionRequestBody,
  CreateSessionRequestBody,
  EndAndContinueSessionRequestBody,
  ListSessionsQueryParams,
  pageTranscriptEntries,
  parseTranscriptBlob,
  UpdateSessionRequestBody,
} from "@trigger.dev/core/v3";
import type { z } from "zod";
import { authenticate, can, type Caller, isAuthFailure, mintSessionToken, type Resource } from "./auth";
import { bundleWorker } from "./bundle";
import { badRequest, HttpError, json, notFound, parseJson, readBody } from "./http";
import { createNodeServer, listen } from "./node-server";
import { controlSubtype, isCommandRecord, type RecordHeader, type RecordStream } from "./record-stream";
import { CapacityError, type Run, RunManager } from "./runs";
import { type LiveSse, sseResponse } from "./sse";
import { EngineStorage, loadOrCreateSecret, randomId, type SessionRow } from "./storage";
import type { EngineCall } from "./worker/protocol";

export type LocalEngineOptions = {
  /** Where sessions, stream records, transcripts and the secret key live. */
  dataDir: string;
  /** Root of the project whose tasks the engine runs. Default: the working directory. */
  projectRoot?: string;
  /** Task directories, as in trigger.config.ts. Default: ["trigger"]. */
  taskDirs?: string[];
  /** Loopback listener for agents, server-side SDK calls and standalone use. Default: 127.0.0.1, any free port. */
  host?: string;
  port?: number;
  /** Booted workers kept ready so a new chat skips the cold start. Default 1. */
  warmWorkers?: number;
  /** Live runs allowed at once. Default 32. */
  maxLiveRuns?: number;
  /** S2 applies trims 10–60 s late; a reload that replays from a turn start relies on that. Default 30 s. */
  trimDelayMs?: number;
  /** Lifetime of the token `POST /api/v1/sessions` returns. Default "1h". */
  sessionTokenTTL?: string;
  /** Idle SSE ping interval. Default 5 s. */
  pingIntervalMs?: number;
  /** Rebundle the tasks when a file in the task dirs changes (development). */
  watch?: boolean;
  /** Extra environment for agent workers (on top of this process's). */
  workerEnv?: Record<string, string | undefined>;
  log?: (message: string) => void;
};

const ENVIRONMENT_ID = "env_local";
const MAX_APPEND_BYTES = 1024 * 1024;
const MAX_JSON_BODY_BYTES = 1024 * 1024;
const MAX_SNAPSHOT_BYTES = 64 * 1024 * 1024;
const PRESIGN_TTL_MS = 15 * 60 * 1000;
const DEFAULT_WAIT_SECONDS = 60;

const CORS_HEADERS: Record<string, string> = {
  "Access-Control-Allow-Origin": "*",
  "Access-Control-Allow-Methods": "GET, HEAD, POST, PUT, PATCH, OPTIONS",
  "Access-Control-Expose-Headers": "*",
};

type Session = SessionRow & {
  streams: Map<string, RecordStream>;
  /** X-Part-Id → seq per channel, so a retried append is acknowledged, not duplicated. */
  partIds: Map<string, Map<string, number>>;
};

type RouteContext = { request: Request; url: URL; basePath: string; params: string[] };
type Route = { method: string; pattern: RegExp; handler: (ctx: RouteContext) => Promise<Response> | Response };

export type LocalEngine = Awaited<ReturnType<typeof createLocalEngine>>;

/**
 * The embedded local engine: the part of the Trigger.dev API that chat agents
 * and their clients use, served from this process, running the project's real
 * `chat.agent` tasks in worker threads. `handle` serves a Fetch `Request`, so
 * the same engine answers on its own loopback port and mounted under a path
 * of the app's origin.
 */
export async function createLocalEngine(options: LocalEngineOptions) {
  const log = options.log ?? ((message: string) => console.log(`[local-trigger] ${message}`));
  const dataDir = path.resolve(options.dataDir);
  const storage = new EngineStorage(dataDir);
  // A root-style key (not the `tr_<env>_sk_<24>` form), so `auth.createPublicToken` self-signs with it.
  const secretKey = loadOrCreateSecret(dataDir, "secret-key", () => `tr_dev_local_${randomBytes(24).toString("hex")}`);
  const objectKey = createHmac("sha256", secretKey).update("local-trigger object urls").digest();
  const trimDelayMs = options.trimDelayMs ?? 30_000;
  const pingIntervalMs = options.pingIntervalMs ?? 5_000;
  const sessionTokenTTL = options.sessionTokenTTL ?? "1h";

  const sessions = new Map<string, Session>();
  const byExternalId = new Map<string, string>();
  /** Creation order; the list endpoint pages newest first. */
  const ordered: Session[] = [];
  const liveStreams = new Set<LiveSse>();

  for (const row of storage.loadSessions().sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.friendlyId.localeCompare(b.friendlyId))) {
    addSession(row);
  }

  const server = createNodeServer((request) => handle(request, ""));
  const apiURL = await listen(server, options.host ?? "127.0.0.1", options.port ?? 0);
  const projectRoot = options.projectRoot ?? process.cwd();
  const taskDirs = options.taskDirs ?? ["trigger"];
  const bundles = [await bundleWorker({ projectRoot, taskDirs })];
  const bundle = bundles[0]!;
  const runs = new RunManager({
    bundle,
    apiURL,
    secretKey,
    warmWorkers: options.warmWorkers ?? 1,
    maxLiveRuns: options.maxLiveRuns ?? 32,
    env: { ...process.env, ...options.workerEnv },
    onEngineCall: serveEngineCall,
    onRunEnded: recoverInterruptedTurn,
    log,
  });

  const stopWatching = options.watch ? watchTasks() : () => {};

  function watchTasks() {
    let timer: NodeJS.Timeout | undefined;
    let rebuilding = Promise.resolve();
    const rebuild = () => {
      rebuilding = rebuilding.then(async () => {
        try {
          const next = await bundleWorker({ projectRoot, taskDirs });
          bundles.push(next);
          runs.replaceBundle(next);
          log("tasks changed: new runs use the new code");
        } catch (error) {
          // A half-saved file fails to build; the next save tries again.
          log(`tasks changed but failed to build, keeping the previous version: ${error instanceof Error ? error.message : String(error)}`);
        }
      });
    };
    const watchers = taskDirs.map((dir) =>
      fs.watch(path.resolve(projectRoot, dir), { recursive: true }, () => {
        clearTimeout(timer);
        timer = setTimeout(rebuild, 150);
      }),
    );
    return () => {
      clearTimeout(timer);
      for (const watcher of watchers) watcher.close();
    };
  }

  // ------------------------------------------------------------------ sessions

  function addSession(row: SessionRow) {
    const session: Session = { ...row, streams: new Map(), partIds: new Map() };
    sessions.set(session.friendlyId, session);
    if (session.externalId) byExternalId.set(session.externalId, session.friendlyId);
    ordered.push(session);
    return session;
  }

  function persist(session: Session) {
    const { streams: _streams, partIds: _partIds, ...row } = session;
    storage.saveSession(row);
  }

  /** Stream URLs and session routes accept the friendly id (`session_*`) or the external id (the chat id). */
  function resolveSession(key: string): Session | undefined {
    return sessions.get(key) ?? sessions.get(byExternalId.get(key) ?? "");
  }

  function requireSession(key: string) {
    const session = resolveSession(key);
    if (!session) throw notFound(`Session "${key}" not found`);
    return session;
  }

  const sessionResources = (urlKey: string, session?: Session): Resource[] =>
    [...new Set([urlKey, session?.friendlyId, session?.externalId].filter((id): id is string => !!id))].map((id) => ({ type: "sessions", id }));

  function stream(session: Session, channelKey: string): RecordStream {
    let existing = session.streams.get(channelKey);
    if (!existing) {
      existing = storage.openStream(session, channelKey, (earliest) => {
        session.trims[channelKey] = earliest;
        persist(session);
      });
      session.streams.set(channelKey, existing);
    }
    return existing;
  }

  function partIndex(session: Session, channelKey: string) {
    let index = session.partIds.get(channelKey);
    if (!index) {
      index = new Map();
      for (const record of stream(session, channelKey).readFrom(0)) {
        const id = envelopeOf(record.body)?.id;
        if (typeof id === "string") index.set(id, record.seq_num);
      }
      session.partIds.set(channelKey, index);
    }
    return index;
  }

  const isExpired = (session: Session) => !!session.expiresAt && Date.parse(session.expiresAt) <= Date.now();

  function serialize(session: Session) {
    return {
      id: session.friendlyId,
      externalId: session.externalId,
      type: session.type,
      taskIdentifier: session.taskIdentifier,
      triggerConfig: session.triggerConfig,
      currentRunId: session.currentRunId,
      tags: session.tags,
      metadata: session.metadata,
      closedAt: session.closedAt,
      closedReason: session.closedReason,
      expiresAt: session.expiresAt,
      createdAt: session.createdAt,
      updatedAt: session.updatedAt,
    };
  }

  function touch(session: Session) {
    session.updatedAt = new Date().toISOString();
  }

  // ---------------------------------------------------------------------- runs

  function runPayload(session: Session, continuation?: { previousRunId: string }) {
    const config = session.triggerConfig as { basePayload?: Record<string, unknown>; idleTimeoutInSeconds?: number };
    const payload: Record<string, unknown> = {
      ...(config.basePayload ?? {}),
      ...(config.idleTimeoutInSeconds !== undefined ? { idleTimeoutInSeconds: config.idleTimeoutInSeconds } : {}),
      sessionId: session.friendlyId,
    };
    if (continuation) {
      // A continuation reads its pending message from `.in` and its history from the snapshot.
      delete payload.message;
      delete payload.messages;
      delete payload.trigger;
      Object.assign(payload, { continuation: true, previousRunId: continuation.previousRunId });
    }
    return payload;
  }

  /** The live run if there is one, otherwise a new run (a continuation when an earlier one existed). */
  function ensureRun(session: Session): Run {
    const current = runs.get(session.currentRunId);
    if (current?.status === "EXECUTING") return current;
    const previousRunId = session.currentRunId;
    const run = runs.start(session.friendlyId, session.taskIdentifier, runPayload(session, previousRunId ? { previousRunId } : undefined));
    session.currentRunId = run.id;
    touch(session);
    persist(session);
    return run;
  }

  function serveEngineCall(run: Run, call: EngineCall) {
    const session = resolveSession(call.sessionId);
    // A run acts only on its own session.
    if (!session || session.friendlyId !== run.sessionId) throw new Error(`run ${run.id} may not use session ${call.sessionId}`);
    switch (call.op) {
      case "out-append": {
        const result = stream(session, call.channel ? `channel:${call.channel}:out` : "out").append(call.records);
        if (!call.channel) trackTurn(session, run, call.records);
        return result;
      }
      case "out-trim": {
        const target = stream(session, call.channel ? `channel:${call.channel}:out` : "out");
        // The trim command itself consumes a seq, as in S2; the records go later.
        const result = target.append([{ body: "", headers: [["", "trim"]] }]);
        setTimeout(() => target.trim(call.trimTo), trimDelayMs).unref();
        return result;
      }
      case "snapshot-write":
        storage.writeSnapshot(session.friendlyId, call.blob);
        return null;
      case "snapshot-read":
        return storage.readSnapshot(session.friendlyId) ?? null;
    }
  }

  /** Persisted only when a turn opens or completes: two small writes a turn, so a restart knows what it interrupted. */
  function trackTurn(session: Session, run: Run, records: { headers?: RecordHeader[] }[]) {
    const completes = records.some((record) => controlSubtype(record) === "turn-complete");
    if (completes) {
      runs.markActivity(run.id, false);
      recoveries.delete(session.friendlyId);
    }
    const open = completes ? false : session.turnInProgress || records.some((record) => controlSubtype(record) === undefined);
    if (open !== !!session.turnInProgress) {
      session.turnInProgress = open;
      persist(session);
    }
  }

  /**
   * A turn cut off by a crashed run (or an engine restart) would leave its
   * client waiting. Trigger.dev retries a crashed run; here a continuation run
   * takes over, and the SDK's recovery finishes the turn from the durable
   * streams. Once per turn, so a turn that crashes every time still ends.
   */
  const recoveries = new Set<string>();
  function recoverInterruptedTurn(run: Run) {
    const session = sessions.get(run.sessionId);
    if (!session?.turnInProgress || session.closedAt || isExpired(session) || run.status !== "FAILED") return;
    if (session.currentRunId !== run.id || recoveries.has(session.friendlyId)) return;
    recoveries.add(session.friendlyId);
    log(`run ${run.id} crashed mid-turn; continuing ${session.externalId ?? session.friendlyId} in a new run`);
    startRecoveryRun(session);
  }

  function startRecoveryRun(session: Session) {
    try {
      ensureRun(session);
    } catch (error) {
      log(`could not continue ${session.externalId ?? session.friendlyId}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  // -------------------------------------------------------------------- routes

  async function authorize(request: Request): Promise<Caller> {
    const caller = await authenticate(request.headers.get("authorization"), secretKey, ENVIRONMENT_ID);
    if (isAuthFailure(caller)) throw new HttpError(caller.status, { error: caller.message });
    return caller;
  }

  const forbidden = () =>
    new HttpError(403, { error: "Unauthorized", code: "unauthorized", param: "access_token", type: "authorization" });

  async function requireSecretKey(request: Request) {
    const caller = await authorize(request);
    if (caller.kind !== "secret-key") throw forbidden();
  }

  async function authorizeSession(request: Request, key: string, action: "read" | "write" | "admin") {
    const caller = await authorize(request);
    const session = resolveSession(key);
    if (!can(caller, action, sessionResources(key, session))) throw forbidden();
    if (!session) throw notFound(`Session "${key}" not found`);
    return { caller, session };
  }

  async function parseBody<T extends z.ZodType>(request: Request, schema: T): Promise<z.infer<T>> {
    const parsed = schema.safeParse(parseJson(await readBody(request, MAX_JSON_BODY_BYTES)));
    if (!parsed.success) {
      const issues = parsed.error.issues.map((issue) => `${issue.path.join(".") || "body"}: ${issue.message}`);
      throw badRequest(`Invalid request body: ${issues.join("; ")}`, parsed.error.issues);
    }
    return parsed.data;
  }

  // Not retried by the SDK's fetch helper: the caller gets the reason at once.
  const capacityResponse = (error: CapacityError) => new HttpError(429, { error: error.message }, { "x-should-retry": "false" });

  const closedError = (session: Session) =>
    new HttpError(
      409,
      {
        ok: false,
        error: isExpired(session) && !session.closedAt ? "Session has expired" : "Cannot append to a closed session",
        code: "session_closed",
        closedReason: session.closedReason ?? (isExpired(session) ? "expired" : null),
      },
      { "x-should-retry": "false" },
    );

  async function createSession({ request }: RouteContext) {
    const caller = await authorize(request);
    const body = await parseBody(request, CreateSessionRequestBody);
    if (!can(caller, "write", [{ type: "tasks", id: body.taskIdentifier }, { type: "sessions" }])) throw forbidden();
    const taskIds = await runs.taskIds.catch((error: Error) => {
      throw new HttpError(500, { error: error.message });
    });
    if (!taskIds.includes(body.taskIdentifier)) {
      throw new HttpError(
        422,
        { error: `Task "${body.taskIdentifier}" is not defined in this project (known tasks: ${taskIds.join(", ") || "none"})` },
        { "x-should-retry": "false" },
      );
    }

    const existing = body.externalId ? resolveSession(body.externalId) : undefined;
    const now = new Date().toISOString();
    let session: Session;
    if (existing) {
      if (existing.closedAt || isExpired(existing)) {
        throw new HttpError(
          409,
          { error: `Session "${body.externalId}" is ${existing.closedAt ? "closed" : "expired"}; use a different externalId to start a new one` },
          { "x-should-retry": "false" },
        );
      }
      session = existing;
      session.triggerConfig = body.triggerConfig as Record<string, unknown>;
      if (body.tags) session.tags = body.tags;
      if (body.metadata) session.metadata = body.metadata;
      if (body.expiresAt) session.expiresAt = body.expiresAt.toISOString();
      touch(session);
    } else {
      // Checked before anything is stored, so a refused create leaves no session behind.
      if (!runs.hasRoomForRun()) throw capacityResponse(new CapacityError(runs.maxLiveRuns));
      session = addSession({
        friendlyId: `session_${randomId()}`,
        externalId: body.externalId ?? null,
        type: body.type,
        taskIdentifier: body.taskIdentifier,
        triggerConfig: body.triggerConfig as Record<string, unknown>,
        tags: body.tags ?? [],
        metadata: body.metadata ?? null,
        closedAt: null,
        closedReason: null,
        expiresAt: body.expiresAt?.toISOString() ?? null,
        createdAt: now,
        updatedAt: now,
        currentRunId: null,
        trims: {},
      });
    }
    let run: Run;
    try {
      run = ensureRun(session);
    } catch (error) {
      throw error instanceof CapacityError ? capacityResponse(error) : error;
    }
    persist(session);
    const publicAccessToken = await mintSessionToken({
      secretKey,
      environmentId: ENVIRONMENT_ID,
      sessionKey: session.externalId ?? session.friendlyId,
      expirationTime: sessionTokenTTL,
    });
    return json(existing ? 200 : 201, { ...serialize(session), runId: run.id, publicAccessToken, isCached: !!existing });
  }

  async function listSessions({ request, url }: RouteContext) {
    await requireSecretKey(request);
    const query: Record<string, string> = {};
    for (const [key, value] of url.searchParams) query[key] = value;
    const parsed = ListSessionsQueryParams.safeParse(query);
    if (!parsed.success) throw badRequest(`Invalid query: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
    const q = parsed.data;
    const list = (value: string | string[] | undefined) => (value === undefined ? undefined : (Array.isArray(value) ? value : value.split(",")).filter(Boolean));
    const types = list(q["filter[type]"]);
    const tags = list(q["filter[tags]"]);
    const tasks = list(q["filter[taskIdentifier]"]);
    const statuses = list(q["filter[status]"]);
    const from = q["filter[createdAt][from]"];
    const to = q["filter[createdAt][to]"];
    const status = (session: Session) => (session.closedAt ? "CLOSED" : isExpired(session) ? "EXPIRED" : "ACTIVE");

    const matching = [...ordered].reverse().filter(
      (session) =>
        (!types || types.includes(session.type)) &&
        (!tags || tags.some((tag) => session.tags.includes(tag))) &&
        (!tasks || tasks.includes(session.taskIdentifier)) &&
        (!q["filter[externalId]"] || session.externalId === q["filter[externalId]"]) &&
        (!statuses || statuses.includes(status(session))) &&
        (from === undefined || Date.parse(session.createdAt) >= from) &&
        (to === undefined || Date.parse(session.createdAt) <= to),
    );
    const size = q["page[size]"];
    let start = 0;
    let end = matching.length;
    if (q["page[after]"]) {
      const index = matching.findIndex((s) => s.friendlyId === q["page[after]"]);
      if (index === -1) throw badRequest(`Unknown page cursor "${q["page[after]"]}"`);
      start = index + 1;
      end = Math.min(matching.length, start + size);
    } else if (q["page[before]"]) {
      const index = matching.findIndex((s) => s.friendlyId === q["page[before]"]);
      if (index === -1) throw badRequest(`Unknown page cursor "${q["page[before]"]}"`);
      end = index;
      start = Math.max(0, end - size);
    } else {
      end = Math.min(matching.length, size);
    }
    const page = matching.slice(start, end);
    return json(200, {
      data: page.map(serialize),
      pagination: {
        ...(end < matching.length && page.length > 0 ? { next: page.at(-1)!.friendlyId } : {}),
        ...(start > 0 && page.length > 0 ? { previous: page[0]!.friendlyId } : {}),
      },
    });
  }

  async function retrieveSession({ request, params }: RouteContext) {
    const { session } = await authorizeSession(request, params[0]!, "read");
    return json(200, serialize(session));
  }

  async function updateSession({ request, params }: RouteContext) {
    await requireSecretKey(request);
    const session = requireSession(params[0]!);
    const body = await parseBody(request, UpdateSessionRequestBody);
    if (body.externalId !== undefined && body.externalId !== session.externalId) {
      if (body.externalId !== null && byExternalId.has(body.externalId)) {
        throw new HttpError(409, { error: `Another session already uses externalId "${body.externalId}"` }, { "x-should-retry": "false" });
      }
      if (session.externalId) byExternalId.delete(session.externalId);
      session.externalId = body.externalId;
      if (body.externalId) byExternalId.set(body.externalId, session.friendlyId);
    }
    if (body.tags) session.tags = body.tags;
    if (body.metadata !== undefined) session.metadata = body.metadata;
    touch(session);
    persist(session);
    return json(200, serialize(session));
  }

  async function closeSession({ request, params }: RouteContext) {
    const { session } = await authorizeSession(request, params[0]!, "admin");
    const body = await parseBody(request, CloseSessionRequestBody);
    if (!session.closedAt) {
      session.closedAt = new Date().toISOString();
      session.closedReason = body.reason ?? null;
      touch(session);
      persist(session);
      // Live readers (the 4.8.3 transport) learn of the close from this control record.
      const headers: RecordHeader[] = [["trigger-control", "session-closed"]];
      if (session.closedReason) headers.push(["session-closed-reason", session.closedReason]);
      stream(session, "out").append([{ body: "", headers }]);
      if (session.currentRunId !== body.callingRunId) runs.cancel(session.currentRunId, "session closed");
    }
    return json(200, serialize(session));
  }

  async function endAndContinue({ request, params }: RouteContext) {
    await requireSecretKey(request);
    const session = requireSession(params[0]!);
    const body = await parseBody(request, EndAndContinueSessionRequestBody);
    if (session.closedAt) throw closedError(session);
    if (session.currentRunId !== body.callingRunId && runs.isAlive(session.currentRunId)) {
      return json(200, { runId: session.currentRunId, swapped: false });
    }
    const run = runs.start(session.friendlyId, session.taskIdentifier, runPayload(session, { previousRunId: body.callingRunId }));
    session.currentRunId = run.id;
    touch(session);
    persist(session);
    return json(200, { runId: run.id, swapped: true });
  }

  // Snapshots: presigned URLs on the engine itself, signed with a key derived from the secret key.
  const signObject = (method: string, id: string, expires: number) =>
    createHmac("sha256", objectKey).update(`${method}\n${id}\n${expires}`).digest("base64url");

  async function snapshotUrl({ request, url, basePath, params }: RouteContext) {
    await requireSecretKey(request);
    const session = requireSession(params[0]!);
    const method = request.method === "PUT" ? "PUT" : "GET";
    const expires = Date.now() + PRESIGN_TTL_MS;
    const target = new URL(`${basePath}/local/v1/objects/snapshots/${session.friendlyId}`, url.origin);
    target.searchParams.set("method", method);
    target.searchParams.set("expires", String(expires));
    target.searchParams.set("signature", signObject(method, session.friendlyId, expires));
    return json(200, { presignedUrl: target.href });
  }

  async function snapshotObject({ request, url, params }: RouteContext) {
    const id = params[0]!;
    const method = request.method === "PUT" ? "PUT" : "GET";
    const expires = Number(url.searchParams.get("expires"));
    const signature = Buffer.from(url.searchParams.get("signature") ?? "");
    const expected = Buffer.from(signObject(method, id, expires));
    if (url.searchParams.get("method") !== method || signature.length !== expected.length || !timingSafeEqual(signature, expected)) {
      throw new HttpError(403, { error: "Invalid object signature" });
    }
    if (!(expires > Date.now())) throw new HttpError(403, { error: "Object URL has expired" });
    const session = requireSession(id);
    if (method === "PUT") {
      storage.writeSnapshot(session.friendlyId, await readBody(request, MAX_SNAPSHOT_BYTES));
      return new Response(null, { status: 200 });
    }
    const blob = storage.readSnapshot(session.friendlyId);
    if (blob === undefined) throw notFound("No snapshot yet");
    return new Response(blob, { status: 200, headers: { "Content-Type": "application/vnd.trigger.transcript+ndjson" } });
  }

  async function transcript({ request, url, params }: RouteContext) {
    await requireSecretKey(request);
    const session = requireSession(params[0]!);
    const limitParam = url.searchParams.get("limit");
    const before = url.searchParams.get("before") ?? undefined;
    if (limitParam !== null && !/^[1-9]\d{0,5}$/.test(limitParam)) throw badRequest("limit must be a positive integer");
    const blob = storage.readSnapshot(session.friendlyId);
    const snapshot = blob === undefined ? undefined : parseTranscriptBlob(blob);
    if (!snapshot) return json(200, { messages: [] });
    const page = pageTranscriptEntries(snapshot.messages, { limit: limitParam === null ? undefined : Number(limitParam), before });
    return json(200, {
      messages: page.entries.map((entry) => entry.message),
      cursors: { lastOutEventId: snapshot.lastOutEventId, lastInEventId: snapshot.lastInEventId },
      ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}),
    });
  }

  async function claims({ request }: RouteContext) {
    const caller = await authenticate(request.headers.get("authorization"), secretKey, ENVIRONMENT_ID);
    if (isAuthFailure(caller) || caller.kind !== "secret-key") throw new HttpError(401, { error: "Invalid or Missing API key" });
    return json(200, { sub: ENVIRONMENT_ID, pub: true });
  }

  // ------------------------------------------------------------------- streams

  const channelKeyOf = (params: string[]) => {
    const [, channel, io] = params;
    return channel ? `channel:${channel}:${io}` : io!;
  };

  async function appendToStream({ request, params }: RouteContext) {
    const key = params[0]!;
    const io = params[2] as "in" | "out";
    const { caller, session } = await authorizeSession(request, key, "write");
    if (io === "out" && caller.kind !== "secret-key") {
      throw new HttpError(403, { ok: false, error: "Appending to the out channel requires secret key authentication" });
    }
    if (session.closedAt || isExpired(session)) throw closedError(session);
    let body = await readBody(request, MAX_APPEND_BYTES);
    if (body === "") throw badRequest("Request body is empty");
    const channelKey = channelKeyOf(params);
    const isChatInput = channelKey === "in";
    let kind: string | undefined;
    if (isChatInput) {
      const chunk = parseJson(body) as { kind?: unknown; payload?: Record<string, unknown> } | null;
      if (typeof chunk !== "object" || chunk === null || typeof chunk.kind !== "string") {
        throw badRequest('Chat input must be a JSON object with a string "kind"');
      }
      kind = chunk.kind;
      if (chunk.payload && typeof chunk.payload === "object" && "actionSource" in chunk.payload) {
        // Only the platform may claim webhook provenance for an action.
        delete chunk.payload.actionSource;
        body = JSON.stringify(chunk);
      }
    }

    const partIdHeader = request.headers.get("x-part-id");
    if (partIdHeader !== null && (partIdHeader.length === 0 || partIdHeader.length > 256)) {
      throw badRequest("X-Part-Id must be 1 to 256 characters");
    }
    const index = partIndex(session, channelKey);
    if (partIdHeader) {
      const seen = index.get(partIdHeader);
      if (seen !== undefined) return json(200, { ok: true, seq: seen });
    }
    // A message for a session whose run has ended starts a continuation run.
    let run: Run | undefined;
    if (isChatInput && kind !== "stop") {
      try {
        run = ensureRun(session);
      } catch (error) {
        throw error instanceof CapacityError ? capacityResponse(error) : error;
      }
    }
    const partId = partIdHeader ?? randomId(16);
    const { start } = stream(session, channelKey).append([{ body: JSON.stringify({ data: body, id: partId }) }]);
    index.set(partId, start);
    if (run) runs.markActivity(run.id, true);
    return json(200, { ok: true, seq: start });
  }

  async function subscribe({ request, params }: RouteContext) {
    const { session } = await authorizeSession(request, params[0]!, "read");
    const lastEventId = request.headers.get("last-event-id");
    if (lastEventId !== null && !/^\d{1,15}$/.test(lastEventId)) throw badRequest("Last-Event-ID must be a sequence number");
    const timeoutHeader = request.headers.get("timeout-seconds");
    let waitSeconds = DEFAULT_WAIT_SECONDS;
    if (timeoutHeader !== null) {
      if (!/^-?\d+$/.test(timeoutHeader.trim())) throw badRequest("Timeout-Seconds must be an integer");
      waitSeconds = Number(timeoutHeader);
      if (waitSeconds < 1) throw badRequest("Timeout-Seconds must be greater than 0");
      if (waitSeconds > 600) throw badRequest("Timeout-Seconds must be at most 600");
    }
    const target = stream(session, channelKeyOf(params));
    if (request.method === "HEAD") {
      return new Response(null, { status: 200, headers: { "X-Last-Chunk-Index": String(Math.max(0, target.tail.seq_num - 1)), "X-Stream-Version": "v2" } });
    }
    return sseResponse(
      target,
      {
        fromSeq: lastEventId === null ? 0 : Number(lastEventId) + 1,
        waitSeconds,
        peekSettled: request.headers.get("x-peek-settled") === "1",
        pingIntervalMs,
        signal: request.signal,
      },
      liveStreams,
    );
  }

  async function readRecords({ request, url, params }: RouteContext) {
    const { session } = await authorizeSession(request, params[0]!, "read");
    const after = url.searchParams.get("afterEventId");
    if (after !== null && !/^\d{1,15}$/.test(after)) throw badRequest("afterEventId must be a sequence number");
    const records = stream(session, channelKeyOf(params))
      .readFrom(after === null ? 0 : Number(after) + 1)
      .filter((record) => !isCommandRecord(record))
      .map((record) => {
        const envelope = envelopeOf(record.body);
        return { data: envelope?.data ?? "", id: typeof envelope?.id === "string" ? envelope.id : "", seqNum: record.seq_num, headers: record.headers };
      });
    return json(200, { records });
  }

  async function initializeStream({ request, params }: RouteContext) {
    const { caller } = await authorizeSession(request, params[0]!, "write");
    if (params[2] === "out" && caller.kind !== "secret-key") {
      throw new HttpError(403, { error: "Initializing the out channel requires secret key authentication" });
    }
    // No S2 credentials: agents in this engine write `.out` through the in-process writer.
    return json(202, { version: "v2" });
  }

  const SESSION = "([^/]+)";
  const STREAM = `^/realtime/v1/sessions/${SESSION}/(?:channels/([^/]+)/)?(in|out)`;
  const routes: Route[] = [
    { method: "POST", pattern: /^\/api\/v1\/auth\/jwt\/claims$/, handler: claims },
    { method: "POST", pattern: /^\/api\/v1\/sessions$/, handler: createSession },
    { method: "GET", pattern: /^\/api\/v1\/sessions$/, handler: listSessions },
    { method: "GET", pattern: new RegExp(`^/api/v1/sessions/${SESSION}$`), handler: retrieveSession },
    { method: "PATCH", pattern: new RegExp(`^/api/v1/sessions/${SESSION}$`), handler: updateSession },
    { method: "POST", pattern: new RegExp(`^/api/v1/sessions/${SESSION}/close$`), handler: closeSession },
    { method: "POST", pattern: new RegExp(`^/api/v1/sessions/${SESSION}/end-and-continue$`), handler: endAndContinue },
    { method: "GET", pattern: new RegExp(`^/api/v1/sessions/${SESSION}/snapshot-url$`), handler: snapshotUrl },
    { method: "PUT", pattern: new RegExp(`^/api/v1/sessions/${SESSION}/snapshot-url$`), handler: snapshotUrl },
    { method: "GET", pattern: new RegExp(`^/api/v1/sessions/${SESSION}/transcript$`), handler: transcript },
    { method: "GET", pattern: /^\/local\/v1\/objects\/snapshots\/(session_[a-z0-9]+)$/, handler: snapshotObject },
    { method: "PUT", pattern: /^\/local\/v1\/objects\/snapshots\/(session_[a-z0-9]+)$/, handler: snapshotObject },
    { method: "POST", pattern: new RegExp(`${STREAM}/append$`), handler: appendToStream },
    { method: "GET", pattern: new RegExp(`${STREAM}/records$`), handler: readRecords },
    { method: "GET", pattern: new RegExp(`${STREAM}$`), handler: subscribe },
    { method: "HEAD", pattern: new RegExp(`${STREAM}$`), handler: subscribe },
    { method: "PUT", pattern: new RegExp(`${STREAM}$`), handler: initializeStream },
  ];

  /** Serves one request. `basePath` is the mount prefix to strip (e.g. "/local-trigger"), "" standalone. */
  async function handle(request: Request, basePath: string): Promise<Response> {
    const url = new URL(request.url);
    if (request.method === "OPTIONS") {
      // `Access-Control-Allow-Headers: *` does not cover Authorization, so echo what was asked for.
      return withCors(new Response(null, {
        status: 204,
        headers: {
          "Access-Control-Allow-Headers": request.headers.get("access-control-request-headers") ?? "*",
          "Access-Control-Max-Age": "600",
        },
      }));
    }
    const pathname = basePath && url.pathname.startsWith(basePath) ? url.pathname.slice(basePath.length) || "/" : url.pathname;
    let response: Response;
    try {
      response = await route(request, url, pathname, basePath);
    } catch (error) {
      if (error instanceof HttpError) {
        response = json(error.status, error.body, error.headers);
      } else {
        log(`${request.method} ${pathname} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
        response = json(500, { error: "Internal error in the local engine" });
      }
    }
    return withCors(response);
  }

  async function route(request: Request, url: URL, pathname: string, basePath: string) {
    let pathMatched = false;
    for (const candidate of routes) {
      const match = candidate.pattern.exec(pathname);
      if (!match) continue;
      pathMatched = true;
      if (candidate.method !== request.method) continue;
      let params: string[];
      try {
        params = match.slice(1).map((part) => (part === undefined ? "" : decodeURIComponent(part)));
      } catch {
        throw badRequest("Malformed percent-encoding in the URL");
      }
      return candidate.handler({ request, url, basePath, params });
    }
    if (pathMatched) throw new HttpError(405, { error: `Method ${request.method} is not allowed on ${pathname}` });
    throw notFound(`No route for ${request.method} ${pathname}`);
  }

  // No run survives a restart: turns that were mid-answer continue in new runs now, not when the user next writes.
  for (const session of ordered) {
    if (session.turnInProgress && !session.closedAt && !isExpired(session)) startRecoveryRun(session);
  }

  return {
    /** Loopback URL of this engine: for the app server's SDK calls, agents, and standalone clients. */
    apiURL,
    secretKey,
    dataDir,
    handle,
    /** Cuts every open SSE connection, as a network drop would (fault injection for tests). */
    dropStreams() {
      const count = liveStreams.size;
      for (const live of [...liveStreams]) live.drop();
      return count;
    },
    stats() {
      return { sessions: sessions.size, liveRuns: runs.liveCount, warmWorkers: runs.warmReady, openStreams: liveStreams.size };
    },
    /** The run currently serving a session, for tests and diagnostics. */
    runFor(sessionKey: string) {
      const session = resolveSession(sessionKey);
      const run = runs.get(session?.currentRunId);
      return run ? { id: run.id, status: run.status, busy: run.busy } : undefined;
    },
    taskIds: () => runs.taskIds,
    async close() {
      for (const live of [...liveStreams]) live.drop();
      await runs.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      stopWatching();
      for (const built of bundles) fs.rmSync(built.outDir, { recursive: true, force: true });
    },
  };
}

function envelopeOf(body: string): { data?: unknown; id?: unknown } | undefined {
  if (!body) return undefined;
  try {
    const parsed = JSON.parse(body) as unknown;
    return typeof parsed === "object" && parsed !== null ? (parsed as { data?: unknown; id?: unknown }) : undefined;
  } catch {
    return undefined;
  }
}

function withCors(response: Response) {
  for (const [name, value] of Object.entries(CORS_HEADERS)) response.headers.set(name, value);
  return response;
}
