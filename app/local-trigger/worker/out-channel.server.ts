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
  const send = (self: ChannelSelf, records: NewRecord[]): Promise<OutResult> =>
    callEngine({ op: "out-append", sessionId: self.sessionId, channel: self.channel, records });

  const dataRecord = (chunk: unknown): NewRecord => ({ body: JSON.stringify({ data: chunk, id: randomUUID() }) });

  function pipe(this: ChannelSelf, value: ReadableStream | AsyncIterable<unknown>, options?: { signal?: AbortSignal }) {
    const source = value instanceof ReadableStream ? value : streamOf(value);
    const [ours, callers] = source.tee();
    const writes: Promise<OutResult>[] = [];
    const drained = (async () => {
      const reader = ours.getReader();
      for (;;) {
        if (options?.signal?.aborted) {
          await reader.cancel();
          break;
        }
        const { done, value: chunk } = await reader.read();
        if (done) break;
        writes.push(send(this, [dataRecord(chunk)]));
      }
      return Promise.all(writes);
    })();
    return {
      stream: callers,
      waitUntilComplete: async () => {
        const results = await drained;
        const last = results.at(-1);
        return { lastEventId: last ? String(last.end - 1) : undefined };
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
    const result = await send(this, [{ body: "", headers: [["trigger-control", subtype], ...(extraHeaders ?? [])] }]);
    return { lastEventId: String(result.start) };
  }

  async function trimTo(this: ChannelSelf, earliestSeqNum: number) {
    await callEngine({ op: "out-trim", sessionId: this.sessionId, channel: this.channel, trimTo: earliestSeqNum });
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
