import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import type { ChatUIMessage } from "../../../trigger/chat";
import { AnswerPart, answerSegments } from "./answer-parts";

const answer = (parts: unknown[]) => ({ id: "a1", role: "assistant", parts }) as ChatUIMessage;

describe("answerSegments", () => {
  it("keeps the parts' order, joins adjacent text and leaves out what shows nothing", () => {
    const tool = {
      type: "tool-currentTime",
      toolCallId: "c1",
      state: "output-available",
      input: { timeZone: "Asia/Tokyo" },
      output: { timeZone: "Asia/Tokyo", local: "Thursday", utcOffset: "GMT+9" },
    };
    const segments = answerSegments(
      answer([
        { type: "step-start" },
        { type: "reasoning", text: "Pondering." },
        { type: "reasoning", text: " " },
        { type: "text", text: "Let me look." },
        tool,
        {
          type: "data-pending-message-injected",
          data: { messageIds: ["u2"], messages: [{ id: "u2", text: "In French" }] },
        },
        { type: "text", text: "Il est" },
        { type: "text", text: "21 h." },
        { type: "data-stopped", data: {} },
      ]),
    );
    expect(segments).toEqual([
      { kind: "reasoning", text: "Pondering." },
      { kind: "text", text: "Let me look." },
      { kind: "tool", part: tool },
      { kind: "injected", messages: [{ id: "u2", text: "In French" }] },
      { kind: "text", text: "Il est\n\n21 h." },
    ]);
  });
});

describe("AnswerPart", () => {
  it("offers Approve and Deny on a call waiting for approval only when the chat can answer it", () => {
    const waiting = {
      kind: "tool",
      part: {
        type: "tool-calculate",
        toolCallId: "c1",
        state: "approval-requested",
        input: { expression: "1 + 1" },
        approval: { id: "ap1" },
      },
    } as const;
    const withButtons = renderToStaticMarkup(
      <AnswerPart segment={waiting as never} streaming={false} onApprovalResponse={() => {}} />,
    );
    expect(withButtons).toContain('aria-label="Tool call: Calculator"');
    expect(withButtons).toContain("Waiting for your approval");
    expect(withButtons).toContain(">1 + 1<");
    expect(withButtons).toContain(">Approve</button>");
    expect(withButtons).toContain(">Deny</button>");
    const busy = renderToStaticMarkup(<AnswerPart segment={waiting as never} streaming={false} />);
    expect(busy).not.toContain("Approve");
  });

  it("shows reasoning collapsed, and says it is thinking while it streams", () => {
    const html = renderToStaticMarkup(<AnswerPart segment={{ kind: "reasoning", text: "Hmm." }} streaming={false} />);
    expect(html).toMatch(/<details[^>]*data-testid="reasoning"/);
    expect(html).not.toMatch(/<details[^>]*\bopen\b/);
    expect(html).toContain(">Reasoning</summary>");
    expect(renderToStaticMarkup(<AnswerPart segment={{ kind: "reasoning", text: "Hmm." }} streaming />)).toContain(
      ">Thinking…</summary>",
    );
  });
});
