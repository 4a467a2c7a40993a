import type { NewRecord } from "../record-stream";

/** Everything a worker needs at boot; a booted worker waits in the warm pool until it is given a run. */
export type WorkerBootData = {
  /** The engine's loopback URL: the agent's API client, `.in` tail and snapshot I/O go here. */
  apiURL: string;
  secretKey: string;
  /** Bundled task modules to import, with the source path each task reports as its file. */
  taskModules: { bundlePath: string; sourcePath: string }[];
  /** Chunks the SDK loads lazily (`await import(...)`); loading them at boot keeps that off a turn's critical path. */
  lazyChunks: string[];
};

export type RunAssignment = {
  runId: string;
  taskId: string;
  payload: Record<string, unknown>;
  attempt: number;
};

export type OutWrite =
  | { records: NewRecord[] }
  | { trimTo: number };

export type ParentToWorker =
  | { type: "start"; run: RunAssignment }
  | { type: "out-result"; requestId: number; start: number; end: number }
  | { type: "out-error"; requestId: number; message: string };

export type WorkerToParent =
  | { type: "ready"; taskIds: string[] }
  | { type: "boot-failed"; error: string }
  | ({ type: "out"; requestId: number; sessionId: string; channel?: string } & OutWrite)
  | { type: "exit"; status: "COMPLETED" | "FAILED"; error?: string };
