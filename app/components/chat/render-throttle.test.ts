import type { UIMessage } from "ai";
import { describe, expect, it } from "vitest";
import { answerShowsContent, RENDER_INTERVAL_MS, renderThrottleFor } from "./render-throttle";

const user = (text: string): UIMessage => ({ id: "u", role: "user", parts: [{ type: "text", text }] });
const answer = (parts: UIMessage["parts"]): UIMessage => ({ id: "a", role: "assistant", parts });

describe("renderThrottleFor", () => {
  it("renders at once while the answer being written shows nothing yet", () => {
    expect(renderThrottleFor([])).toBeUndefined();
    expect(renderThrottleFor([user("hi")])).toBeUndefined();
    // What an answer's start and step-start chunks make: an empty message.
    expect(renderThrottleFor([user("hi"), answer([])])).toBeUndefined();
    expect(renderThrottleFor([user("hi"), answer([{ type: "step-start" }])])).toBeUndefined();
    expect(renderThrottleFor([user("hi"), answer([{ type: "text", text: "", state: "streaming" }])])).toBeUndefined();
  });

  it("throttles once the answer shows words, reasoning or a tool call", () => {
    expect(renderThrottleFor([user("hi"), answer([{ type: "text", text: "Hel", state: "streaming" }])])).toBe(
      RENDER_INTERVAL_MS,
    );
    expect(renderThrottleFor([user("hi"), answer([{ type: "reasoning", text: "Let me", state: "streaming" }])])).toBe(
      RENDER_INTERVAL_MS,
    );
    expect(
      answerShowsContent([
        user("hi"),
        answer([{ type: "tool-calculate", toolCallId: "t1", state: "input-streaming", input: undefined }]),
      ]),
    ).toBe(true);
  });

  it("renders a new question at once after a finished answer", () => {
    const finished = answer([{ type: "text", text: "Hello", state: "done" }]);
    expect(renderThrottleFor([user("hi"), finished])).toBe(RENDER_INTERVAL_MS);
    expect(renderThrottleFor([user("hi"), finished, user("again")])).toBeUndefined();
  });
});
