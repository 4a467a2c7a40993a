import { pathToFileURL } from "node:url";
import { parentPort, workerData } from "node:worker_threads";
import {
  apiClientManager,
  calculateNextRetryDelay,
  logger,
  parseError,
  parsePacket,
  resourceCatalog,
  stringifyIO,
  type TaskRunError,
} from "@trigger.dev/core/v3";
import {
  installSessionWaitpointBackend,
  runInMockTaskContext,
  StandardSessionStreamManager,
} from "@trigger.dev/core/v3/test";
import { StandardResourceCatalog } from "@trigger.dev/core/v3/workers";
import { createEngineClient } from "./engine-client.server";
import { installInChannel } from "./in-channel.server";
import { installLocalClaims } from "./local-claims.server";
import { installOutChannel } from "./out-channel.server";
import { bootRunMetadata } from "./run-metadata.server";
import { EngineRuntimeManager, startRunMetadata } from "./run-runtime.server";
import { installSnapshotIo } from "./snapshot-io.server";
import { forwardingTaskLogger } from "./task-logger.server";
import { warmUp, warmUpChatTurn } from "./warm-up.server";
import type { IOPacket, ParentToWorker, RunAssignment, WorkerBootData, WorkerToParent } from "./protocol.server";

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
let callEngine: ReturnType<typeof createEngineClient>;
let metadataManager: ReturnType<typeof bootRunMetadata>;

async function bootWorker(): Promise<{ taskIds: string[]; chatTurnWarm: boolean }> {
  resourceCatalog.setGlobalResourceCatalog(new StandardResourceCatalog());
  // The agent's own API calls (token refresh, snapshot I/O, `.in` tail, replay) go to the engine with its secret key.
  apiClientManager.setGlobalAPIClientConfiguration({ baseURL: boot.apiURL, accessToken: boot.secretKey });
  installLocalClaims({ apiURL: boot.apiURL, secretKey: boot.secretKey, claims: boot.secretKeyClaims });
  logger.setGlobalTaskLogger(forwardingTaskLogger((level, line) => post({ type: "log", level, line })));
  for (const module of boot.taskModules) {
    resourceCatalog.setCurrentFileContext(module.sourcePath, module.sourcePath);
    await import(pathToFileURL(module.bundlePath).href);
    resourceCatalog.clearCurrentFileContext();
  }
  for (const chunk of boot.lazyChunks) await import(pathToFileURL(chunk).href);
  const taskIds = resourceCatalog.listTaskManifests().map((task) => task.id);
  await warmUp();
  const chatTurnWarm =
    boot.warmUpChatTurn &&
    (await warmUpChatTurn().then(
      () => true,
      (error: unknown) => {
        // A colder first turn, not a broken worker.
        post({ type: "log", level: "warn", line: `the warm-up chat turn failed: ${errorMessage(error)}` });
        return false;
      },
    ));
  // Installed after the warm-up, whose in-memory harness replaces and then clears the SDK's test hooks.
  callEngine = createEngineClient(port);
  installOutChannel(callEngine);
  installSnapshotIo(callEngine);
  installInChannel({ apiURL: boot.apiURL, secretKey: boot.secretKey }, callEngine);
  metadataManager = bootRunMetadata(apiClientManager.clientOrThrow());
  return { taskIds, chatTurnWarm };
}

const errorMessage = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** Runs the task and returns its output as the SDK serialises it, which is what `runs.retrieve` and a waiting parent read. */
async function execute(run: RunAssignment, signal: AbortSignal): Promise<IOPacket> {
  const task = resourceCatalog.getTask(run.taskId);
  if (!task) throw new Error(`Task "${run.taskId}" is not defined in the project's task modules`);
  const apiClient = apiClientManager.clientOrThrow();
  const sessionStreamManager = new StandardSessionStreamManager(apiClient, boot.apiURL);
  // Suspending on a session waitpoint becomes a wait that an `.in` append resolves; a child run or a
  // token is waited for in memory, answered by the engine over the port.
  const { backend, restore } = installSessionWaitpointBackend(apiClient);
  const runtimeManager = new EngineRuntimeManager(callEngine, backend);
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
  const triggered = run.triggered;
  try {
    return await runInMockTaskContext(
      async (drivers) => {
        startRunMetadata(metadataManager, {
          id: run.runId,
          isRoot: !triggered?.parentRunId,
          metadata: triggered?.metadata ?? {},
        });
        try {
          let payload: unknown = run.payload;
          if (run.payloadPacket) {
            payload = await parsePacket(run.payloadPacket);
            // A schemaTask validates its payload before it runs, as Trigger.dev's executor does.
            if (task.fns.parsePayload) payload = await task.fns.parsePayload(payload);
          }
          const output = await task.fns.run(payload, { ctx: drivers.ctx, signal } as Parameters<
            typeof task.fns.run
          >[1]);
          return await stringifyIO(output);
        } finally {
          metadataManager.stopPeriodicFlush();
          // The run's last metadata lands before the engine hears that it ended.
          await metadataManager.flush();
        }
      },
      {
        ctx: {
          run: {
            id: run.runId,
            ...(triggered
              ? {
                  tags: triggered.tags,
                  isTest: triggered.isTest,
                  createdAt: new Date(triggered.createdAt),
                  parentTaskRunId: triggered.parentRunId,
                  rootTaskRunId: triggered.rootRunId,
                }
              : {}),
          },
          attempt: { number: run.attempt },
          task: { id: run.taskId },
        } as never,
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
      (output) => post({ type: "exit", status: "COMPLETED", output }),
      (error: unknown) =>
        post({
          type: "exit",
          status: "FAILED",
          error: error instanceof Error ? (error.stack ?? error.message) : String(error),
          retryInMs: retryDelayFor(message.run, error),
          taskError: parseError(error) as TaskRunError,
        }),
    )
    .finally(() => {
      // Let in-flight writes and acknowledgements settle, then end the thread.
      setTimeout(() => process.exit(0), 20);
    });
});

bootWorker().then(
  (booted) => post({ type: "ready", ...booted }),
  (error: unknown) => {
    post({ type: "boot-failed", error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    setTimeout(() => process.exit(1), 20);
  },
);
