import { ApiClient } from "@trigger.dev/core/v3";
import { controlSubtype, isCommandRecord, type StreamRecord } from "../storage/record-stream.server";
import { isEngineClient } from "./engine-api.server";
import type { EngineClient } from "./engine-client.server";

type SubscribeOptions = NonNullable<Parameters<ApiClient["subscribeToSessionStream"]>[2]>;
type SessionPart = Parameters<NonNullable<SubscribeOptions["onPart"]>>[0];

/** How long one read waits for a record before it asks again: bounds what a read left behind by a cancel holds. */
export const CHANNEL_READ_WAIT_MS = 20_000;
/** Record ids remembered to drop a replayed record, as the SDK's SSE reader does. */
const SEEN_IDS_CAP = 5_000;

/**
 * An agent tails its session's `.in` (its messages, stops and actions) over
 * SSE. On the engine's own client that subscription is served over the
 * worker's port instead: a message reaches the agent without loopback HTTP,
 * SSE framing and a stream parser on both threads, and a new run's first
 * turn does not compile the HTTP client's streaming path. The records and
 * what the SDK's reader makes of them are the same: command records are
 * skipped, a replayed record id is dropped, control records go to
 * `onControl`, and every record to `onPart`. Other clients, `.out` and reads
 * from the latest record still go over HTTP.
 */
export function installInChannel(
  { apiURL, secretKey }: { apiURL: string; secretKey: string },
  callEngine: EngineClient,
) {
  const prototype = ApiClient.prototype;
  const overHttp = prototype.subscribeToSessionStream;
  if (typeof overHttp !== "function") {
    throw new Error(
      "@trigger.dev/core changed: ApiClient.subscribeToSessionStream is missing; the engine's worker needs updating",
    );
  }
  const isEngine = isEngineClient({ apiURL, secretKey });
  prototype.subscribeToSessionStream = async function (
    this: ApiClient,
    ...args: Parameters<ApiClient["subscribeToSessionStream"]>
  ) {
    const [sessionId, io, options] = args;
    const ours =
      io === "in" &&
      (options?.from === undefined || options.from === "beginning") &&
      isEngine(this, "subscribeToSessionStream", options?.baseUrl);
    if (!ours) return overHttp.apply(this, args);
    return subscribeOverPort(callEngine, sessionId, options ?? {});
  } as ApiClient["subscribeToSessionStream"];
}

function subscribeOverPort(callEngine: EngineClient, sessionId: string, options: SubscribeOptions) {
  const { signal, channel, lastEventId, onPart, onControl, onComplete, onError } = options;
  let cursor = lastEventId === undefined ? 0 : Number(lastEventId) + 1;
  const seenIds = new Set<string>();
  let completed = false;
  let cancelled = false;
  const complete = () => {
    if (completed) return;
    completed = true;
    onComplete?.();
  };
  const aborted = new Promise<"aborted">((resolve) => {
    if (signal?.aborted) resolve("aborted");
    signal?.addEventListener("abort", () => resolve("aborted"), { once: true });
  });

  return new ReadableStream<unknown>({
    async pull(controller) {
      for (;;) {
        if (signal?.aborted) {
          complete();
          controller.close();
          return;
        }
        let records: StreamRecord[] | "aborted";
        try {
          records = await Promise.race([
            callEngine({
              op: "channel-read",
              sessionId,
              io: "in",
              ...(channel ? { channel } : {}),
              fromSeq: cursor,
              waitMs: CHANNEL_READ_WAIT_MS,
            }),
            aborted,
          ]);
        } catch (error) {
          onError?.(error as Error);
          controller.error(error);
          return;
        }
        if (records === "aborted") continue;
        // Its reader went while the read waited: what came is left for the next subscription.
        if (cancelled) return;
        let delivered = false;
        for (const record of records) {
          cursor = record.seq_num + 1;
          const part = partOf(record, seenIds);
          if (!part) continue;
          onPart?.(part);
          const subtype = controlSubtype(record);
          if (subtype) {
            onControl?.({ subtype, headers: record.headers, seqNum: record.seq_num, timestamp: record.timestamp });
            continue;
          }
          controller.enqueue(part.chunk);
          delivered = true;
        }
        if (delivered) return;
      }
    },
    cancel() {
      cancelled = true;
      complete();
    },
  });
}

/** A record as the SDK's SSE reader hands it on; none for a command record or a record id already seen. */
function partOf(record: StreamRecord, seenIds: Set<string>): SessionPart | undefined {
  if (isCommandRecord(record)) return undefined;
  const envelope = parseEnvelope(record.body);
  if (typeof envelope?.id === "string") {
    if (seenIds.has(envelope.id)) return undefined;
    seenIds.add(envelope.id);
    if (seenIds.size > SEEN_IDS_CAP) seenIds.delete(seenIds.values().next().value!);
  }
  return {
    recordId: typeof envelope?.id === "string" ? envelope.id : undefined,
    id: String(record.seq_num),
    chunk: envelope?.data,
    timestamp: record.timestamp,
    headers: record.headers,
  } as SessionPart;
}

function parseEnvelope(body: string): { id?: unknown; data?: unknown } | undefined {
  if (!body) return undefined;
  try {
    const parsed: unknown = JSON.parse(body);
    return typeof parsed === "object" && parsed !== null ? parsed : undefined;
  } catch {
    return undefined;
  }
}
