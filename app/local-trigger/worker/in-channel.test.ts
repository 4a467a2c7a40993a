import { ApiClient } from "@trigger.dev/core/v3";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { StreamRecord } from "../storage/record-stream.server";
import { CHANNEL_READ_WAIT_MS, installInChannel } from "./in-channel.server";
import type { EngineCall } from "./protocol.server";

const API_URL = "http://127.0.0.1:4567";
const SECRET_KEY = "tr_dev_engine";

type Read = { call: Extract<EngineCall, { op: "channel-read" }>; answer: (records: StreamRecord[]) => void };
const reads: Read[] = [];
let refuseNext: Error | undefined;
const overHttp = vi.fn(async () => new ReadableStream());
const original = ApiClient.prototype.subscribeToSessionStream;

beforeAll(() => {
  ApiClient.prototype.subscribeToSessionStream = overHttp as unknown as typeof original;
  installInChannel({ apiURL: `${API_URL}/`, secretKey: SECRET_KEY }, ((call: Read["call"]) => {
    if (refuseNext) {
      const error = refuseNext;
      refuseNext = undefined;
      return Promise.reject(error);
    }
    return new Promise((resolve) => reads.push({ call, answer: resolve as Read["answer"] }));
  }) as never);
});
afterAll(() => {
  ApiClient.prototype.subscribeToSessionStream = original;
});

const engineClient = () => new ApiClient(API_URL, SECRET_KEY);
const record = (seq: number, body: string, headers: [string, string][] = []): StreamRecord => ({
  seq_num: seq,
  timestamp: 1_700_000_000_000 + seq,
  body,
  headers,
});
const data = (seq: number, id: string, chunk: unknown) => record(seq, JSON.stringify({ data: chunk, id }));
const nextRead = () => vi.waitFor(() => reads.shift() ?? Promise.reject(new Error("no read yet")));

describe("the worker's session.in", () => {
  it("reads the engine's own .in over the port as the SDK's SSE reader would hand it on", async () => {
    const onPart = vi.fn();
    const onControl = vi.fn();
    const stream = await engineClient().subscribeToSessionStream("session_1", "in", {
      lastEventId: "4",
      timeoutInSeconds: 600,
      onPart,
      onControl,
    });
    const reader = stream.getReader();
    const first = reader.read();
    const read = await nextRead();
    expect(read.call).toEqual({
      op: "channel-read",
      sessionId: "session_1",
      io: "in",
      fromSeq: 5,
      waitMs: CHANNEL_READ_WAIT_MS,
    });
    read.answer([
      record(5, "", [["", "trim"]]), // an S2 command: not data
      record(6, "", [["trigger-control", "turn-complete"]]),
      data(7, "r7", '{"kind":"message"}'),
      data(8, "r7", '{"kind":"message"}'), // the same record again: dropped
      data(9, "r9", '{"kind":"stop"}'),
    ]);
    expect(await first).toEqual({ done: false, value: '{"kind":"message"}' });
    expect(await reader.read()).toEqual({ done: false, value: '{"kind":"stop"}' });
    expect(onControl).toHaveBeenCalledWith({
      subtype: "turn-complete",
      headers: [["trigger-control", "turn-complete"]],
      seqNum: 6,
      timestamp: 1_700_000_000_006,
    });
    expect(onPart.mock.calls.map(([part]) => part.id)).toEqual(["6", "7", "9"]);
    expect(onPart.mock.calls[1]![0]).toEqual({
      recordId: "r7",
      id: "7",
      chunk: '{"kind":"message"}',
      timestamp: 1_700_000_000_007,
      headers: [],
    });

    // Read on from after the last record, the command and the duplicate included.
    const next = reader.read();
    const waiting = await nextRead();
    expect(waiting.call.fromSeq).toBe(10);
    await reader.cancel();
    await next;
    // What the read brings after its reader went is not handed to anyone.
    waiting.answer([data(10, "r10", '{"kind":"message"}')]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(onPart.mock.calls.map(([part]) => part.id)).toEqual(["6", "7", "9"]);
    expect(overHttp).not.toHaveBeenCalled();
  });

  it("asks again when a read comes back empty, and ends when the subscription is aborted mid-read", async () => {
    const abort = new AbortController();
    const onComplete = vi.fn();
    const stream = await engineClient().subscribeToSessionStream("session_2", "in", {
      signal: abort.signal,
      onComplete,
    });
    const reader = stream.getReader();
    const pending = reader.read();
    (await nextRead()).answer([]); // its wait ran out with nothing new
    expect((await nextRead()).call.fromSeq).toBe(0);
    abort.abort();
    expect(await pending).toEqual({ done: true, value: undefined });
    expect(onComplete).toHaveBeenCalledTimes(1);
  });

  it("fails the stream when the engine refuses the read", async () => {
    const onError = vi.fn();
    refuseNext = new Error("run run_1 may not use session session_3");
    const stream = await engineClient().subscribeToSessionStream("session_3", "in", { onError });
    await expect(stream.getReader().read()).rejects.toThrow("may not use session");
    expect(onError).toHaveBeenCalledTimes(1);
  });

  it("leaves other clients, .out and reads from the latest record to HTTP", async () => {
    overHttp.mockClear();
    await new ApiClient(API_URL, "tr_dev_someone_else").subscribeToSessionStream("s", "in");
    await new ApiClient("http://127.0.0.1:9999", SECRET_KEY).subscribeToSessionStream("s", "in");
    await engineClient().subscribeToSessionStream("s", "in", { baseUrl: "http://127.0.0.1:9999" });
    await engineClient().subscribeToSessionStream("s", "out");
    await engineClient().subscribeToSessionStream("s", "in", { from: "latest" } as never);
    expect(overHttp).toHaveBeenCalledTimes(5);
    expect(reads).toHaveLength(0);
  });
});
