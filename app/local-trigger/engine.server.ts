import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { claimsRoutes } from "./api/claims.server";
import { runRoutes } from "./api/runs.server";
import { waitpointRoutes } from "./api/waitpoints.server";
import { type EngineContext, RequestAuth, SECRET_KEY_CLAIMS } from "./api/context.server";
import { sessionRoutes } from "./api/sessions.server";
import { snapshotRoutes } from "./api/snapshots.server";
import { streamRoutes } from "./api/streams.server";
import { json } from "./http/errors.server";
import { createNodeServer, listen, serveHttp2Beside } from "./http/listener.server";
import { createRouter, type EngineLog, withCors } from "./http/router.server";
import type { LiveSse } from "./http/sse.server";
import {
  INPUT_QUOTAS,
  type InputQuotas,
  MAX_OPEN_STREAMS,
  MAX_READERS_WAITING_FOR_SESSIONS,
  RUN_QUEUE,
  STREAM_MEMORY,
} from "./limits.server";
import { bundleWorker, type WorkerBundle } from "./runs/bundle.server";
import { RunManager } from "./runs/run-manager.server";
import { TaskRuns } from "./runs/task-runs.server";
import { Waitpoints } from "./runs/waitpoints.server";
import { isWaitCall } from "./worker/protocol.server";
import { WorkerPool } from "./runs/worker-pool.server";
import { SessionRuns } from "./sessions/session-runs.server";
import { S2Emulation } from "./s2/s2.server";
import { SessionStore } from "./sessions/session-store.server";
import { flushWrites } from "./storage/atomic-file.server";
import { countSessions, DataFolder } from "./storage/data-folder.server";
import { isStrongSecret, loadOrCreateSecret, StartupError } from "./storage/secrets.server";

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
  /** Worker boots at once. Default: the number of CPU cores. */
  maxConcurrentBoots?: number;
  /** How long a message waits for a run slot when every slot is mid-turn, before a 429. Default 15 s. */
  queueWaitMs?: number;
  /** What each session's client-writable streams may hold. Default: INPUT_QUOTAS. */
  inputQuotas?: InputQuotas;
  /** S2 applies trims 10–60 s late; a reload that replays from a turn start relies on that. Default 30 s. */
  trimDelayMs?: number;
  /** Lifetime of the token `POST /api/v1/sessions` returns. Default "1h". */
  sessionTokenTTL?: string;
  /** SSE readers that may wait for sessions not yet created. Default: MAX_READERS_WAITING_FOR_SESSIONS. */
  maxReadersWaitingForSessions?: number;
  /** Idle SSE ping interval. Default 5 s. */
  pingIntervalMs?: number;
  /** Rebundle the tasks when a file in the task dirs changes (development). */
  watch?: boolean;
  /** Extra environment for agent workers (on top of this process's). */
  workerEnv?: Record<string, string | undefined>;
  /** Where the engine's log lines go. Default: the console, prefixed "[local-trigger]". */
  log?: EngineLog;
};

export type LocalEngine = Awaited<ReturnType<typeof createLocalEngine>>;

/** Asked of requests that arrive while the engine is still starting; the SDK retries a 503. */
const STARTING_RETRY_AFTER_SECONDS = 1;

/**
 * The embedded local engine: the part of the Trigger.dev API that chat agents
 * and their clients use, served from this process, running the project's real
 * `chat.agent` tasks in worker threads. `handle` serves a Fetch `Request`, so
 * the same engine answers on its own loopback port and mounted under a path
 * of the app's origin.
 *
 * Layout: `http/` serves requests, `api/` holds the routes, `sessions/` keeps
 * sessions and decides which run serves each, `runs/` owns the worker threads,
 * `storage/` the data folder, and `worker/` is the code inside each thread.
 */
export async function createLocalEngine(options: LocalEngineOptions) {
  const log: EngineLog = options.log ?? ((message, level = "info") => console[level](`[local-trigger] ${message}`));
  const dataDir = path.resolve(options.dataDir);
  let data: DataFolder;
  try {
    fs.mkdirSync(dataDir, { recursive: true });
    data = new DataFolder(dataDir, log);
  } catch (error) {
    throw asStartupError(error, dataDir);
  }
  let server: ReturnType<typeof createNodeServer> | undefined;
  try {
    // A root-style key (not the `tr_<env>_sk_<24>` form), so `auth.createPublicToken` self-signs with it.
    const secretKey = loadOrCreateSecret(dataDir, "secret-key", {
      generate: () => `tr_dev_local_${randomBytes(24).toString("hex")}`,
      isValid: (key) => key.startsWith("tr_") && isStrongSecret(32)(key),
      dependents: () => describeSessions(countSessions(dataDir)),
      consequenceOfDeleting:
        "open chats then fetch new tokens on their own, and apps pointed at this engine need the new key",
      log,
    });
    const store = new SessionStore(data, {
      maxOpenStreams: MAX_OPEN_STREAMS,
      streamMemory: STREAM_MEMORY,
      maxWaitingForCreation: options.maxReadersWaitingForSessions ?? MAX_READERS_WAITING_FOR_SESSIONS,
    });

    // Workers need the listener's URL, so it opens first and answers 503 until the routes below exist.
    let serve: ((request: Request, basePath: string) => Promise<Response>) | undefined;
    server = createNodeServer((request) => (serve ? serve(request, "") : Promise.resolve(startingResponse())), log);
    let s2: S2Emulation | undefined;
    const closeHttp2 = serveHttp2Beside(server, (stream, headers) => {
      if (s2) s2.handleHttp2Stream(stream, headers);
      else stream.respond({ ":status": 503 }, { endStream: true });
    });
    const apiURL = await listen(server, options.host ?? "127.0.0.1", options.port ?? 0);
    const projectRoot = options.projectRoot ?? process.cwd();
    const taskDirs = options.taskDirs ?? ["trigger"];
    const bundles: WorkerBundle[] = [await bundleWorker({ projectRoot, taskDirs })];

    const pool = new WorkerPool({
      bundle: bundles[0]!,
      boot: { apiURL, secretKey, secretKeyClaims: SECRET_KEY_CLAIMS },
      env: { ...process.env, ...options.workerEnv },
      warmWorkers: options.warmWorkers ?? 1,
      maxConcurrentBoots: options.maxConcurrentBoots ?? Math.max(1, os.availableParallelism()),
      log,
    });
    let sessionRuns!: SessionRuns;
    let taskRuns!: TaskRuns;
    const runs = new RunManager({
      pool,
      maxLiveRuns: options.maxLiveRuns ?? 32,
      queueWaitMs: options.queueWaitMs ?? RUN_QUEUE.waitMs,
      maxWaiting: RUN_QUEUE.maxWaiting,
      onEngineCall: (run, call) =>
        isWaitCall(call) ? taskRuns.serveWaitCall(run, call) : sessionRuns.serveEngineCall(run, call),
      onRunEnded: (run) => {
        taskRuns.onRunEnded(run);
        sessionRuns.onRunEnded(run);
      },
      log,
    });
    sessionRuns = new SessionRuns({ store, data, runs, trimDelayMs: options.trimDelayMs ?? 30_000, log });
    s2 = new S2Emulation({ store, sessionRuns, secretKey, apiURL });
    const waitpoints = new Waitpoints(secretKey);
    taskRuns = new TaskRuns({ dataDir, runs, waitpoints, log });

    const liveStreams = new Set<LiveSse>();
    const context: EngineContext = {
      store,
      data,
      runs,
      sessionRuns,
      taskRuns,
      waitpoints,
      pool,
      auth: new RequestAuth(secretKey, store),
      s2,
      secretKey,
      liveStreams,
      settings: {
        sessionTokenTTL: options.sessionTokenTTL ?? "1h",
        pingIntervalMs: options.pingIntervalMs ?? 5_000,
        queueWaitMs: options.queueWaitMs ?? RUN_QUEUE.waitMs,
        inputQuotas: options.inputQuotas ?? INPUT_QUOTAS,
      },
    };
    const handle = createRouter(
      [
        ...claimsRoutes(context),
        ...sessionRoutes(context),
        ...snapshotRoutes(context),
        ...streamRoutes(context),
        ...runRoutes(context),
        ...waitpointRoutes(context),
        ...s2.routes(),
      ],
      log,
    );
    serve = handle;
    sessionRuns.recoverInterruptedTurns();
    const stopWatching = options.watch ? watchTasks({ projectRoot, taskDirs, bundles, pool, log }) : () => {};
    const listener = server;

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
      /** Ends every open SSE stream cleanly, as a long-poll window ends: readers resume from where they were. */
      endStreams() {
        const count = liveStreams.size;
        for (const live of [...liveStreams]) live.end();
        return count;
      },
      stats() {
        return {
          sessions: store.size,
          liveRuns: runs.liveCount,
          turnsUnderWay: runs.turnsUnderWay,
          waitingForSlot: runs.waitingCount,
          warmWorkers: pool.readyCount,
          bootingWorkers: pool.bootingCount,
          workerThreads: pool.threadCount,
          openStreams: liveStreams.size,
          openLogs: store.openStreamCount,
          readersWaitingForSessions: store.awaitingCreationCount,
          runReadsWaiting: sessionRuns.waitingReadCount,
        };
      },
      /**
       * Deletes a session for good: its run is stopped, its open streams end,
       * tokens minted for it (earlier ones included) get 404 everywhere, and
       * its streams, side channels, snapshots and metadata are removed from
       * the data folder. A tombstone keeps its ids taken: the secret key reads
       * it as closed, and it cannot be created again. Not part of Trigger.dev's
       * API, so the app calls it in-process. Returns false for an unknown key;
       * deleting twice is a no-op.
       */
      deleteSession(key: string, options: { reason: string }): boolean {
        const session = store.resolve(key);
        if (!session) return false;
        if (store.isPurged(session)) return true;
        sessionRuns.purge(session, options.reason);
        log(
          `session ${session.externalId ?? session.friendlyId} deleted: its streams, snapshots and metadata are removed`,
        );
        return true;
      },
      /** The run currently serving a session, for tests and diagnostics. */
      runFor(sessionKey: string) {
        const session = store.resolve(sessionKey);
        const run = runs.get(session?.currentRunId);
        return run ? { id: run.id, status: run.status, busy: run.busy } : undefined;
      },
      taskIds: () => pool.taskIds,
      async close() {
        sessionRuns.shutDown();
        waitpoints.close();
        for (const live of [...liveStreams]) live.drop();
        await runs.close();
        listener.closeAllConnections();
        closeHttp2();
        await new Promise<void>((resolve) => listener.close(() => resolve()));
        stopWatching();
        for (const built of bundles) fs.rmSync(built.outDir, { recursive: true, force: true });
        // The next engine on this folder may be on the next boot: what was saved must be on the disk by then.
        await flushWrites();
        data.release();
      },
    };
  } catch (error) {
    server?.closeAllConnections();
    server?.close();
    data.release();
    throw asStartupError(error, dataDir);
  }
}

/** A file-system error at startup (a full disk, a folder that cannot be written) says so in one line. */
function asStartupError(error: unknown, dataDir: string) {
  const failure = error as NodeJS.ErrnoException;
  if (error instanceof StartupError || typeof failure?.code !== "string" || typeof failure.syscall !== "string")
    return error;
  return new StartupError(`The data folder ${dataDir} cannot be used: ${failure.message}`);
}

function startingResponse() {
  return withCors(
    json(
      503,
      { error: "The local engine is starting; try again in a moment" },
      { "Retry-After": String(STARTING_RETRY_AFTER_SECONDS) },
    ),
  );
}

const describeSessions = (count: number) =>
  count === 0 ? undefined : `${count} ${count === 1 ? "chat uses" : "chats use"} it`;

/** Rebundles the tasks when a file in the task dirs changes: new runs get the new code, live runs finish on theirs. */
function watchTasks(options: {
  projectRoot: string;
  taskDirs: string[];
  bundles: WorkerBundle[];
  pool: WorkerPool;
  log: (message: string) => void;
}) {
  const { projectRoot, taskDirs, bundles, pool, log } = options;
  let timer: NodeJS.Timeout | undefined;
  let rebuilding = Promise.resolve();
  const rebuild = () => {
    rebuilding = rebuilding.then(async () => {
      try {
        const next = await bundleWorker({ projectRoot, taskDirs });
        bundles.push(next);
        pool.replaceBundle(next);
        log("tasks changed: new runs use the new code");
      } catch (error) {
        // A half-saved file fails to build; the next save tries again.
        log(
          `tasks changed but failed to build, keeping the previous version: ${error instanceof Error ? error.message : String(error)}`,
        );
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
