import { logger } from "@trigger.dev/sdk";
import { chat } from "@trigger.dev/sdk/ai";
import { stepCountIs, streamText, type UIMessage } from "ai";
import { applyHistoryAction, parseHistoryAction } from "./chat-history";
import { beginTitle, finishTitle, type ChatTitlePart } from "./chat-title";
import { getAgentEnv } from "./env";
import { describeChatModel, getChatModel } from "./model";
import { CHAT_ERROR_MESSAGE, describeModelFailure, reportModelRefusals } from "./model-failures";
import { CHAT_SYSTEM_PROMPT } from "./prompts";

/** Sent on each assistant message so the UI can label which model answered. */
export type ChatMessageMetadata = {
  /** The registry id, e.g. "google:gemini-2.5-flash" or "offline:offline-chat". */
  model: string;
  offline: boolean;
};

/** Data parts the agent adds to its answers. */
export type ChatDataParts = {
  /** The user stopped this answer before it was finished: kept in the transcript so a reload still says so. */
  stopped: Record<string, never>;
  /** The agent titled the chat (transient: the title itself is in the session's metadata). */
  "chat-title": ChatTitlePart;
};

export type ChatUIMessage = UIMessage<ChatMessageMetadata, ChatDataParts>;

const env = getAgentEnv();

export const chatAgent = chat.withUIMessage<ChatUIMessage>().agent({
  id: "chat",
  // Set here rather than on streamText so instructions injected by the SDK are appended to it, not replaced.
  system: CHAT_SYSTEM_PROMPT,
  idleTimeoutInSeconds: env.CHAT_IDLE_TIMEOUT_SECONDS,
  turnTimeout: env.CHAT_TURN_TIMEOUT,
  uiMessageStreamOptions: {
    messageMetadata: ({ part }) => {
      if (part.type !== "start") return undefined;
      const { id, offline } = describeChatModel();
      return { model: id, offline };
    },
    // The real error is logged by streamText's onError in run(); provider messages can carry internals,
    // so the user gets a sentence chosen by the kind of failure.
    onError: (error) => describeModelFailure(error).userMessage,
  },
  // Edit, regenerate and undo, applied to the stored history so a reload shows what the page shows.
  actionSchema: parseHistoryAction,
  onAction: ({ action }) => applyHistoryAction(action),
  onBeforeTurnComplete: async ({ chatId, stopped, responseMessage, writer }) => {
    // Written while the stream is still open, so it is part of the saved answer, not only of this tab's copy.
    // A stop before the first word leaves no answer to mark (the page then shows the question alone).
    const hasWords = responseMessage?.parts.some((part) => part.type === "text" && part.text.trim() !== "");
    if (stopped && hasWords) writer.write({ type: "data-stopped", data: {} });
    // A stopped turn ends at once (the page then reads the saved turn); its title waits for the next turn's end.
    if (!stopped) await finishTitle({ chatId, writer });
  },
  run: async ({ chatId, messages, signal }) => {
    // Begun here rather than in onTurnStart, which the SDK runs with a writer open on the chat's stream.
    beginTitle({ chatId, uiMessages: chat.history.all() });
    return streamText({
      ...chat.toStreamTextOptions(),
      model: resolveModelForTurn(),
      messages,
      abortSignal: signal,
      stopWhen: stepCountIs(5),
      experimental_transform: reportModelRefusals,
      onError: ({ error }) => logger.error("Chat model stream failed", describeModelFailure(error).details),
    });
  },
});

// The SDK sends an error thrown from run() to the browser verbatim, so log the
// configuration problem here and hand the user the generic message.
function resolveModelForTurn() {
  try {
    return getChatModel();
  } catch (error) {
    logger.error("Chat model could not be resolved", { error });
    throw new Error(CHAT_ERROR_MESSAGE, { cause: error });
  }
}
