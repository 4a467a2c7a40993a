import type { ChatUIMessage } from "../../../trigger/chat";
import { Reasoning } from "./reasoning";
import { type ApprovalResponse, ToolCall, type ToolPart } from "./tool-call";

/** What an answer shows, in order: its text runs, reasoning, tool calls and the messages steered into it. */
export type AnswerSegment =
  | { kind: "text"; text: string }
  | { kind: "reasoning"; text: string }
  | { kind: "tool"; part: ToolPart }
  | { kind: "injected"; messages: { id: string; text: string }[] };

/** The answer's parts as segments: consecutive text parts join into one, parts with nothing to show are left out. */
export function answerSegments(message: ChatUIMessage): AnswerSegment[] {
  const segments: AnswerSegment[] = [];
  for (const part of message.parts) {
    if (part.type === "text") {
      const previous = segments.at(-1);
      if (previous?.kind === "text") previous.text += `\n\n${part.text}`;
      else segments.push({ kind: "text", text: part.text });
    } else if (part.type === "reasoning") {
      if (part.text.trim() !== "") segments.push({ kind: "reasoning", text: part.text });
    } else if (part.type === "data-pending-message-injected") {
      segments.push({ kind: "injected", messages: part.data.messages ?? [] });
    } else if ("toolCallId" in part) {
      segments.push({ kind: "tool", part });
    }
  }
  return segments;
}

/** A segment other than text, which the message list renders with its markdown renderer. */
export function AnswerPart({
  segment,
  streaming,
  onApprovalResponse,
}: {
  segment: Exclude<AnswerSegment, { kind: "text" }>;
  /** This is the part being written now. */
  streaming: boolean;
  onApprovalResponse?: ApprovalResponse;
}) {
  switch (segment.kind) {
    case "reasoning":
      return <Reasoning text={segment.text} streaming={streaming} />;
    case "tool":
      return <ToolCall part={segment.part} onApprovalResponse={onApprovalResponse} />;
    case "injected":
      return (
        <div data-testid="injected-messages" className="my-3 flex flex-col items-end gap-1">
          {segment.messages.map((message) => (
            <p
              key={message.id}
              data-testid="injected-message"
              className="max-w-[85%] rounded-2xl bg-zinc-100 px-3 py-1.5 text-sm whitespace-pre-wrap text-zinc-900 dark:bg-zinc-800 dark:text-zinc-100"
            >
              <span className="sr-only">You added while it was written: </span>
              {message.text}
            </p>
          ))}
        </div>
      );
  }
}
