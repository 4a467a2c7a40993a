import type { UIMessageChunk } from "ai";
import { describe, expect, it } from "vitest";
import { ABANDONED_MESSAGE, abandonedMessageId, markAbandonedMessages } from "./abandoned-messages";

async function mark(chunks: UIMessageChunk[]) {
  const out: UIMessageChunk[] = [];
  const source = new ReadableStream<UIMessageChunk>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk);
      controller.close();
    },
  });
  const reader = source.pipeThrough(markAbandonedMessages()).getReader();
  for (let next = await reader.read(); !next.done; next = await reader.read()) out.push(next.value);
  return out;
}

const answer = (messageId: string, ending: UIMessageChunk[] = [{ type: "finish" }]): UIMessageChunk[] => [
  { type: "start", messageId },
  { type: "start-step" },
  { type: "text-start", id: "t" },
  { type: "text-delta", id: "t", delta: `${messageId} says hi` },
  ...ending,
];
const cutOff = (messageId: string) => answer(messageId, []);

describe("markAbandonedMessages", () => {
  it("passes finished and stopped messages through unchanged", async () => {
    const chunks = [...answer("a1"), ...answer("a2", [{ type: "abort" }]), ...answer("a3")];
    expect(await mark(chunks)).toEqual(chunks);
  });

  it("names a message that never finished just before the next message starts", async () => {
    const out = await mark([...cutOff("cut"), ...answer("again")]);
    expect(out).toEqual([
      ...cutOff("cut"),
      { type: ABANDONED_MESSAGE, data: { messageId: "cut" }, transient: true },
      ...answer("again"),
    ]);
  });

  it("leaves an unfinished message alone while nothing replaces it", async () => {
    expect(await mark(cutOff("streaming"))).toEqual(cutOff("streaming"));
  });

  it("does not take a repeated start of the same message for a new one", async () => {
    const chunks = [...cutOff("same"), { type: "start", messageId: "same" } as const, { type: "finish" } as const];
    expect(await mark(chunks)).toEqual(chunks);
  });
});

describe("abandonedMessageId", () => {
  it("reads the id from the marker part only", () => {
    expect(abandonedMessageId({ type: ABANDONED_MESSAGE, data: { messageId: "m1" } })).toBe("m1");
    expect(abandonedMessageId({ type: "data-other", data: { messageId: "m1" } })).toBeUndefined();
    expect(abandonedMessageId({ type: ABANDONED_MESSAGE, data: null })).toBeUndefined();
  });
});
