import { pathToFileURL } from "node:url";
import { parentPort, workerData } from "node:worker_threads";
import { apiClientManager, calculateNextRetryDelay, logger, resourceCatalog } from "@trigger.dev/core/v3";
import {
  installSessionWaitpointBackend,
  runInMockTaskContext,
  StandardSessionStreamManager,
} from "@trigger.dev/core/v3/test";
import { StandardResourceCatalog } from "@trigger.dev/core/v3/workers";
import { createEngineClient } from "./engine-client.server";
import { installOutChannel } from "./out-channel.server";
import { installSnapshotIo } from "./snapshot-io.server";
import { forwardingTaskLogger } from "./task-logger.server";
import { warmUp } from "./warm-up.server";
import type { ParentToWorker, RunAssignment, WorkerBootData, WorkerToParent } from "./protocol.server";

/*
 * One worker thread runs one run, as production runs one process per run: the
 * SDK keeps its task context, locals, session-stream manager and chat input
 * router in process globals. The worker boots (imports the SDK and the
 * project's tasks) before it is given a run, so a warm worker starts a chat
 * with no module loading on the critical path.
 */

const port = parentPort!;
const boot = workerData as WorkerBootData;
const post = (message: WorkerToParent) => port.postMessage(message);

async function bootWorker(): Promise<string[]> {
  resourceCatalog.setGlobalResourceCatalog(new StandardResourceCatalog());
  // The agent's own API calls (token refresh, snapshot I/O, `.in` tail, replay) go to the engine with its secret key.
  apiClientManager.setGlobalAPIClientConfiguration({ baseURL: boot.apiURL, accessToken: boot.secretKey });
  const callEngine = createEngineClient(port);
  installOutChannel(callEngine);
  installSnapshotIo(callEngine);
  logger.setGlobalTaskLogger(forwardingTaskLogger((level, line) => post({ type: "log", level, line })));
  for (const module of boot.taskModules) {
    resourceCatalog.setCurrentFileContext(module.sourcePath, module.sourcePath);
    await import(pathToFileURL(module.bundlePath).href);
    resourceCatalog.clearCurrentFileContext();
  }
  for (const chunk of boot.lazyChunks) await import(pathToFileURL(chunk).href);
  await warmUp();
  return resourceCatalog.listTaskManifests().map((task) => task.id);
}

async function execute(run: RunAssignment, signal: AbortSignal): Promise<void> {
  const task = resourceCatalog.getTask(run.taskId);
  if (!task) throw new Error(`Task "${run.taskId}" is not defined in the project's task modules`);
  const apiClient = apiClientManager.clientOrThrow();
  const sessionStreamManager = new StandardSessionStreamManager(apiClient, boot.apiURL);
  // Suspending on a waitpoint becomes a wait that an `.in` append resolves.
  const { backend, runtimeManager, restore } = installSessionWaitpointBackend(apiClient);
  // Where production checkpoints the run and frees its machine, the engine is told, and ends this
  // thread unless a message is already on its way; the next message continues the chat in a new run.
  const sessionWaitpoints = new Set<string>();
  const register = backend.register.bind(backend);
  backend.register = (body) => {
    const created = register(body);
    sessionWaitpoints.add(created.waitpointId);
    return created;
  };
  const waitForWaitpoint = runtimeManager.waitForWaitpoint.bind(runtimeManager);
  runtimeManager.waitForWaitpoint = (params) => {
    if (sessionWaitpoints.delete(params.waitpointFriendlyId)) post({ type: "suspended" });
    return waitForWaitpoint(params);
  };
  try {
    await runInMockTaskContext(
      (drivers) => task.fns.run(run.payload, { ctx: drivers.ctx, signal } as Parameters<typeof task.fns.run>[1]),
      {
        ctx: { run: { id: run.runId }, attempt: { number: run.attempt }, task: { id: run.taskId } } as never,
        sessionStreamManager,
        runtimeManager,
      },
    );
  } finally {
    restore();
    sessionStreamManager.disconnect?.();
  }
}

/**
 * When the run's next attempt should start, or undefined to fail for good:
 * the task's `retry` config and the errors that skip retrying, as the SDK's
 * task executor decides in production (its `catchError` hooks are not run).
 * A task without `retry` gets one attempt, as this project's config default.
 */
function retryDelayFor(run: RunAssignment, error: unknown): number | undefined {
  if (error instanceof Error) {
    if (error.name === "AbortTaskRunError" || error.name === "TaskPayloadParsedError") return undefined;
    const status = (error as { status?: unknown }).status;
    if (error.name === "TriggerApiError" && typeof status === "number" && status >= 400 && status < 500) {
      if (status !== 408 && status !== 429) return undefined;
    }
  }
  const retry = resourceCatalog.getTask(run.taskId)?.retry;
  return retry ? calculateNextRetryDelay(retry, run.attempt) : undefined;
}

// Cancelling a run terminates its thread, so this signal only has to exist for the task's API.
const runSignal = new AbortController().signal;
let started = false;

port.on("message", (message: ParentToWorker) => {
  if (message.type !== "start" || started) return;
  started = true;
  execute(message.run, runSignal)
    .then(
      () => post({ type: "exit", status: "COMPLETED" }),
      (error: unknown) =>
        post({
          type: "exit",
          status: "FAILED",
          error: error instanceof Error ? (error.stack ?? error.message) : String(error),
          retryInMs: retryDelayFor(message.run, error),
        }),
    )
    .finally(() => {
      // Let in-flight writes and acknowledgements settle, then end the thread.
      setTimeout(() => process.exit(0), 20);
    });
});

bootWorker().then(
  (taskIds) => post({ type: "ready", taskIds }),
  (error: unknown) => {
    post({ type: "boot-failed", error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    setTimeout(() => process.exit(1), 20);
  },
);
