import { afterEach, describe, expect, it, vi } from "vitest";
import { CLAIM_WINDOW_MS, outPipeline } from "./out-pipeline";

const BASE = "http://app.test/local-trigger/realtime/v1/sessions/chat-1";
const APPEND = `${BASE}/in/append`;
const OUT = `${BASE}/out`;
const ctx = (endpoint: "in" | "out") => ({ endpoint, chatId: "chat-1" });

/** What the SDK's transport sends: the append, then (once it has answered) the stream request. */
const appendInit = (token = "tok-1"): RequestInit => ({
  method: "POST",
  headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}`, "X-Part-Id": "p1" },
  body: '{"kind":"message"}',
});
const outInit = (cursor: string | undefined, token = "tok-1", signal = new AbortController().signal): RequestInit => ({
  headers: {
    Accept: "text/event-stream",
    Authorization: `Bearer ${token}`,
    ...(cursor ? { "Last-Event-ID": cursor } : {}),
    "Timeout-Seconds": "120",
  },
  signal,
});

type Call = { url: string; init: RequestInit; response: Response };

function setup(cursor: string | undefined = "41", appendStatus = 200) {
  const calls: Call[] = [];
  const fakeFetch = vi.fn(async (input: string | URL | Request, init: RequestInit = {}) => {
    const url = String(input);
    const response = new Response(url.endsWith("/append") ? '{"ok":true,"seq":3}' : "", {
      status: url.endsWith("/append") ? appendStatus : 200,
    });
    calls.push({ url, init, response });
    return response;
  });
  const pipeline = outPipeline({ timeoutSeconds: 120, fetch: fakeFetch as typeof fetch });
  const outCalls = () => calls.filter((call) => call.url === OUT);
  const expectTurn = () => pipeline.expectTurn("chat-1", () => cursor);
  return { pipeline, calls, outCalls, expectTurn };
}

afterEach(() => {
  vi.useRealTimers();
});

describe("outPipeline", () => {
  it("opens a turn's answer stream with its message, and hands that request to the transport", async () => {
    const { pipeline, calls, outCalls, expectTurn } = setup("41");
    expectTurn();
    const appended = pipeline.fetch(APPEND, appendInit(), ctx("in"));
    // Sent before the append has answered.
    expect(outCalls()).toHaveLength(1);
    expect(new Headers(outCalls()[0]!.init.headers).get("last-event-id")).toBe("41");
    expect((await appended).ok).toBe(true);

    const streamed = await pipeline.fetch(OUT, outInit("41"), ctx("out"));
    expect(streamed).toBe(outCalls()[0]!.response);
    expect(calls).toHaveLength(2);
    expect(outCalls()[0]!.init.signal!.aborted).toBe(false);
  });

  it("opens nothing for an append that starts no turn of the transport's (a steering message, a stop)", async () => {
    const { pipeline, calls, outCalls, expectTurn } = setup();
    // A send that ended without appending (a head start, a refused session) expects nothing after it.
    const sendOver = expectTurn();
    sendOver();
    await pipeline.fetch(APPEND, appendInit(), ctx("in"));
    expect(outCalls()).toHaveLength(0);
    await pipeline.fetch(OUT, outInit("41"), ctx("out"));
    expect(calls).toHaveLength(2);
  });

  it("sends the transport's own request when it asks for anything else, and cancels the opened one", async () => {
    for (const asked of [outInit("45"), outInit(undefined), outInit("41", "tok-2")]) {
      const { pipeline, outCalls, expectTurn } = setup("41");
      expectTurn();
      await pipeline.fetch(APPEND, appendInit(), ctx("in"));
      const streamed = await pipeline.fetch(OUT, asked, ctx("out"));
      expect(outCalls()).toHaveLength(2);
      expect(outCalls()[0]!.init.signal!.aborted).toBe(true);
      expect(streamed).toBe(outCalls()[1]!.response);
    }
  });

  it("cancels the opened stream when the message is refused", async () => {
    const { pipeline, outCalls, expectTurn } = setup("41", 409);
    expectTurn();
    await pipeline.fetch(APPEND, appendInit(), ctx("in"));
    await Promise.resolve();
    expect(outCalls()[0]!.init.signal!.aborted).toBe(true);
    // The transport retries its append with a new token: that one opens nothing.
    await pipeline.fetch(APPEND, appendInit("tok-2"), ctx("in"));
    expect(outCalls()).toHaveLength(1);
  });

  it("cancels a stream nobody asked for once the claim window has passed", async () => {
    vi.useFakeTimers();
    const { pipeline, calls, outCalls, expectTurn } = setup("41");
    expectTurn();
    await pipeline.fetch(APPEND, appendInit(), ctx("in"));
    await vi.advanceTimersByTimeAsync(CLAIM_WINDOW_MS - 1);
    expect(outCalls()[0]!.init.signal!.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(outCalls()[0]!.init.signal!.aborted).toBe(true);
    await pipeline.fetch(OUT, outInit("41"), ctx("out"));
    expect(calls).toHaveLength(3);
  });

  it("leaves a handed-over stream to the transport's signal", async () => {
    vi.useFakeTimers();
    const { pipeline, outCalls, expectTurn } = setup("41");
    expectTurn();
    await pipeline.fetch(APPEND, appendInit(), ctx("in"));
    const stop = new AbortController();
    await pipeline.fetch(OUT, outInit("41", "tok-1", stop.signal), ctx("out"));
    await vi.advanceTimersByTimeAsync(CLAIM_WINDOW_MS * 2);
    expect(outCalls()[0]!.init.signal!.aborted).toBe(false);
    stop.abort();
    expect(outCalls()[0]!.init.signal!.aborted).toBe(true);
  });

  it("does not hand over a stream the transport has already given up on", async () => {
    const { pipeline, outCalls, expectTurn } = setup("41");
    expectTurn();
    await pipeline.fetch(APPEND, appendInit(), ctx("in"));
    const stop = new AbortController();
    stop.abort();
    await pipeline.fetch(OUT, outInit("41", "tok-1", stop.signal), ctx("out"));
    expect(outCalls()[0]!.init.signal!.aborted).toBe(true);
    expect(outCalls()).toHaveLength(2);
  });
});
