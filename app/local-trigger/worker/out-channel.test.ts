import { SessionOutputChannel } from "@trigger.dev/sdk";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { NewRecord } from "../storage/record-stream.server";
import type { EngineCall } from "./protocol.server";
import { installOutChannel, OUT_BATCH_WINDOW_MS } from "./out-channel.server";

type Call = { call: EngineCall; answer: (start: number) => void; fail: (error: Error) => void };

/** The engine thread, answering each call only when the test says so. */
const calls: Call[] = [];
beforeAll(() => {
  installOutChannel(
    (call) =>
      new Promise((resolve, reject) => {
        const count = call.op === "out-append" ? call.records.length : 1;
        calls.push({ call, answer: (start) => resolve({ start, end: start + count } as never), fail: reject });
      }),
  );
});
afterEach(() => {
  calls.length = 0;
  vi.useRealTimers();
});

/** What each call carried: the chunks of data records, the headers of control records, or the trim. */
const sent = () =>
  calls.map(({ call }) =>
    call.op === "out-append"
      ? call.records.map((record: NewRecord) =>
          record.body ? (JSON.parse(record.body) as { data: unknown }).data : record.headers,
        )
      : { trimTo: (call as { trimTo: number }).trimTo },
  );
/** Until the thread has nothing else to do, when what waits is sent. */
const idle = () => new Promise((resolve) => setImmediate(resolve));
const later = (ms: number) => vi.advanceTimersByTime(ms);
/** The stream's reads run, and the thread never gets idle. */
const busy = async () => {
  for (let turn = 0; turn < 100; turn++) await Promise.resolve();
};

describe("the worker's session.out", () => {
  it("sends a chunk at once, and the chunks written right after it together once the thread is idle", async () => {
    // The clock stands still: everything after the first chunk is within its window.
    vi.useFakeTimers({ toFake: ["performance"] });
    const channel = new SessionOutputChannel("session_batched");
    let source!: ReadableStreamDefaultController<string>;
    const piped = channel.pipe(new ReadableStream<string>({ start: (c) => void (source = c) }));
    source.enqueue("w1");
    await idle();
    expect(sent()).toEqual([["w1"]]);
    for (const word of ["w2", "w3", "w4"]) source.enqueue(word);
    source.close();
    await idle();
    await idle();
    expect(sent()).toEqual([["w1"], ["w2", "w3", "w4"]]);
    calls[0]!.answer(10);
    calls[1]!.answer(11);
    expect(await piped.waitUntilComplete()).toEqual({ lastEventId: "13" });
  });

  it("sends an answer's first words at once, with what waits before them, and batches the words after them", async () => {
    // The clock stands still: every chunk after the start is within its window.
    vi.useFakeTimers({ toFake: ["performance"] });
    const channel = new SessionOutputChannel("session_first_words");
    let source!: ReadableStreamDefaultController<unknown>;
    channel.pipe(new ReadableStream<unknown>({ start: (c) => void (source = c) }));
    const start = { type: "start", messageId: "m1" };
    const textStart = { type: "text-start", id: "t" };
    const word = (delta: string) => ({ type: "text-delta", id: "t", delta });
    source.enqueue(start);
    await busy();
    expect(sent()).toEqual([[start]]);
    source.enqueue(textStart);
    source.enqueue(word(""));
    source.enqueue(word("Hello"));
    // Read, but the thread never idle: only chunks that cannot wait have gone.
    await busy();
    expect(sent()).toEqual([[start], [textStart, word(""), word("Hello")]]);
    source.enqueue(word(" there"));
    source.enqueue(word(" again"));
    source.close();
    await idle();
    await idle();
    expect(sent()).toEqual([[start], [textStart, word(""), word("Hello")], [word(" there"), word(" again")]]);
  });

  it("does not hold a busy thread's records longer than the window", () => {
    vi.useFakeTimers({ toFake: ["performance"] });
    const channel = new SessionOutputChannel("session_busy");
    // Written without the thread ever becoming idle, as a fast model's chunks are.
    void channel.writeControl("a");
    void channel.writeControl("b");
    later(OUT_BATCH_WINDOW_MS / 2);
    void channel.writeControl("c");
    expect(sent()).toEqual([[[["trigger-control", "a"]]]]);
    later(OUT_BATCH_WINDOW_MS / 2);
    void channel.writeControl("d");
    expect(sent()).toEqual([
      [[["trigger-control", "a"]]],
      [[["trigger-control", "b"]], [["trigger-control", "c"]], [["trigger-control", "d"]]],
    ]);
  });

  it("keeps the agent's order across records, control records and trims, each trim in a call of its own", async () => {
    const channel = new SessionOutputChannel("session_ordered");
    const first = channel.writeControl("first");
    const trimmed = channel.trimTo(5);
    const second = channel.writeControl("second");
    const third = channel.writeControl("third");
    await idle();
    expect(sent()).toEqual([
      [[["trigger-control", "first"]]],
      { trimTo: 5 },
      [[["trigger-control", "second"]], [["trigger-control", "third"]]],
    ]);
    calls[0]!.answer(7);
    calls[1]!.answer(8);
    calls[2]!.answer(9);
    expect(await Promise.all([first, trimmed, second, third])).toEqual([
      { lastEventId: "7" },
      undefined,
      { lastEventId: "9" },
      { lastEventId: "10" },
    ]);
  });

  it("fails the writes of a call the engine refused, and not the others", async () => {
    const channel = new SessionOutputChannel("session_refused");
    const first = channel.writeControl("one");
    await idle();
    const second = channel.writeControl("two");
    await idle();
    calls[0]!.fail(new Error("The session's output stream is over its limit"));
    calls[1]!.answer(3);
    await expect(first).rejects.toThrow(/over its limit/);
    expect(await second).toEqual({ lastEventId: "3" });
  });
});
