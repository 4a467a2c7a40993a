const KiB = 1024;
const MiB = 1024 * KiB;

/** Request bodies are refused past these sizes before they are read; Trigger.dev's own limits where it has one. */
export const BODY_LIMITS = {
  createSession: 32 * KiB,
  updateSession: 32 * KiB,
  closeSession: 1 * KiB,
  endAndContinue: 1 * KiB,
  /** One record; S2's per-record ceiling is about 1 MiB. */
  append: 1 * MiB,
  snapshot: 64 * MiB,
  /** A trigger's payload, and a token's completion data, as Trigger.dev's default `TASK_PAYLOAD_MAXIMUM_SIZE`. */
  trigger: 3 * MiB,
  completeToken: 3 * MiB,
  /** A metadata flush: operations on a run's 256 KiB of metadata, its parent's and its root's. */
  metadata: 1 * MiB,
  createToken: 32 * KiB,
  createBatch: 32 * KiB,
  /** A batch's items in one request; each item's payload is under the 128 KiB the SDK offloads past. */
  batchItems: 16 * MiB,
  waitFor: 4 * KiB,
} as const;

/**
 * What a session's client-writable streams may hold (records and bytes not
 * yet trimmed). A chat message is a few KiB and `.in` is never trimmed, so
 * the chat input allows a long conversation with attachments; side channels
 * carry small control records.
 */
export type InputQuotas = Record<"chat" | "channel", { records: number; bytes: number }>;
export const INPUT_QUOTAS: InputQuotas = {
  chat: { records: 10_000, bytes: 16 * MiB },
  channel: { records: 10_000, bytes: 4 * MiB },
};

export const MAX_CHANNELS_PER_SESSION = 8;

/** Side-channel names: short, and free of the `:` and `/` that scopes and paths use as separators. */
export const CHANNEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Live `.out` bytes (what trims have not yet dropped) one channel may hold; written by the agent. */
export const OUT_CHANNEL_MAX_BYTES = 64 * MiB;

/** JSON nested deeper than this is refused: no use to anyone, and it overflows the stack of whatever serialises it next. */
export const MAX_JSON_DEPTH = 64;

/** A chat message is a few parts; a flood of them only costs time to check and to send to the model. */
export const MAX_PARTS_PER_MESSAGE = 1_000;

/** How much of each open channel log stays in memory, and how many logs stay open. */
export const STREAM_MEMORY = { records: 256, bytes: 256 * KiB } as const;
export const MAX_OPEN_STREAMS = 512;

/**
 * SSE readers that may wait, all together, for a session that does not exist
 * yet (upstream lets a client subscribe to a chat id before its session is
 * created). Each holds a connection until the session comes or its
 * Timeout-Seconds window ends; past this many, more are refused with a 503.
 */
export const MAX_READERS_WAITING_FOR_SESSIONS = 1_024;

/** How long new work waits for a run slot when every slot is mid-turn, and how many may wait. */
export const RUN_QUEUE = { waitMs: 15_000, maxWaiting: 256 } as const;

/**
 * Each worker thread's V8 limits. V8's default young generation (up to 48 MiB
 * on 64-bit) is sized for a whole process; a run streams small chunks, and
 * 8 MiB saves about 20 MiB of resident memory per thread for about 5 % more
 * CPU per streamed chunk (`npm run bench:engine`, `npm run bench:capacity`).
 */
export const WORKER_RESOURCE_LIMITS = { maxYoungGenerationSizeMb: 8 } as const;
