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
 * A channel whose session does not exist yet: `wait` calls back with its log
 * once the session is created, and returns the way to stop waiting.
 */
export type AwaitedStream = { wait: (onReady: (open: () => RecordStream) => void) => () => void };

/**
 * Serves a channel as the v2 SSE stream the SDK's `SSEStreamSubscription`
 * parses: `batch` events of S2 records, `ping` while idle, `[DONE]` before a
 * clean close. The SDK reads `X-Stream-Version` to pick its parser. For an
 * awaited channel it pings until the session is created, then serves it; the
 * Timeout-Seconds window bounds the wait.
 */
export function sseResponse(
  source: RecordStream | AwaitedStream,
  options: SseOptions,
  registry: Set<LiveSse>,
): Response {
  let stream = "wait" in source ? undefined : source;
  const settled = !!stream && options.peekSettled && controlSubtype(stream.lastNonCommand()) === "turn-complete";
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
        if (!stream) return;
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
      let unsubscribe = () => {};
      let unsubscribeDeleted = () => {};
      const follow = (ready: RecordStream) => {
        stream = ready;
        // Coalesce appends into one batch event: all that land in the same tick, and all the worker messages
        // handled in the same turn of the event loop (a fast model sends many), at no cost in latency.
        unsubscribe = ready.onAppend(() => {
          if (flushScheduled) return;
          flushScheduled = true;
          setImmediate(flush);
        });
        // A deleted session's readers are ended, as a long-poll window ends; reconnecting finds no session.
        unsubscribeDeleted = ready.onDeleted(() => finish());
      };
      let stopWaiting = () => {};
      if (stream) follow(stream);
      else
        stopWaiting = (source as AwaitedStream).wait((open) => {
          stopWaiting = () => {};
          if (closed) return;
          try {
            follow(open());
          } catch {
            // Its log cannot be opened (a failing disk, or deleted at once): the client reconnects and is told.
            live.drop();
            return;
          }
          flush();
        });
      const ping = setInterval(() => {
        const tail = stream?.tail ?? { seq_num: 0, timestamp: Date.now() };
        write(`event: ping\ndata: ${JSON.stringify({ timestamp: Date.now(), tail })}\n\n`);
      }, options.pingIntervalMs);
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
        stopWaiting();
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
