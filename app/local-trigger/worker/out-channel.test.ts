import { SessionOutputChannel } from "@trigger.dev/sdk";
import { beforeAll, describe, expect, it } from "vitest";
import type { NewRecord } from "../storage/record-stream.server";
import type { EngineCall } from "./protocol.server";
import { installOutChannel } from "./out-channel.server";

type Call = { call: EngineCall; answer: (start: number) => void; fail: (error: Error) => void };

/** The engine thread, answering each call only when the test says so. */
const calls: Call[] = [];
beforeAll(() => {
  installOutChannel(
    (call) =>
      new Promise((resolve, reject) => {
        const count = call.op === "out-append" ? call.records.length : 1;
        calls.push({
          call,
          answer: (start) => resolve({ start, end: start + count } as never),
          fail: reject,
        });
      }),
  );
});

const settle = () => new Promise((resolve) => setTimeout(resolve, 5));
const bodies = (call: EngineCall) =>
  call.op === "out-append"
    ? call.records.map((record: NewRecord) => JSON.parse(record.body || "{}").data ?? record.headers)
    : call;

describe("the worker's session.out", () => {
  it("sends the first chunk at once and the chunks written meanwhile together in the next call", async () => {
    calls.length = 0;
    const channel = new SessionOutputChannel("session_batched");
    let source!: ReadableStreamDefaultController<string>;
    const { waitUntilComplete } = channel.pipe(new ReadableStream<string>({ start: (c) => void (source = c) }));

    source.enqueue("w1");
    await settle();
    expect(calls.map(({ call }) => bodies(call))).toEqual([["w1"]]);
    for (const word of ["w2", "w3", "w4"]) source.enqueue(word);
    source.close();
    await settle();
    // Nothing more goes until the engine has answered the first call.
    expect(calls).toHaveLength(1);

    calls[0]!.answer(10);
    await settle();
    expect(calls.map(({ call }) => bodies(call))).toEqual([["w1"], ["w2", "w3", "w4"]]);
    calls[1]!.answer(11);
    expect(await waitUntilComplete()).toEqual({ lastEventId: "13" });
  });

  it("keeps the agent's order across records, control records and trims", async () => {
    calls.length = 0;
    const channel = new SessionOutputChannel("session_ordered");
    let source!: ReadableStreamDefaultController<string>;
    const piped = channel.pipe(new ReadableStream<string>({ start: (c) => void (source = c) }));
    source.enqueue("a");
    await settle();
    source.enqueue("b");
    await settle();
    const trimmed = channel.trimTo(5);
    source.enqueue("c");
    source.close();
    await settle();
    const control = channel.writeControl("turn-complete");

    calls[0]!.answer(7);
    await settle();
    calls[1]!.answer(8);
    await settle();
    calls[2]!.answer(9);
    await settle();
    calls[3]!.answer(10);
    expect(calls.map(({ call }) => call.op)).toEqual(["out-append", "out-append", "out-trim", "out-append"]);
    expect(bodies(calls[3]!.call)).toEqual(["c", [["trigger-control", "turn-complete"]]]);
    await trimmed;
    expect(await piped.waitUntilComplete()).toEqual({ lastEventId: "10" });
    expect(await control).toEqual({ lastEventId: "11" });
  });

  it("fails the writes of a call the engine refused, and goes on with the next", async () => {
    calls.length = 0;
    const channel = new SessionOutputChannel("session_refused");
    const first = channel.writeControl("one");
    const second = channel.writeControl("two");
    calls[0]!.fail(new Error("The session's output stream is over its limit"));
    await expect(first).rejects.toThrow(/over its limit/);
    await settle();
    calls[1]!.answer(3);
    expect(await second).toEqual({ lastEventId: "3" });
  });
});
