import type { UIMessageChunk } from "ai";

/** The transient data part that names a message its stream abandoned. */
export const ABANDONED_MESSAGE = "data-abandoned-message";

/**
 * Marks the messages a stream abandoned: one that had no `finish` (or
 * `abort`) yet when another message starts in the same stream.
 *
 * A run that dies mid-answer leaves its cut-off message on the chat's output
 * stream. The run that takes the turn over answers again, under a new id,
 * and never saves the cut-off copy. A page loaded before the new answer was
 * saved resumes from the last saved turn, so it replays both. (The SDK's
 * recovery, too, takes a message without `finish` for a cut-off one.)
 *
 * Just before the new message's `start`, this emits a transient part naming
 * the abandoned message, so the page removes it in stream order: after its
 * last update, before the new message shows.
 */
export function markAbandonedMessages(): TransformStream<UIMessageChunk, UIMessageChunk> {
  let unfinished: string | undefined;
  return new TransformStream({
    transform(chunk, controller) {
      if (chunk.type === "start") {
        if (unfinished !== undefined && chunk.messageId !== undefined && chunk.messageId !== unfinished) {
          controller.enqueue({ type: ABANDONED_MESSAGE, data: { messageId: unfinished }, transient: true });
        }
        unfinished = chunk.messageId;
      } else if (chunk.type === "finish" || chunk.type === "abort") {
        unfinished = undefined;
      }
      controller.enqueue(chunk);
    },
  });
}

/** The abandoned message's id, if `part` is a `data-abandoned-message` part. */
export function abandonedMessageId(part: { type: string; data: unknown }): string | undefined {
  if (part.type !== ABANDONED_MESSAGE) return undefined;
  const messageId = (part.data as { messageId?: unknown } | null)?.messageId;
  return typeof messageId === "string" ? messageId : undefined;
}
