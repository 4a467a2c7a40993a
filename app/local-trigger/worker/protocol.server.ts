import type { DeserializedJson } from "@trigger.dev/core";
import type { BatchTaskRunExecutionResult, TaskRunError, TaskRunExecutionResult } from "@trigger.dev/core/v3";
import type { NewRecord, StreamRecord } from "../storage/record-stream.server";
import type { ForwardedLogLevel } from "./task-logger.server";

/** Everything a worker needs at boot; a booted worker waits in the warm pool until it is given a run. */
export type WorkerBootData = {
  /** The engine's loopback URL: the agent's API client, `.in` tail and token minting go here. */
  apiURL: string;
  secretKey: string;
  /** What the engine's `jwt/claims` endpoint answers for `secretKey`. */
  secretKeyClaims: Record<string, unknown>;
  /** Bundled task modules to import, with the source path each task reports as its file. */
  taskModules: { bundlePath: string; sourcePath: string }[];
  /** Chunks the SDK loads lazily (`await import(...)`); loading them at boot keeps that off a turn's critical path. */
  lazyChunks: string[];
  /**
   * Boot through a throwaway chat turn too: a spare for the warm pool has the time, and its first
   * real turn then runs compiled code. A worker a run is already waiting for skips it.
   */
  warmUpChatTurn: boolean;
};

export type RunAssignment = {
  runId: string;
  taskId: string;
  payload: Record<string, unknown>;
  attempt: number;
  /** A triggered run's payload as the SDK serialised it; parsed in the worker, as Trigger.dev's runtime does. */
  payloadPacket?: IOPacket;
  /** A triggered run's context and starting metadata. */
  triggered?: {
    metadata: Record<string, DeserializedJson>;
    tags: string[];
    isTest: boolean;
    createdAt: string;
    parentRunId?: string;
    rootRunId?: string;
  };
};

/** A value as the SDK serialises it (`stringifyIO`): JSON or SuperJSON text and its type. */
export type IOPacket = { data?: string; dataType: string };

/** What `runtime.waitForWaitpoint` hands back to the SDK (`WaitpointTokenResult`). */
export type WaitpointResult = { ok: boolean; output?: string; outputType?: string };

/**
 * Calls a run makes into the engine thread instead of over HTTP: `.out`
 * writes (which production sends to S2, unreachable here), transcript
 * snapshot I/O (which production sends to object storage), its `.in` tail
 * (SSE in production), and the waits that suspend a run on Trigger.dev (here
 * the thread waits in memory).
 */
export type EngineCall =
  | { op: "out-append"; sessionId: string; channel?: string; records: NewRecord[] }
  | { op: "out-trim"; sessionId: string; channel?: string; trimTo: number }
  | { op: "snapshot-write"; sessionId: string; blob: string }
  | { op: "snapshot-read"; sessionId: string }
  /**
   * A channel's records from `fromSeq` on, as its SSE stream serves them: at once when there are any, else
   * once one is appended, or none after `waitMs`.
   */
  | { op: "channel-read"; sessionId: string; io: "in" | "out"; channel?: string; fromSeq: number; waitMs: number }
  /** `triggerAndWait`: resolves when the child run ends, with its output or error. */
  | { op: "wait-run"; runId: string }
  /** `batchTriggerAndWait`: resolves when every run of the batch has ended, with their results in order. */
  | { op: "wait-batch"; batchId: string }
  /** `wait.forToken`: resolves when the token is completed or times out. */
  | { op: "wait-token"; waitpointId: string };

/** The calls that act on the run's session, and those that wait for another run or a token. */
export type SessionCall = Extract<EngineCall, { sessionId: string }>;
export type WaitCall = Exclude<EngineCall, SessionCall>;
export const isWaitCall = (call: EngineCall): call is WaitCall => call.op.startsWith("wait-");

export type EngineCallResult = {
  "out-append": { start: number; end: number };
  "out-trim": { start: number; end: number };
  "snapshot-write": null;
  "snapshot-read": string | null;
  "channel-read": StreamRecord[];
  "wait-run": TaskRunExecutionResult;
  "wait-batch": BatchTaskRunExecutionResult;
  "wait-token": WaitpointResult;
};

export type ParentToWorker =
  | { type: "start"; run: RunAssignment }
  | { type: "call-result"; requestId: number; value: unknown }
  | { type: "call-error"; requestId: number; message: string };

export type WorkerToParent =
  /** `chatTurnWarm`: the throwaway chat turn ran, so the first real turn starts on compiled code. */
  | { type: "ready"; taskIds: string[]; chatTurnWarm: boolean }
  | { type: "log"; level: ForwardedLogLevel; line: string }
  | { type: "boot-failed"; error: string }
  | { type: "call"; requestId: number; call: EngineCall }
  /** The run is suspending on an `.in` waitpoint after its idle timeout (a checkpoint on Trigger.dev). */
  | { type: "suspended" }
  /** A failed run's `retryInMs` says when to start its next attempt, as the SDK's task executor decides; none: fail for good. */
  | {
      type: "exit";
      status: "COMPLETED" | "FAILED";
      error?: string;
      retryInMs?: number;
      output?: IOPacket;
      taskError?: TaskRunError;
    };
