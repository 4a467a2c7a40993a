import type { ChatSessionPersistedState, TriggerChatTransport } from "@trigger.dev/sdk/chat";
import { useTriggerChatTransport } from "@trigger.dev/sdk/chat/react";
import type { ChatStatus, UIMessageChunk } from "ai";
import { useEffect, useMemo, useRef, useState } from "react";
import { href } from "react-router";
import { postJson } from "~/lib/api-client";
import { CHAT_TASK_ID } from "~/lib/chats";
import type { chatAgent, ChatClientData, ChatUIMessage } from "../../../trigger/chat";
import { markAbandonedMessages } from "./abandoned-messages";
import { outPipeline } from "./out-pipeline";

/** How long one answer-stream request stays open with nothing to send (the SDK's default, set here so the pipeline sends the same). */
const STREAM_TIMEOUT_SECONDS = 120;

type ChatTransportOptions = {
  chatId: string;
  /** Where the browser reaches the Trigger.dev API: the app's own /local-trigger mount, or Trigger.dev. */
  baseURL: string;
  /** The chat's session when it already exists, so a reload can resume a running answer and stop it. */
  session: Pick<ChatSessionPersistedState, "publicAccessToken" | "lastEventId"> | undefined;
  /** Where a new chat's first message goes to be answered by this server while the agent boots; unset: no head start. */
  headStart: string | undefined;
  /** The first message's text, read when the session starts so the chat gets its title. */
  takeTitle: () => string | undefined;
  /** The chat's session has started and has its title (after a head start: once its first answer has ended). */
  onSessionStarted: () => void;
  /** A user message reached the agent's input stream. */
  onMessageDelivered: (messageId: string) => void;
  /** Sent with every message and validated by the agent (its `clientDataSchema`): the model choice. */
  clientData?: ChatClientData;
};

/**
 * The Trigger.dev transport for one chat, wired to this app's resource routes.
 * The SDK reads these options once, on the first render (remount per chat),
 * so the callbacks must be stable: refs, setters, or router functions.
 */
export function useChatTransport({
  chatId,
  baseURL,
  session,
  headStart,
  takeTitle,
  onSessionStarted,
  onMessageDelivered,
  clientData,
}: ChatTransportOptions) {
  const [pipeline] = useState(() => outPipeline({ timeoutSeconds: STREAM_TIMEOUT_SECONDS }));
  const transport = useTriggerChatTransport<typeof chatAgent>({
    task: CHAT_TASK_ID,
    baseURL,
    streamTimeoutSeconds: STREAM_TIMEOUT_SECONDS,
    fetch: pipeline.fetch,
    // The SDK keeps this one option current between renders.
    clientData,
    sessions: session ? { [chatId]: session } : undefined,
    // The same chat open in several tabs: one sends at a time, the others follow its turn (see useTabSync).
    // Browsers only: Node has a BroadcastChannel too, and a server render would leave one open, with its
    // heartbeat timer, for every page it renders.
    multiTab: typeof window !== "undefined",
    headStart,
    accessToken: async ({ chatId }) => {
      const { token } = await postJson<{ token: string }>(href("/api/chats/:chatId/token", { chatId }));
      return token;
    },
    startSession: async ({ chatId }) => {
      const title = takeTitle();
      const { publicAccessToken } = await postJson<{ publicAccessToken: string }>(
        href("/api/chats/:chatId/session", { chatId }),
        { title },
      );
      // Started early, with no message yet: the chat is listed once its first message names it.
      if (title !== undefined) onSessionStarted();
      return { publicAccessToken };
    },
    onEvent: (event) => {
      // A head start's message reached the agent's session as the route created it.
      if (
        event.type === "message-sent" &&
        (event.source === "submit-message" || event.source === "head-start") &&
        event.messageId
      ) {
        onMessageDelivered(event.messageId);
      }
    },
  });
  return useMemo(
    () => appTransport(transport, pipeline, headStart ? onSessionStarted : undefined),
    // onSessionStarted is stable (see above); the transport is made once per chat.
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [transport],
  );
}

/**
 * The transport as `useChat` gets it: a message's answer stream is opened
 * with the message (see outPipeline), and resumed streams are marked where a
 * message was abandoned (see markAbandonedMessages). Only resumed streams:
 * they replay from the saved transcript's cursor, so they are what carries a
 * dead run's cut-off answer into a page that never showed it.
 */
function appTransport(
  transport: TriggerChatTransport,
  pipeline: ReturnType<typeof outPipeline>,
  onHeadStartEnded?: () => void,
) {
  return {
    /** The SDK's own transport, for its multi-tab coordination. */
    sdk: transport,
    sendMessages: async (options: Parameters<TriggerChatTransport["sendMessages"]>[0]) => {
      // With no session yet, the SDK sends this message as a head start, and the session starts with it.
      const headStarted = onHeadStartEnded !== undefined && !transport.getSession(options.chatId);
      const sendOver = pipeline.expectTurn(options.chatId, () => transport.getSession(options.chatId)?.lastEventId);
      const sent = await transport.sendMessages(options).finally(sendOver);
      const stream = headStarted ? sent.pipeThrough(new TransformStream({ flush: onHeadStartEnded })) : sent;
      // Stopped while the message was still on its way: the turn's words must not appear after the stop.
      if (options.abortSignal?.aborted) {
        void stream.cancel().catch(() => {});
        return new ReadableStream<UIMessageChunk>({ start: (controller) => controller.close() });
      }
      return stream;
    },
    reconnectToStream: async (options: Parameters<TriggerChatTransport["reconnectToStream"]>[0]) => {
      const stream = await transport.reconnectToStream(options);
      return stream && stream.pipeThrough(markAbandonedMessages());
    },
    stopGeneration: transport.stopGeneration,
  };
}

/** How often a tab whose turn runs shares its messages with the other tabs. */
const SHARE_INTERVAL_MS = 100;
/** After another tab's turn ends, how long its last shared messages get to arrive before this tab checks with the server. */
const CATCH_UP_DELAY_MS = 300;
/** How often it asks again while the server has not saved a turn that ended. */
const CATCH_UP_ATTEMPTS = 5;

type TabSyncChat = {
  messages: ChatUIMessage[];
  setMessages: (messages: ChatUIMessage[] | ((current: ChatUIMessage[]) => ChatUIMessage[])) => void;
  status: ChatStatus;
  resumeStream: () => Promise<void>;
};

/** A page of the saved conversation; the latest page also says at which stream position it was saved. */
export type TranscriptPage = { messages: ChatUIMessage[]; nextCursor: string | null; lastEventId: string | null };

/** The saved conversation's latest page, or with `before` the page before that message. */
export function loadTranscriptPage(chatId: string, before?: string): Promise<TranscriptPage> {
  return postJson<TranscriptPage>(
    href("/api/chats/:chatId/transcript", { chatId }),
    before === undefined ? {} : { before },
  );
}

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
 *
 * When another tab's turn ends, this tab checks with the saved transcript: a
 * tab closed mid-answer shares neither its last words nor where the stream
 * ended, so the transcript's copy and position replace what this tab had, and
 * a turn still running on the server is picked up from its start.
 */
export function useTabSync(transport: ReturnType<typeof useChatTransport>, chatId: string, chat: TabSyncChat): boolean {
  const { messages, setMessages, status, resumeStream } = chat;
  const tabs = transport.sdk;
  const busy = status === "submitted" || status === "streaming";
  const [readOnly, setReadOnly] = useState(false);
  useEffect(() => {
    const onChange = (id: string, isReadOnly: boolean) => {
      if (id === chatId) setReadOnly(isReadOnly);
    };
    tabs.addReadOnlyListener(onChange);
    // The SDK's state as the listener starts: a change before this subscription has no event to deliver it.
    // eslint-disable-next-line react-hooks/set-state-in-effect -- the initial read of an external store
    setReadOnly(tabs.isReadOnly(chatId));
    return () => tabs.removeReadOnlyListener(onChange);
  }, [tabs, chatId]);

  const busyRef = useRef(busy);
  // Written during render, not in an effect: a message from another tab handled between this render and its
  // effects would otherwise see this tab idle and overwrite the turn it has just started.
  // eslint-disable-next-line react-hooks/refs -- the latest value for listeners, see above
  busyRef.current = busy;
  const joining = useRef(false);
  useEffect(() => {
    const onMessages = (id: string, shared: unknown[]) => {
      if (id !== chatId || busyRef.current) return;
      const sharedMessages = shared as ChatUIMessage[];
      setMessages(sharedMessages);
      // A chat another tab started after this one opened: join its session, once, so the SDK moves this
      // tab's stream cursor past the other tab's turns when they end. Only once an answer streams: by then
      // the other tab's start has set the guest cookie, which this tab's start must carry.
      if (!joining.current && !tabs.getSession(chatId) && sharedMessages.at(-1)?.role === "assistant") {
        joining.current = true;
        tabs.start(chatId).catch(() => {
          joining.current = false;
        });
      }
    };
    tabs.addMessagesListener(onMessages);
    return () => tabs.removeMessagesListener(onMessages);
  }, [tabs, chatId, setMessages]);

  // This tab's own turn: share what it shows, a few times a second and once more when it has ended here.
  const latest = useRef(messages);
  // Written during render, like busyRef: timers and the catch-up read the messages as last rendered.
  // eslint-disable-next-line react-hooks/refs -- the latest value for timers and listeners
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

  // Another tab's turn has ended, or that tab has gone: catch up with what the server saved.
  const wasReadOnly = useRef(false);
  useEffect(() => {
    if (readOnly) {
      wasReadOnly.current = true;
      return;
    }
    if (!wasReadOnly.current) return;
    wasReadOnly.current = false;
    let current = true;
    let attempts = 0;
    let timer: ReturnType<typeof setTimeout>;
    const catchUp = async () => {
      const session = tabs.getSession(chatId);
      const saved = await loadTranscriptPage(chatId).catch(() => undefined);
      if (!current || !session || !saved || busyRef.current) return;
      const savedIds = new Set(saved.messages.map((message) => message.id));
      const unsaved = latest.current
        .slice(tailStart(latest.current, saved.messages))
        .some((message) => !savedIds.has(message.id));
      if (unsaved && !isLater(saved.lastEventId ?? undefined, session.lastEventId)) {
        // The other tab saw its turn end (it moved this tab's position) but the server has not saved it yet: ask again.
        if (++attempts < CATCH_UP_ATTEMPTS) timer = setTimeout(catchUp, CATCH_UP_DELAY_MS * 2 ** attempts);
        return;
      }
      if (isLater(saved.lastEventId ?? undefined, session.lastEventId)) {
        // isStreaming left unset: the server then says whether a turn is still running.
        tabs.setSession(chatId, { publicAccessToken: session.publicAccessToken, lastEventId: saved.lastEventId! });
      }
      setMessages((shown) => withSavedTail(shown, saved.messages));
      // The other tab went away mid-answer: the rest of its turn streams from the saved position.
      if (unsaved) void resumeStream();
    };
    timer = setTimeout(catchUp, CATCH_UP_DELAY_MS);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [readOnly, tabs, chatId, setMessages, resumeStream]);

  return readOnly;
}

/** Whether stream position `a` comes after `b`: positions are sequence numbers, and any position comes after none. */
function isLater(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined) return false;
  if (b === undefined) return true;
  const [later, earlier] = [Number(a), Number(b)];
  return Number.isFinite(later) && Number.isFinite(earlier) && later > earlier;
}

/**
 * The messages shown, with everything from the saved page's first message on
 * replaced by the saved page: what a reload would show, keeping the earlier
 * messages the reader loaded. Messages the server has not saved (a turn still
 * running) are dropped, to stream again from the saved position.
 */
export function withSavedTail(shown: ChatUIMessage[], saved: ChatUIMessage[]): ChatUIMessage[] {
  if (saved.length === 0) return shown;
  return [...shown.slice(0, tailStart(shown, saved)), ...saved];
}

/** Where the saved page starts among the messages shown: all of them are in it when its first message is not shown. */
function tailStart(shown: ChatUIMessage[], saved: ChatUIMessage[]): number {
  const start = saved.length === 0 ? shown.length : shown.findIndex((message) => message.id === saved[0]!.id);
  return start === -1 ? 0 : start;
}
