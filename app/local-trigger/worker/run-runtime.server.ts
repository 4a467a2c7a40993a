import type { DeserializedJson } from "@trigger.dev/core";
import type { BatchTaskRunExecutionResult, TaskRunExecutionResult } from "@trigger.dev/core/v3";
import type { SessionWaitpointBackend } from "@trigger.dev/core/v3/test";
import type { RuntimeManager, StandardMetadataManager } from "@trigger.dev/core/v3/workers";
import type { EngineClient } from "./engine-client.server";
import type { WaitpointResult } from "./protocol.server";

/**
 * What suspends a run on Trigger.dev, kept in memory here: the run's thread
 * waits on a call into the engine, which answers when the child run ends or
 * the token is completed or times out. Session waitpoints (`session.in.wait`)
 * stay with the SDK's in-process backend, which tails `.in` over HTTP.
 */
export class EngineRuntimeManager implements RuntimeManager {
  constructor(
    private readonly callEngine: EngineClient,
    private readonly sessionWaits: SessionWaitpointBackend,
  ) {}

  disable() {}

  waitForTask(params: { id: string }): Promise<TaskRunExecutionResult> {
    return this.callEngine({ op: "wait-run", runId: params.id });
  }

  waitForBatch(params: { id: string; runCount: number }): Promise<BatchTaskRunExecutionResult> {
    if (params.runCount === 0) return Promise.resolve({ id: params.id, items: [] });
    return this.callEngine({ op: "wait-batch", batchId: params.id });
  }

  async waitForWaitpoint(params: { waitpointFriendlyId: string; finishDate?: Date }): Promise<WaitpointResult> {
    const id = params.waitpointFriendlyId;
    if (this.isSessionWait(id)) return this.sessionWaits.wait(id);
    if (params.finishDate) {
      // `wait.for` / `wait.until` longer than a few seconds: a checkpoint on Trigger.dev, a timer here.
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, params.finishDate!.getTime() - Date.now())));
      return { ok: true };
    }
    return this.callEngine({ op: "wait-token", waitpointId: id });
  }

  /** The backend registers a session waitpoint when the SDK creates it; its map is private in the type only. */
  private isSessionWait(id: string) {
    return (this.sessionWaits as unknown as { pending: Map<string, unknown> }).pending.has(id);
  }
}

const GLOBAL_API = Symbol.for("dev.trigger.ts.api");

/**
 * Gives the boot-time manager (`run-metadata.server.ts`) its run. `runInMockTaskContext` has just put an
 * in-memory manager, which never leaves the thread, in its place; this puts
 * the real one back.
 */
export function startRunMetadata(
  manager: StandardMetadataManager,
  run: { id: string; isRoot: boolean; metadata: Record<string, DeserializedJson> },
) {
  const globals = (globalThis as Record<symbol, Record<string, unknown> | undefined>)[GLOBAL_API];
  if (!globals || !("run-metadata" in globals)) {
    throw new Error(
      "@trigger.dev/core changed: the run-metadata global is missing; the engine's worker needs updating",
    );
  }
  manager.runId = run.id;
  manager.runIdIsRoot = run.isRoot;
  manager.enterWithMetadata(run.metadata);
  manager.startPeriodicFlush(1_000);
  globals["run-metadata"] = manager;
}
