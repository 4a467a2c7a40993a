import type { UIMessage } from "ai";

/** The most often a streamed answer re-renders once it shows something. */
export const RENDER_INTERVAL_MS = 50;

/** Whether the conversation ends in an answer that shows something yet: words, reasoning or a tool call. */
export function answerShowsContent(messages: UIMessage[]): boolean {
  const last = messages.at(-1);
  if (last?.role !== "assistant") return false;
  return last.parts.some((part) =>
    part.type === "text" || part.type === "reasoning"
      ? part.text.length > 0
      : part.type === "dynamic-tool" || part.type.startsWith("tool-"),
  );
}

/**
 * useChat's `experimental_throttle` for the messages it returned last: none
 * until the answer being written shows something, then one render per
 * interval. Models stream a word or two per chunk, often 100 chunks a second,
 * and a render per frame-ish is as smooth to read while leaving the main
 * thread free for input. But a throttle passes its first call at once and
 * holds the next for the interval, and an answer's first call is the empty
 * message its start chunk makes: with the throttle always on, the first words
 * waited up to the whole interval behind it.
 */
export function renderThrottleFor(messages: UIMessage[]): number | undefined {
  return answerShowsContent(messages) ? RENDER_INTERVAL_MS : undefined;
}
