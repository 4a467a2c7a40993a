import { controlSubtype, type RecordStream } from "../storage/record-stream.server";

const encoder = new TextEncoder();
/** S2 caps a read batch at 1000 records; smaller batches keep each event modest. */
const MAX_RECORDS_PER_BATCH = 500;

export type SseOptions = {
  /** First seq to send. */
  fromSeq: number;
  /** Close with `[DONE]` after this long with no new record (the `Timeout-Seconds` long-poll window). */
  waitSeconds: number;
  /** Reconnect peek: if the stream's last real record is a turn-complete, answer settled and close at once. */
  peekSettled: boolean;
  pingIntervalMs: number;
  signal: AbortSignal;
};

export type LiveSse = {
  /** Cuts the connection, as a network drop would. */
  drop(): void;
  /** Ends the stream cleanly, as when its long-poll window ends: the client resumes from its last seq. */
  end(): void;
};

/**
 * Serves a channel as the v2 SSE stream the SDK's `SSEStreamSubscription`
 * parses: `batch` events of S2 records, `ping` while idle, `[DONE]` before a
 * clean close. The SDK reads `X-Stream-Version` to pick its parser.
 */
export function sseResponse(stream: RecordStream, options: SseOptions, registry: Set<LiveSse>): Response {
  const settled = options.peekSettled && controlSubtype(stream.lastNonCommand()) === "turn-complete";
  let cursor = options.fromSeq;
  let cleanup = () => {};

  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      let closed = false;
      let idleTimer: NodeJS.Timeout | undefined;
      let flushScheduled = false;

      const write = (text: string) => {
        if (!closed) controller.enqueue(encoder.encode(text));
      };
      const flush = () => {
        flushScheduled = false;
        if (closed) return;
        try {
          sendAvailable();
        } catch {
          // The log could not be read (a failing disk): drop the connection, so the client resumes from its last seq.
          live.drop();
        }
      };
      const sendAvailable = () => {
        for (;;) {
          const records = stream.readFrom(cursor, MAX_RECORDS_PER_BATCH);
          if (records.length === 0) break;
          const first = records[0]!.seq_num;
          cursor = records.at(-1)!.seq_num + 1;
          write(`event: batch\nid: ${first},${cursor},0\ndata: ${JSON.stringify({ records, tail: stream.tail })}\n\n`);
          armIdle();
        }
      };
      const finish = () => {
        if (closed) return;
        write("data: [DONE]\n\n");
        closed = true;
        cleanup();
        controller.close();
      };
      const armIdle = () => {
        clearTimeout(idleTimer);
        idleTimer = setTimeout(finish, options.waitSeconds * 1000);
      };
      // Coalesce appends into one batch event: all that land in the same tick, and all the worker messages
      // handled in the same turn of the event loop (a fast model sends many), at no cost in latency.
      const unsubscribe = stream.onAppend(() => {
        if (flushScheduled) return;
        flushScheduled = true;
        setImmediate(flush);
      });
      // A deleted session's readers are ended, as a long-poll window ends; reconnecting finds no session.
      const unsubscribeDeleted = stream.onDeleted(() => finish());
      const ping = setInterval(
        () => write(`event: ping\ndata: ${JSON.stringify({ timestamp: Date.now(), tail: stream.tail })}\n\n`),
        options.pingIntervalMs,
      );
      const live: LiveSse = {
        end: () => finish(),
        drop() {
          if (closed) return;
          closed = true;
          cleanup();
          controller.error(new Error("connection dropped by the engine"));
        },
      };
      registry.add(live);
      const onAbort = () => {
        if (closed) return;
        closed = true;
        cleanup();
      };
      cleanup = () => {
        clearTimeout(idleTimer);
        clearInterval(ping);
        unsubscribe();
        unsubscribeDeleted();
        registry.delete(live);
        options.signal.removeEventListener("abort", onAbort);
      };
      options.signal.addEventListener("abort", onAbort);

      flush();
      if (settled) finish();
      else armIdle();
    },
    cancel() {
      cleanup();
    },
  });

  return new Response(body, {
    status: 200,
    headers: {
      "Content-Type": "text/event-stream",
      "Cache-Control": "no-cache, no-transform",
      Connection: "keep-alive",
      "X-Accel-Buffering": "no",
      "X-Stream-Version": "v2",
      ...(settled ? { "X-Session-Settled": "true" } : {}),
    },
  });
}
