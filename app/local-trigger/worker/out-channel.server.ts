import { randomUUID } from "node:crypto";
import { SessionOutputChannel } from "@trigger.dev/sdk";
import type { NewRecord, RecordHeader } from "../storage/record-stream.server";
import type { EngineClient } from "./engine-client.server";

type OutResult = { start: number; end: number };
type ChannelSelf = { sessionId: string; channel?: string };
type WriterOptions = {
  signal?: AbortSignal;
  execute: (writer: { write: (part: unknown) => void; merge: (stream: ReadableStream) => void }) => unknown;
};

/**
 * In production `session.out` gets S2 credentials and streams records to S2
 * over HTTP/2, which an in-process engine cannot serve. This replaces the
 * writer methods on the prototype (so side channels the SDK constructs itself
 * are covered too) with calls to the engine thread, which keep the order the
 * agent wrote in.
 */
export function installOutChannel(callEngine: EngineClient) {
  const queues = new Map<string, OutQueue>();
  const queueOf = ({ sessionId, channel }: ChannelSelf) => {
    const key = `${sessionId}\n${channel ?? ""}`;
    let queue = queues.get(key);
    if (!queue) {
      queue = new OutQueue(
        (records) => callEngine({ op: "out-append", sessionId, channel, records }),
        (trimTo) => callEngine({ op: "out-trim", sessionId, channel, trimTo }),
      );
      queues.set(key, queue);
    }
    return queue;
  };

  const dataRecord = (chunk: unknown): NewRecord => ({ body: JSON.stringify({ data: chunk, id: randomUUID() }) });

  function pipe(this: ChannelSelf, value: ReadableStream | AsyncIterable<unknown>, options?: { signal?: AbortSignal }) {
    const source = value instanceof ReadableStream ? value : streamOf(value);
    const [ours, callers] = source.tee();
    const queue = queueOf(this);
    const written: Promise<number>[] = [];
    let wordsSent = false;
    const drained = (async () => {
      const reader = ours.getReader();
      for (;;) {
        if (options?.signal?.aborted) {
          await reader.cancel();
          break;
        }
        const { done, value: chunk } = await reader.read();
        if (done) break;
        // The answer's first words are what the reader waits for: they go at once, with what waits before them.
        const firstWords = !wordsSent && carriesWords(chunk);
        if (firstWords) wordsSent = true;
        written.push(queue.append(dataRecord(chunk), firstWords));
      }
      return Promise.all(written);
    })();
    return {
      stream: callers,
      waitUntilComplete: async () => {
        const seqs = await drained;
        const last = seqs.at(-1);
        return { lastEventId: last === undefined ? undefined : String(last) };
      },
    };
  }

  function writer(this: ChannelSelf, options: WriterOptions) {
    let controller!: ReadableStreamDefaultController<unknown>;
    const stream = new ReadableStream({ start: (c) => void (controller = c) });
    const enqueue = (part: unknown) => {
      try {
        controller.enqueue(part);
      } catch {
        // The stream closed (cancelled run); late writes have nowhere to go.
      }
    };
    const ongoing: Promise<unknown>[] = [];
    try {
      const result = options.execute({
        write: enqueue,
        merge: (merged) =>
          void ongoing.push(
            (async () => {
              for await (const part of merged as unknown as AsyncIterable<unknown>) enqueue(part);
            })().catch((error) => console.error(error)),
          ),
      });
      if (result instanceof Promise) ongoing.push(result.catch((error) => console.error(error)));
    } catch (error) {
      console.error(error);
    }
    void (async () => {
      while (ongoing.length > 0) await ongoing.shift();
    })().finally(() => {
      try {
        controller.close();
      } catch {
        // Already closed.
      }
    });
    return pipe.call(this, stream, options);
  }

  async function writeControl(this: ChannelSelf, subtype: string, extraHeaders?: RecordHeader[]) {
    const seq = await queueOf(this).append({
      body: "",
      headers: [["trigger-control", subtype], ...(extraHeaders ?? [])],
    });
    return { lastEventId: String(seq) };
  }

  async function trimTo(this: ChannelSelf, earliestSeqNum: number) {
    await queueOf(this).trim(earliestSeqNum);
  }

  const prototype = SessionOutputChannel.prototype as unknown as Record<string, unknown>;
  // `append` routes through `writer`, so these four cover every write path.
  for (const method of ["pipe", "writer", "writeControl", "trimTo"]) {
    if (typeof prototype[method] !== "function") {
      throw new Error(
        `@trigger.dev/sdk changed: SessionOutputChannel.${method} is missing; the engine's writer needs updating`,
      );
    }
  }
  Object.assign(prototype, { pipe, writer, writeControl, trimTo });
}

/** A chunk of the answer's text or reasoning, which the page shows as it comes. */
function carriesWords(chunk: unknown) {
  if (typeof chunk !== "object" || chunk === null) return false;
  const { type, delta } = chunk as { type?: unknown; delta?: unknown };
  return (type === "text-delta" || type === "reasoning-delta") && typeof delta === "string" && delta !== "";
}

type Settle = { resolve: (seq: number) => void; reject: (error: unknown) => void };
type QueuedRecord = Settle & { record: NewRecord };
type Queued = QueuedRecord | (Settle & { trimTo: number });

/** How long the records written after a call to the engine wait to go together in the next one. */
export const OUT_BATCH_WINDOW_MS = 4;

/**
 * One channel's writes, in the order the agent made them. A model streams a
 * word or two per chunk, and a call per chunk cost a message between the
 * threads, a write to the log and an event on every reader's stream. So a
 * record goes at once when nothing went in the last few milliseconds, and
 * otherwise waits for the others written meanwhile: until the window has
 * passed, or until the thread has nothing else to do, whichever comes first.
 * An answer's first words do not wait: its start went a moment before them,
 * and a fast model keeps the thread busy until the window ends (traced: 3 ms
 * of a follow-up's first text). Calls need no answer before the next: the
 * engine takes them in order.
 */
class OutQueue {
  private waiting: Queued[] = [];
  private lastSentAt = Number.NEGATIVE_INFINITY;
  private flushScheduled = false;

  constructor(
    private readonly appendRecords: (records: NewRecord[]) => Promise<OutResult>,
    private readonly appendTrim: (trimTo: number) => Promise<OutResult>,
  ) {}

  /** Resolves with the record's sequence number once the engine has it. `now`: sent at once, with what waits before it. */
  append(record: NewRecord, now = false): Promise<number> {
    return new Promise((resolve, reject) => this.enqueue({ record, resolve, reject }, now));
  }

  /** A trim command, which takes a sequence number of its own, as in S2. */
  trim(trimTo: number): Promise<number> {
    return new Promise((resolve, reject) => this.enqueue({ trimTo, resolve, reject }));
  }

  private enqueue(entry: Queued, now = false) {
    this.waiting.push(entry);
    if (now || performance.now() - this.lastSentAt >= OUT_BATCH_WINDOW_MS) {
      this.sendWaiting();
    } else if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => {
        this.flushScheduled = false;
        this.sendWaiting();
      });
    }
  }

  private sendWaiting() {
    this.lastSentAt = performance.now();
    while (this.waiting.length > 0) {
      const first = this.waiting[0]!;
      let batch: Queued[];
      let sent: Promise<OutResult>;
      if ("trimTo" in first) {
        batch = [first];
        sent = this.appendTrim(first.trimTo);
      } else {
        // Records up to the next trim go in one call; a trim goes alone, in its place.
        const records: QueuedRecord[] = [];
        for (const entry of this.waiting) {
          if (!("record" in entry)) break;
          records.push(entry);
        }
        batch = records;
        sent = this.appendRecords(records.map((entry) => entry.record));
      }
      this.waiting = this.waiting.slice(batch.length);
      sent.then(
        ({ start }) => batch.forEach((entry, index) => entry.resolve(start + index)),
        (error: unknown) => batch.forEach((entry) => entry.reject(error)),
      );
    }
  }
}

function streamOf<T>(iterable: AsyncIterable<T>): ReadableStream<T> {
  const iterator = iterable[Symbol.asyncIterator]();
  return new ReadableStream<T>({
    async pull(controller) {
      const { done, value } = await iterator.next();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    async cancel(reason) {
      await iterator.return?.(reason);
    },
  });
}
