import { chat } from "@trigger.dev/sdk/ai";
import type { UIMessage } from "ai";

/** The longest edited message the agent takes, as the composer's limit for a new one. */
export const EDIT_TEXT_MAX_LENGTH = 20_000;
const MESSAGE_ID_MAX_LENGTH = 200;

/**
 * What the page can do to the conversation's history, as SDK actions
 * (`actionSchema` / `onAction`): the agent's stored history is what changes,
 * so a reload shows the same conversation as the page that made the change.
 *
 * - `edit`: the user message gets new text, everything after it goes, and the agent answers it again.
 * - `regenerate`: the answer and everything after it go, and the agent answers the question before it again.
 * - `undo`: the user message and everything after it go (the last exchange, when it is the last question).
 */
export type HistoryAction =
  | { type: "edit"; messageId: string; text: string }
  | { type: "regenerate"; messageId: string }
  | { type: "undo"; messageId: string };

/** Thrown for an action the agent refuses; its message reaches the user as it is, so it is written for people. */
export class HistoryActionError extends Error {
  override name = "HistoryActionError";
}

/**
 * The agent's `actionSchema`: a validator that throws an error a person can
 * read, where a schema library's error would reach the page as a JSON dump.
 */
export function parseHistoryAction(value: unknown): HistoryAction {
  if (typeof value !== "object" || value === null)
    throw new HistoryActionError("That change isn’t one the chat knows.");
  const { type, messageId, text } = value as Record<string, unknown>;
  if (type !== "edit" && type !== "regenerate" && type !== "undo")
    throw new HistoryActionError("That change isn’t one the chat knows.");
  if (typeof messageId !== "string" || messageId.length === 0 || messageId.length > MESSAGE_ID_MAX_LENGTH)
    throw new HistoryActionError("That change names no message of this chat.");
  if (type !== "edit") return { type, messageId };
  if (typeof text !== "string" || text.trim() === "") throw new HistoryActionError("An edited message can’t be empty.");
  if (text.length > EDIT_TEXT_MAX_LENGTH)
    throw new HistoryActionError(
      `An edited message can be at most ${EDIT_TEXT_MAX_LENGTH.toLocaleString("en")} characters.`,
    );
  return { type, messageId, text };
}

/** The history after the action, and whether the agent answers it. Refuses, changing nothing, when the action does not fit. */
export function planHistoryAction<M extends UIMessage>(
  messages: M[],
  action: HistoryAction,
): { messages: M[]; answer: boolean } {
  const index = messages.findIndex((message) => message.id === action.messageId);
  if (index === -1)
    throw new HistoryActionError("That message isn’t in this chat any more. Reload to see the chat as it is.");
  const message = messages[index]!;
  switch (action.type) {
    case "edit": {
      if (message.role !== "user") throw new HistoryActionError("Only your own messages can be edited.");
      const edited = { ...message, parts: [{ type: "text", text: action.text }] } as M;
      return { messages: [...messages.slice(0, index), edited], answer: true };
    }
    case "regenerate": {
      if (message.role !== "assistant")
        throw new HistoryActionError("Only the assistant’s answers can be written again.");
      if (!messages.slice(0, index).some((earlier) => earlier.role === "user"))
        throw new HistoryActionError("That answer has no question to answer again.");
      return { messages: messages.slice(0, index), answer: true };
    }
    case "undo": {
      if (message.role !== "user") throw new HistoryActionError("Undo takes back one of your messages.");
      if (messages.slice(index + 1).some((later) => later.role === "user"))
        throw new HistoryActionError("Only the last exchange can be undone.");
      return { messages: messages.slice(0, index), answer: false };
    }
  }
}

/**
 * The agent's `onAction`: applies the action to the stored history through
 * `chat.history`, and answers the edited history in a turn (`chat.turn()`)
 * for an edit or a regenerate.
 */
export function applyHistoryAction(action: HistoryAction) {
  const plan = planHistoryAction(chat.history.all(), action);
  // A tool call still waiting for the user's answer would be cut off from its result.
  if (chat.history.getPendingToolCalls().length > 0)
    throw new HistoryActionError("Answer the question the assistant is waiting on first.");
  chat.history.set(plan.messages);
  return plan.answer ? chat.turn() : undefined;
}
