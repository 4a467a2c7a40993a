import type { ChatSessionPersistedState, TriggerChatTransport } from "@trigger.dev/sdk/chat";
import { useTriggerChatTransport } from "@trigger.dev/sdk/chat/react";
import type { ChatStatus } from "ai";
import { useEffect, useMemo, useRef, useState } from "react";
import { href } from "react-router";
import { postJson } from "~/lib/api-client";
import { CHAT_TASK_ID } from "~/lib/chats";
import type { chatAgent, ChatUIMessage } from "../../../trigger/chat";
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
    // The same chat open in several tabs: one sends at a time, the others follow its turn (see useTabSync).
    // Browsers only: Node has a BroadcastChannel too, and a server render would leave one open, with its
    // heartbeat timer, for every page it renders.
    multiTab: typeof window !== "undefined",
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
    /** The SDK's own transport, for its multi-tab coordination. */
    sdk: transport,
    sendMessages: transport.sendMessages,
    reconnectToStream: async (options: Parameters<TriggerChatTransport["reconnectToStream"]>[0]) => {
      const stream = await transport.reconnectToStream(options);
      return stream && stream.pipeThrough(markAbandonedMessages());
    },
    stopGeneration: transport.stopGeneration,
  };
}

/** How often a tab whose turn runs shares its messages with the other tabs. */
const SHARE_INTERVAL_MS = 100;

/**
 * Keeps the tabs that show one chat in step, on the SDK's multi-tab
 * coordination (`multiTab: true`): the tab whose turn runs holds the chat, the
 * others are read-only until its turn ends, show its messages as they stream,
 * and resume from where its turn ended. True while another tab's turn runs.
 *
 * Not the SDK's `useMultiTabChat`: that hook stops sharing at the turn's end
 * record, which arrives before the last words reach useChat's state, and the
 * read-only tab then shares its own cut-off copy back. Here only the tab that
 * sent shares, until its turn has ended in its own state, and a tab takes
 * others' messages only while it has no turn of its own.
 */
export function useTabSync(
  transport: ReturnType<typeof useChatTransport>,
  chatId: string,
  messages: ChatUIMessage[],
  setMessages: (messages: ChatUIMessage[]) => void,
  status: ChatStatus,
): boolean {
  const tabs = transport.sdk;
  const busy = status === "submitted" || status === "streaming";
  const [readOnly, setReadOnly] = useState(false);
  useEffect(() => {
    const onChange = (id: string, isReadOnly: boolean) => {
      if (id === chatId) setReadOnly(isReadOnly);
    };
    tabs.addReadOnlyListener(onChange);
    setReadOnly(tabs.isReadOnly(chatId));
    return () => tabs.removeReadOnlyListener(onChange);
  }, [tabs, chatId]);

  const busyRef = useRef(busy);
  busyRef.current = busy;
  useEffect(() => {
    const onMessages = (id: string, shared: unknown[]) => {
      if (id !== chatId || busyRef.current) return;
      setMessages(shared as ChatUIMessage[]);
      // A chat another tab started after this one opened: join its session now, so the SDK moves this
      // tab's stream cursor past the other tab's turns when they end, and this tab's next turn starts there.
      if (!tabs.getSession(chatId)) tabs.start(chatId).catch(() => {});
    };
    tabs.addMessagesListener(onMessages);
    return () => tabs.removeMessagesListener(onMessages);
  }, [tabs, chatId, setMessages]);

  // This tab's own turn: share what it shows, a few times a second and once more when it has ended here.
  const latest = useRef(messages);
  latest.current = messages;
  const sentHere = useRef(false);
  const timer = useRef<ReturnType<typeof setTimeout>>(undefined);
  useEffect(() => {
    if (busy && tabs.hasClaim(chatId)) sentHere.current = true;
    if (!sentHere.current) return;
    if (!busy) {
      clearTimeout(timer.current);
      timer.current = undefined;
      sentHere.current = false;
      tabs.broadcastMessages(chatId, latest.current);
    } else {
      timer.current ??= setTimeout(() => {
        timer.current = undefined;
        tabs.broadcastMessages(chatId, latest.current);
      }, SHARE_INTERVAL_MS);
    }
  }, [busy, messages, tabs, chatId]);
  useEffect(() => () => clearTimeout(timer.current), []);

  return readOnly;
}
