import { logger } from "@trigger.dev/sdk";
import { chat } from "@trigger.dev/sdk/ai";
import { stepCountIs, streamText, type UIMessage } from "ai";
import { applyHistoryAction, parseHistoryAction } from "./chat-history";
import { beginTitle, finishTitle, type ChatTitlePart } from "./chat-title";
import { z } from "zod";
import { getAgentEnv } from "./env";
import { chooseChatModel, describeChatModel, getChatModel, ModelChoiceError } from "../app/lib/ai/model";
import { CHAT_ERROR_MESSAGE, describeModelFailure, reportModelRefusals } from "../app/lib/ai/model-failures";
import { CHAT_SYSTEM_PROMPT } from "../app/lib/ai/prompts";
import { chatTools, type ChatTools, ToolInputError } from "./tools";

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
  /** Written by the SDK where messages the user sent mid-answer were taken into it (`pendingMessages`). */
  "pending-message-injected": { messageIds: string[]; messages: { id: string; text: string }[] };
  /** The agent titled the chat (transient: the title itself is in the session's metadata). */
  "chat-title": ChatTitlePart;
};

export type ChatUIMessage = UIMessage<ChatMessageMetadata, ChatDataParts, ChatTools>;

/** Stands for a malformed choice: a schema error would end the run, so run() refuses it in words instead. */
const MALFORMED_CHOICE = "(not a model id)";

/** Sent with every message: the model the user picked, if any. */
export const chatClientDataSchema = z
  .object({ model: z.string().min(1).max(200).optional().catch(MALFORMED_CHOICE) })
  .optional()
  .catch({ model: MALFORMED_CHOICE });

export type ChatClientData = z.infer<typeof chatClientDataSchema>;

const env = getAgentEnv();

export const chatAgent = chat.withUIMessage<ChatUIMessage>().agent({
  id: "chat",
  // Set here rather than on streamText so instructions injected by the SDK are appended to it, not replaced.
  system: CHAT_SYSTEM_PROMPT,
  idleTimeoutInSeconds: env.CHAT_IDLE_TIMEOUT_SECONDS,
  // The page starts a chat's run while its first message is typed; a draft never sent must not hold the run.
  exitAfterPreloadIdle: true,
  turnTimeout: env.CHAT_TURN_TIMEOUT,
  clientDataSchema: chatClientDataSchema,
  tools: chatTools,
  // A message sent while an answer is written is taken in at the next step boundary (after a tool call);
  // otherwise the SDK answers it as the next turn.
  pendingMessages: { shouldInject: ({ steps }) => steps.length > 0 },
  uiMessageStreamOptions: {
    // The real error is logged by streamText's onError in run(); provider messages can carry internals,
    // so the user gets a sentence chosen by the kind of failure.
    // A tool's own refusal ("not a time zone") is written for the user and shown on the tool call.
    onError: (error) => (error instanceof ToolInputError ? error.message : describeModelFailure(error).userMessage),
  },
  // Edit, regenerate and undo, applied to the stored history so a reload shows what the page shows.
  actionSchema: parseHistoryAction,
  onAction: ({ action }) => applyHistoryAction(action),
  onBeforeTurnComplete: async ({ chatId, stopped, responseMessage, writer, clientData }) => {
    // Written while the stream is still open, so it is part of the saved answer, not only of this tab's copy.
    // A stop before the first word leaves no answer to mark (the page then shows the question alone).
    const hasWords = responseMessage?.parts.some((part) => part.type === "text" && part.text.trim() !== "");
    if (stopped && hasWords) writer.write({ type: "data-stopped", data: {} });
    // A head-started first answer was written by the web server, and the handover does not carry its metadata.
    if (responseMessage && !responseMessage.metadata) {
      const { id, offline } = modelOfHeadStartedAnswer(clientData?.model);
      chat.history.replace(responseMessage.id, { ...responseMessage, metadata: { model: id, offline } });
    }
    // A stopped turn ends at once (the page then reads the saved turn); its title waits for the next turn's end.
    if (!stopped) await finishTitle({ chatId, writer });
  },
  run: async ({ chatId, messages, signal, tools, clientData }) => {
    const { model, description } = resolveModelForTurn(clientData?.model);
    // Begun here rather than in onTurnStart, which the SDK runs with a writer open on the chat's stream.
    beginTitle({ chatId, uiMessages: chat.history.all(), model: description });
    // Each answer says which model wrote it.
    chat.setUIMessageStreamOptions({
      messageMetadata: ({ part }) =>
        part.type === "start" ? { model: description.id, offline: description.offline } : undefined,
    });
    return streamText({
      ...chat.toStreamTextOptions({ tools }),
      model,
      messages,
      tools,
      abortSignal: signal,
      stopWhen: stepCountIs(5),
      // Gemini's thoughts arrive as reasoning parts, which the page shows collapsed above the answer.
      providerOptions: { google: { thinkingConfig: { includeThoughts: true } } },
      experimental_transform: reportModelRefusals,
      onError: ({ error }) => logger.error("Chat model stream failed", describeModelFailure(error).details),
    });
  },
});

// The head start's route refused any choice it could not answer with, so a failure here means the default.
function modelOfHeadStartedAnswer(choice: string | undefined) {
  try {
    return chooseChatModel(choice, env);
  } catch {
    return describeChatModel(env);
  }
}

// The SDK sends an error thrown from run() to the browser verbatim: a refused choice says why in words, and a
// configuration problem is logged here and the user gets the generic message.
function resolveModelForTurn(choice: string | undefined) {
  try {
    const description = chooseChatModel(choice, env);
    return { description, model: getChatModel(env, description.id) };
  } catch (error) {
    if (error instanceof ModelChoiceError) throw error;
    logger.error("Chat model could not be resolved", { error });
    throw new Error(CHAT_ERROR_MESSAGE, { cause: error });
  }
}
