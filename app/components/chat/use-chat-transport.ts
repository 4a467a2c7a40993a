import type { ChatSessionPersistedState, TriggerChatTransport } from "@trigger.dev/sdk/chat";
import { useTriggerChatTransport } from "@trigger.dev/sdk/chat/react";
import { useMemo } from "react";
import { href } from "react-router";
import { postJson } from "~/lib/api-client";
import { CHAT_TASK_ID } from "~/lib/chats";
import type { chatAgent } from "../../../trigger/chat";
import { markAbandonedMessages } from "./abandoned-messages";

type ChatTransportOptions = {
  chatId: string;
  /** Where the browser reaches the Trigger.dev API: the app's own /local-trigger mount, or Trigger.dev. */
  baseURL: string;
  /** The chat's session when it already exists, so a reload can resume a running answer and stop it. */
  session: Pick<ChatSessionPersistedState, "publicAccessToken" | "lastEventId"> | undefined;
  /** The first message's text, read when the session starts so the chat gets its title. */
  takeTitle: () => string | undefined;
  onSessionStarted: () => void;
  /** A user message reached the agent's input stream. */
  onMessageDelivered: (messageId: string) => void;
};

/**
 * The Trigger.dev transport for one chat, wired to this app's resource routes.
 * The SDK reads these options once, on the first render (remount per chat),
 * so the callbacks must be stable: refs, setters, or router functions.
 */
export function useChatTransport({ chatId, baseURL, session, takeTitle, onSessionStarted, onMessageDelivered }: ChatTransportOptions) {
  const transport = useTriggerChatTransport<typeof chatAgent>({
    task: CHAT_TASK_ID,
    baseURL,
    sessions: session ? { [chatId]: session } : undefined,
    accessToken: async ({ chatId }) => {
      const { token } = await postJson<{ token: string }>(href("/api/chats/:chatId/token", { chatId }));
      return token;
    },
    startSession: async ({ chatId }) => {
      const { publicAccessToken } = await postJson<{ publicAccessToken: string }>(
        href("/api/chats/:chatId/session", { chatId }),
        { title: takeTitle() },
      );
      onSessionStarted();
      return { publicAccessToken };
    },
    onEvent: (event) => {
      if (event.type === "message-sent" && event.source === "submit-message" && event.messageId) {
        onMessageDelivered(event.messageId);
      }
    },
  });
  return useMemo(() => markingAbandonedMessages(transport), [transport]);
}

/**
 * The transport, with resumed streams marked where a message was abandoned
 * (see markAbandonedMessages). Only resumed streams: they replay from the
 * saved transcript's cursor, so they are what carries a dead run's cut-off
 * answer into a page that never showed it.
 */
function markingAbandonedMessages(transport: TriggerChatTransport) {
  return {
    sendMessages: transport.sendMessages,
    reconnectToStream: async (options: Parameters<TriggerChatTransport["reconnectToStream"]>[0]) => {
      const stream = await transport.reconnectToStream(options);
      return stream && stream.pipeThrough(markAbandonedMessages());
    },
    stopGeneration: transport.stopGeneration,
  };
}
