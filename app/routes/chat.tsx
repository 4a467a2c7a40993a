import { useChat } from "@ai-sdk/react";
import { type ChatStatus, lastAssistantMessageIsCompleteWithApprovalResponses } from "ai";
import { useEffect, useLayoutEffect, useRef, useState, useSyncExternalStore } from "react";
import {
  data,
  href,
  isRouteErrorResponse,
  Link,
  redirect,
  type ShouldRevalidateFunctionArgs,
  useRevalidator,
} from "react-router";
import { abandonedMessageId } from "~/components/chat/abandoned-messages";
import { ChatError } from "~/components/chat/chat-error";
import { describeChatFailure } from "~/components/chat/chat-failure";
import { Composer } from "~/components/chat/composer";
import { EmptyState } from "~/components/chat/empty-state";
import { ServerHighlightedCode } from "~/components/chat/highlight";
import { isStopped, MessageList, messageText, preloadMarkdown } from "~/components/chat/message-list";
import { ArrowDownIcon } from "~/components/chat/icons";
import { initialModelChoice, ModelOptionsContext, ModelPicker } from "~/components/chat/model-picker";
import { PendingMessages } from "~/components/chat/pending-messages";
import { answerShowsContent, renderThrottleFor } from "~/components/chat/render-throttle";
import { useSteering } from "~/components/chat/use-steering";
import { loadTranscriptPage, useChatTransport, useTabSync, withSavedTail } from "~/components/chat/use-chat-transport";
import { useHistoryActions } from "~/components/chat/use-history-actions";
import { parseChatId } from "~/lib/chat-schemas.server";
import { TITLE_SOURCE_MAX_LENGTH } from "~/lib/chats";
import { getChatAccess, loadChatTranscript, storedTitle } from "~/lib/chats.server";
import { postJson } from "~/lib/api-client";
import { getServerEnv } from "~/lib/env.server";
import { highlightAnswerCode } from "~/lib/code-highlight.server";
import { readGuestId } from "~/lib/guest.server";
import { loadOrThrowCapacity } from "~/lib/http.server";
import { offeredChatModels } from "~/lib/models.server";
import { connectTrigger, mintChatToken } from "~/lib/trigger.server";
import type { ChatUIMessage } from "../../trigger/chat";
import type { Route } from "./+types/chat";

const NOT_FOUND = "This chat doesn’t exist, or it belongs to someone else.";

export function loader(args: Route.LoaderArgs) {
  // The picker's list comes from the server, which knows which models are configured.
  return loadOrThrowCapacity("loading a chat page", async () => ({
    ...(await loadChat(args)),
    models: offeredChatModels(),
  }));
}

async function loadChat({ request, params }: Route.LoaderArgs) {
  const chatId = parseChatId(params.chatId);
  if (!chatId) throw data(NOT_FOUND, { status: 404 });
  // One chat, one address: an id typed in another case leads to the same chat.
  if (chatId !== params.chatId) throw redirect(href("/chat/:chatId", { chatId }), 301);
  const [{ browserBaseURL }, guestId] = await Promise.all([connectTrigger(), readGuestId(request)]);

  const access = await getChatAccess(chatId, guestId);
  if (access.kind === "unavailable") throw data(NOT_FOUND, { status: 404 });
  if (access.kind === "new") {
    // A new chat's first answer may stream from this server while the agent boots (see the head-start route).
    const headStart = getServerEnv().CHAT_HEAD_START
      ? { headStart: href("/api/chats/:chatId/head-start", { chatId }) }
      : {};
    return { chatId, baseURL: browserBaseURL, title: undefined, history: undefined, highlightedCode: {}, ...headStart };
  }

  const [page, publicAccessToken] = await Promise.all([loadChatTranscript(chatId), mintChatToken(chatId)]);
  return {
    highlightedCode: await highlightAnswerCode(page.messages),
    chatId,
    baseURL: browserBaseURL,
    title: storedTitle(access.session.metadata),
    history: {
      messages: page.messages,
      nextCursor: page.nextCursor,
      // The cursor from the saved transcript: a reload replays only what was not saved yet.
      session: { publicAccessToken, lastEventId: page.lastEventId },
    },
  };
}

// The page carries a chat token: never cache it.
export const headers: Route.HeadersFunction = () => ({ "Cache-Control": "private, no-store" });

export const meta: Route.MetaFunction = ({ loaderData, matches }) => {
  if (!loaderData) return [{ title: "Chat not found · Chat" }];
  // The sidebar's list is revalidated once the first message names the chat; this route's data is not.
  const title = matches[1]?.loaderData.chats.find((chat) => chat.id === loaderData.chatId)?.title ?? loaderData.title;
  return [{ title: title ? `${title} · Chat` : "New chat · Chat" }];
};

// After the first render useChat owns the conversation; reloading it under a live stream would only fight it.
export function shouldRevalidate({ currentParams, nextParams, defaultShouldRevalidate }: ShouldRevalidateFunctionArgs) {
  return currentParams.chatId !== nextParams.chatId && defaultShouldRevalidate;
}

export default function ChatRoute({ loaderData }: Route.ComponentProps) {
  // The transport reads its options once, so each chat gets a fresh instance.
  return <ChatPanel key={loaderData.chatId} {...loaderData} />;
}

type ChatPanelProps = Route.ComponentProps["loaderData"];

function ChatPanel(props: ChatPanelProps) {
  const { chatId, baseURL, history, highlightedCode, models } = props;
  const headStart = "headStart" in props ? props.headStart : undefined;
  const initialMessages = history?.messages ?? [];
  // The choice lives in the session: a reload picks the model of the chat's last answer.
  const [model, setModel] = useState(() =>
    initialModelChoice(
      models.models,
      models.defaultModel,
      initialMessages.findLast((message) => message.role === "assistant")?.metadata?.model,
    ),
  );
  const { revalidate } = useRevalidator();
  const titleRef = useRef<string>(undefined);
  const deliveredIds = useRef(new Set(initialMessages.map((message) => message.id)));
  const savedIds = useRef(new Set(initialMessages.map((message) => message.id)));
  /**
   * Sidebar work for a new chat (naming it, reloading the list), held until its first answer shows something
   * or its turn ends: on a server with one thread, it would otherwise be served between the message and the
   * stream that answers it, and the first words would wait for it.
   */
  const heldForFirstWords = useRef<(() => void)[]>([]);
  const transport = useChatTransport({
    chatId,
    baseURL,
    session: history?.session,
    headStart,
    takeTitle: () => titleRef.current,
    clientData: { model },
    // Refreshes the sidebar, which now lists this chat under its title.
    onSessionStarted: () => heldForFirstWords.current.push(revalidate),
    onMessageDelivered: (id) => {
      deliveredIds.current.add(id);
      // Stopped before it got there: the agent starts its turn now, and stops it at once. The agent takes a
      // stop only once the turn has begun, so it is sent again while the turn may still be starting.
      if (stopOnDelivery.current === id) {
        stopOnDelivery.current = undefined;
        void transport.stopGeneration(chatId);
        for (const delay of STOP_AGAIN_AFTER_MS) {
          stopAgainTimers.current.push(
            setTimeout(() => {
              if (stoppedTurn.current === id) void transport.stopGeneration(chatId);
            }, delay),
          );
        }
      }
    },
  });
  const stopOnDelivery = useRef<string>(undefined);
  const stopAgainTimers = useRef<ReturnType<typeof setTimeout>[]>([]);
  useEffect(() => () => stopAgainTimers.current.forEach(clearTimeout), []);
  const [renderThrottle, setRenderThrottle] = useState(() => renderThrottleFor(initialMessages));
  const {
    messages,
    sendMessage,
    setMessages,
    status,
    error,
    stop,
    regenerate,
    clearError,
    resumeStream,
    addToolApprovalResponse,
  } = useChat<ChatUIMessage>({
    id: chatId,
    messages: initialMessages,
    transport,
    // Approve or Deny on a tool call sends the answer on to the agent, which runs the tool or not.
    sendAutomaticallyWhen: lastAssistantMessageIsCompleteWithApprovalResponses,
    experimental_throttle: renderThrottle,
    // An existing session may be mid-answer: pick the stream up where the saved transcript ends.
    resume: history !== undefined,
    onData: (part) => {
      // The agent has titled the chat in its session: the sidebar and the tab's title reload it.
      if (part.type === "data-chat-title") void revalidate();
      const abandoned = abandonedMessageId(part);
      // A dead run's cut-off answer, replayed ahead of the answer that replaced it. One the saved transcript holds stays.
      if (abandoned !== undefined && !savedIds.current.has(abandoned)) {
        setMessages((current) => current.filter((message) => message.id !== abandoned));
      }
    },
  });
  // Follows the messages just rendered: set during render, so React renders again before committing.
  const wantedThrottle = renderThrottleFor(messages);
  if (wantedThrottle !== renderThrottle) setRenderThrottle(wantedThrottle);
  useEffect(() => {
    const waiting = status === "submitted" || (status === "streaming" && !answerShowsContent(messages));
    if (waiting || heldForFirstWords.current.length === 0) return;
    for (const work of heldForFirstWords.current.splice(0)) work();
  }, [messages, status]);
  // Leaving the chat before its answer came: the sidebar still learns about it.
  useEffect(() => () => heldForFirstWords.current.splice(0).forEach((work) => work()), []);
  const answeringElsewhere = useTabSync(transport, chatId, { messages, setMessages, status, resumeStream });
  const answeringHere = status === "submitted" || status === "streaming";
  const busy = answeringHere || answeringElsewhere;
  const [draft, setDraft] = useState("");
  const steering = useSteering({
    transport,
    chatId,
    status,
    messages,
    setMessages,
    resumeStream,
    clientData: { model },
    onUnsent: (text) => setDraft((current) => current || text),
  });
  const failure = error ? describeChatFailure(error) : undefined;
  /** The answer this tab stopped ("" when stopped before its first word), until the next turn. */
  const [stoppedHere, setStoppedHere] = useState<string>();
  const composerRef = useRef<HTMLTextAreaElement>(null);
  const focusComposer = () => composerRef.current?.focus({ preventScroll: true });

  // Where a keyboard is likely, the page opens ready to type; on touch screens that would pop the keyboard up.
  useEffect(() => {
    if (window.matchMedia("(pointer: fine)").matches) focusComposer();
  }, []);

  // Refused for now (too many requests): the message never reached the agent, so it goes back to the
  // composer to be sent again when the wait is over, instead of sitting in the conversation as if sent.
  useEffect(() => {
    if (!failure?.tooManyRequests) return;
    const last = messages.at(-1);
    if (last?.role !== "user" || deliveredIds.current.has(last.id)) return;
    setMessages(messages.slice(0, -1));
    setDraft((current) => current || messageText(last));
    // Once per error: the messages it reads are the ones the error ended with.
    // eslint-disable-next-line react-hooks/exhaustive-deps -- once per error, as said above
  }, [error]);

  const connection = useConnectionHealth(busy, messages);
  const last = messages.at(-1);
  const lastStopped = !busy && last !== undefined && (stoppedHere !== undefined || isStopped(last));
  const announcement = useStatusAnnouncement({
    status,
    answeringElsewhere,
    lastStopped,
    failed: failure !== undefined,
    connection,
  });

  const scrollRef = useRef<HTMLDivElement>(null);
  const followRef = useRef(true);
  const scrollFrameRef = useRef(0);
  const [awayFromLatest, setAwayFromLatest] = useState(false);
  // Keep the newest text in view while it streams, unless the reader scrolled up. Once a frame at most:
  // reading scrollHeight lays out the whole conversation, which on every chunk froze long answers.
  useEffect(() => {
    if (!followRef.current || scrollFrameRef.current) return;
    scrollFrameRef.current = requestAnimationFrame(() => {
      scrollFrameRef.current = 0;
      const scroller = scrollRef.current;
      if (scroller && followRef.current) scroller.scrollTop = scroller.scrollHeight;
    });
  }, [messages, status]);
  useEffect(() => () => cancelAnimationFrame(scrollFrameRef.current), []);

  function jumpToLatest() {
    followRef.current = true;
    setAwayFromLatest(false);
    scrollRef.current?.scrollTo({ top: scrollRef.current.scrollHeight });
    focusComposer();
  }

  /** The start of a new chat's session and run while its first message is typed; unset until then. */
  const earlyStart = useRef<Promise<unknown>>(undefined);

  function startEarly() {
    // A new chat only, and not with a head start, which starts the chat with its first message instead.
    if (history || headStart || earlyStart.current || messages.length > 0) return;
    earlyStart.current = transport.sdk.preload(chatId);
    // Refused (a rate limit, say): Send starts the chat as it would have.
    earlyStart.current.catch(() => {});
  }

  function send(text: string) {
    preloadMarkdown();
    if (messages.length === 0) {
      titleRef.current = text.slice(0, TITLE_SOURCE_MAX_LENGTH).trim();
      // A chat started early got no title: its first message names it now, beside the answer.
      const started = earlyStart.current;
      if (started) {
        heldForFirstWords.current.push(() => {
          started
            .then(() =>
              postJson(href("/api/chats/:chatId/session", { chatId }), { title: titleRef.current }).then(revalidate),
            )
            .catch(() => {});
        });
      }
    }
    followRef.current = true;
    setStoppedHere(undefined);
    stoppedTurn.current = undefined;
    void sendMessage({ text });
    focusComposer();
  }

  function queueWhileAnswering(text: string) {
    followRef.current = true;
    void steering.queue(text);
    focusComposer();
  }

  function answerApproval(approvalId: string, approved: boolean) {
    followRef.current = true;
    void addToolApprovalResponse({ id: approvalId, approved, ...(approved ? {} : { reason: "The user denied it." }) });
    focusComposer();
  }

  function writeDraft(text: string) {
    setDraft(text);
    // The answer will need the markdown renderer, and a new chat its run: start both while the user writes.
    if (text) {
      preloadMarkdown();
      startEarly();
    }
  }

  function stopAnswer() {
    const last = messages.at(-1);
    if (answeringHere) setStoppedHere(last?.role === "assistant" ? last.id : "");
    stop();
    // stop() only closes this tab's stream; this tells the agent to stop writing, also after a reload
    // and when the answer is another tab's. A message still on its way is stopped once it arrives:
    // a stop the agent gets before it would be lost, and the answer written in full.
    if (last?.role === "user" && answeringHere && !deliveredIds.current.has(last.id)) stopOnDelivery.current = last.id;
    else void transport.stopGeneration(chatId);
    focusComposer();
    const question = messages.findLast((message) => message.role === "user");
    if (answeringHere && question) void settleStoppedTurn(question.id);
  }

  /** The question of the turn this tab stopped, until the next turn starts. */
  const stoppedTurn = useRef<string>(undefined);

  /**
   * This tab stopped reading at the click, the agent a moment later: the saved
   * answer may hold a few words more, or words where this tab showed none.
   * Once the server has saved the stopped turn, the page shows what it saved,
   * as a reload would.
   */
  async function settleStoppedTurn(questionId: string) {
    stoppedTurn.current = questionId;
    for (let attempt = 0; attempt < SETTLE_ATTEMPTS; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, attempt === 0 ? SETTLE_FIRST_MS : SETTLE_EVERY_MS));
      if (stoppedTurn.current !== questionId) return;
      const saved = await loadTranscriptPage(chatId).catch(() => undefined);
      if (stoppedTurn.current !== questionId) return;
      if (!saved?.messages.some((message) => message.id === questionId)) continue;
      stoppedTurn.current = undefined;
      setMessages((shown) => withSavedTail(shown, saved.messages));
      return;
    }
  }

  function regenerateLast() {
    followRef.current = true;
    setStoppedHere(undefined);
    stoppedTurn.current = undefined;
    void regenerate();
    focusComposer();
  }

  function retry() {
    const last = messages.at(-1);
    clearError();
    if (last?.role === "user" && !deliveredIds.current.has(last.id)) {
      // The message never reached the agent: send it again as new.
      setMessages(messages.slice(0, -1));
      void sendMessage({ text: messageText(last) });
      focusComposer();
    } else {
      regenerateLast();
    }
  }

  /** The edit, regenerate or undo on its way; an error before the turn ends means the page must show what was saved. */
  const pendingAction = useRef(false);
  const [actionFailed, setActionFailed] = useState(false);
  const historyControls = useHistoryActions({
    messages,
    setMessages,
    sendMessage,
    beforeAction: () => {
      followRef.current = true;
      setStoppedHere(undefined);
      stoppedTurn.current = undefined;
      clearError();
      setActionFailed(false);
      pendingAction.current = true;
    },
    restoreDraft: (text) => setDraft((current) => current || text),
  });
  useEffect(() => {
    if (status === "ready") pendingAction.current = false;
    if (status !== "error" || !pendingAction.current) return;
    pendingAction.current = false;
    setActionFailed(true);
    // Refused or failed: the page had already mirrored the change, so it goes back to what the agent saved.
    void loadTranscriptPage(chatId)
      .then((saved) => setMessages((shown) => withSavedTail(shown, saved.messages)))
      .catch(() => {});
  }, [status, chatId, setMessages]);

  const [olderCursor, setOlderCursor] = useState(history?.nextCursor);
  const [loadingOlder, setLoadingOlder] = useState(false);
  const [olderError, setOlderError] = useState<string>();
  /** The reader's distance from the bottom, kept while earlier messages are added above. */
  const keepPlaceRef = useRef<number>(undefined);

  async function loadOlder() {
    if (!olderCursor) return;
    setLoadingOlder(true);
    setOlderError(undefined);
    try {
      const page = await loadTranscriptPage(chatId, olderCursor);
      followRef.current = false;
      const scroller = scrollRef.current;
      if (scroller) keepPlaceRef.current = scroller.scrollHeight - scroller.scrollTop;
      setMessages((current) => [
        ...page.messages.filter((older) => !current.some((m) => m.id === older.id)),
        ...current,
      ]);
      setOlderCursor(page.nextCursor ?? undefined);
    } catch (caught) {
      setOlderError(caught instanceof Error ? caught.message : String(caught));
    } finally {
      setLoadingOlder(false);
    }
  }

  // Earlier messages go in above what the reader is looking at, which stays where it was on screen.
  useLayoutEffect(() => {
    const scroller = scrollRef.current;
    if (keepPlaceRef.current === undefined || !scroller) return;
    scroller.scrollTop = scroller.scrollHeight - keepPlaceRef.current;
    keepPlaceRef.current = undefined;
  }, [messages]);

  const canActOnLast = !busy && !failure;

  return (
    <div className="relative flex min-h-0 flex-1 flex-col">
      <p role="status" data-testid="chat-status" className="sr-only">
        {announcement}
      </p>
      <div
        ref={scrollRef}
        onScroll={(event) => {
          const { scrollHeight, scrollTop, clientHeight } = event.currentTarget;
          followRef.current = scrollHeight - scrollTop - clientHeight < 80;
          setAwayFromLatest(!followRef.current);
        }}
        className="flex-1 overflow-y-auto"
      >
        <div className="mx-auto w-full max-w-3xl px-4 py-8 sm:px-6">
          {olderCursor && (
            <div className="mb-8 flex flex-col items-center gap-2">
              <button
                type="button"
                onClick={loadOlder}
                disabled={loadingOlder}
                className="rounded-full border border-zinc-200 px-4 py-1.5 text-sm text-zinc-600 hover:bg-zinc-50 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-500 disabled:opacity-60 dark:border-zinc-800 dark:text-zinc-300 dark:hover:bg-zinc-900"
              >
                {loadingOlder ? "Loading…" : "Load earlier messages"}
              </button>
              {olderError && (
                <p role="alert" className="text-sm text-red-600 dark:text-red-400">
                  {olderError}
                </p>
              )}
            </div>
          )}
          {messages.length === 0 ? (
            <EmptyState onPick={send} />
          ) : (
            <ServerHighlightedCode value={highlightedCode}>
              <ModelOptionsContext value={models.models}>
                <MessageList
                  messages={messages}
                  busy={busy}
                  streaming={status === "streaming" || answeringElsewhere}
                  stoppedHere={stoppedHere}
                  onContinue={canActOnLast ? () => send(CONTINUE_PROMPT) : undefined}
                  onRegenerate={canActOnLast ? regenerateLast : undefined}
                  onApprovalResponse={busy ? undefined : answerApproval}
                  history={busy ? undefined : historyControls}
                />
              </ModelOptionsContext>
            </ServerHighlightedCode>
          )}
          <PendingMessages pending={steering.pending} />
        </div>
      </div>

      <div className="relative mx-auto w-full max-w-3xl space-y-3 px-4 pb-4 sm:px-6">
        {awayFromLatest && messages.length > 0 && (
          <button
            type="button"
            onClick={jumpToLatest}
            data-testid="jump-to-latest"
            className="absolute -top-12 left-1/2 flex -translate-x-1/2 items-center gap-1.5 rounded-full border border-zinc-200 bg-white px-3 py-1.5 text-sm font-medium text-zinc-700 shadow-md hover:bg-zinc-50 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-500 dark:border-zinc-700 dark:bg-zinc-900 dark:text-zinc-200 dark:hover:bg-zinc-800"
          >
            <ArrowDownIcon className="size-4" />
            {busy ? "Jump to the answer" : "Jump to latest"}
          </button>
        )}
        {(connection === "offline" || (connection === "stalled" && busy)) && (
          <p data-testid="connection-notice" className="text-center text-sm text-amber-800 dark:text-amber-300">
            {connection === "offline" && !busy ? OFFLINE_IDLE_NOTICE : CONNECTION_NOTICES[connection]}
          </p>
        )}
        {failure && (
          <ChatError
            message={failure.message}
            // After a refused edit, regenerate or undo, Retry would answer something else: the user repeats the action.
            onRetry={failure.tooManyRequests || answeringElsewhere || actionFailed ? undefined : retry}
          />
        )}
        <Composer
          text={draft}
          onTextChange={writeDraft}
          busy={busy}
          busyReason={answeringElsewhere ? ANSWERING_ELSEWHERE : undefined}
          onSend={send}
          onQueue={status === "streaming" && !answeringElsewhere ? queueWhileAnswering : undefined}
          onStop={stopAnswer}
          inputRef={composerRef}
        />
        <div className="flex flex-wrap items-center justify-between gap-2">
          <ModelPicker models={models.models} value={model} onChange={setModel} />
          <p className="text-xs text-zinc-600 dark:text-zinc-400">Answers can be wrong. Check anything important.</p>
        </div>
      </div>
    </div>
  );
}

/** What Continue sends after a stopped answer: the agent picks up from where its answer ends. */
const CONTINUE_PROMPT = "Continue";
const ANSWERING_ELSEWHERE =
  "This chat is answering in another tab. You can send once that answer is done, or stop it here.";
/** When a stop sent as its message arrived is sent again, until the stopped turn is saved (stops between turns change nothing). */
const STOP_AGAIN_AFTER_MS = [300, 1_000, 2_500];
/** After a stop, when the page asks whether the server has saved the stopped turn: soon, then every second for a while. */
const SETTLE_FIRST_MS = 300;
const SETTLE_EVERY_MS = 1_000;
const SETTLE_ATTEMPTS = 30;
/** How long an answer may go without a word before the page says it is waiting. */
const STALL_AFTER_MS = 8_000;

type ConnectionHealth = "ok" | "stalled" | "offline";

const OFFLINE_IDLE_NOTICE = "You’re offline. Messages can be sent once the connection is back.";

const CONNECTION_NOTICES: Record<Exclude<ConnectionHealth, "ok">, string> = {
  stalled: "Still waiting for the answer. The connection reconnects by itself.",
  offline: "You’re offline. The answer continues when the connection is back.",
};

/** Whether a running answer is still arriving: "stalled" after a while without a word, "offline" when the browser has no network. */
function useConnectionHealth(busy: boolean, messages: ChatUIMessage[]): ConnectionHealth {
  const online = useSyncExternalStore(
    subscribeToOnline,
    () => navigator.onLine,
    () => true,
  );
  const [stalled, setStalled] = useState(false);
  useEffect(() => {
    // Each new word (or a new turn) restarts the wait. Derived state would need a per-turn key to tell a
    // new turn over unchanged messages (another tab's) from the one that stalled.
    // eslint-disable-next-line react-hooks/set-state-in-effect -- restarting the timer is the effect
    setStalled(false);
    if (!busy) return;
    const timer = setTimeout(() => setStalled(true), STALL_AFTER_MS);
    return () => clearTimeout(timer);
  }, [busy, messages]);
  if (!online) return "offline";
  return stalled ? "stalled" : "ok";
}

function subscribeToOnline(onChange: () => void) {
  window.addEventListener("online", onChange);
  window.addEventListener("offline", onChange);
  return () => {
    window.removeEventListener("online", onChange);
    window.removeEventListener("offline", onChange);
  };
}

/** The sentence the page's live region says for the chat's state: screen readers hear each change once. */
function useStatusAnnouncement({
  status,
  answeringElsewhere,
  lastStopped,
  failed,
  connection,
}: {
  status: ChatStatus;
  answeringElsewhere: boolean;
  /** The last answer was stopped, here or in another tab. */
  lastStopped: boolean;
  /** The error alert says what went wrong. */
  failed: boolean;
  connection: ConnectionHealth;
}): string {
  // Announcements are events (this status changed, that tab finished), not a function of the current
  // props, so effects that see the transitions set them.
  const [announcement, setAnnouncement] = useState("");
  const finished = lastStopped ? "Answer stopped." : "Answer complete.";
  const previousStatus = useRef(status);
  useEffect(() => {
    const was = previousStatus.current;
    previousStatus.current = status;
    if (status === was) return;
    // eslint-disable-next-line react-hooks/set-state-in-effect -- an announcement is a transition, see above
    if (status === "submitted") setAnnouncement("The assistant is thinking.");
    // Only an answer this page streamed: reconnecting after a reload to find it finished announces nothing.
    else if (status === "ready" && was === "streaming") setAnnouncement(finished);
    else if (status === "ready" || status === "error") setAnnouncement("");
  }, [status, finished]);
  // A stop seen on this page, not one the page opened on.
  const wasStopped = useRef(lastStopped);
  useEffect(() => {
    if (lastStopped && !wasStopped.current) setAnnouncement("Answer stopped.");
    wasStopped.current = lastStopped;
  }, [lastStopped]);
  const wasAnsweringElsewhere = useRef(answeringElsewhere);
  useEffect(() => {
    // eslint-disable-next-line react-hooks/set-state-in-effect -- an announcement is a transition
    if (answeringElsewhere) setAnnouncement("An answer is being written in another tab.");
    else if (wasAnsweringElsewhere.current) setAnnouncement(finished);
    wasAnsweringElsewhere.current = answeringElsewhere;
  }, [answeringElsewhere, finished]);
  useEffect(() => {
    // eslint-disable-next-line react-hooks/set-state-in-effect -- an announcement is a transition
    if (connection !== "ok") setAnnouncement(CONNECTION_NOTICES[connection]);
  }, [connection]);
  useEffect(() => {
    // eslint-disable-next-line react-hooks/set-state-in-effect -- an announcement is a transition
    if (failed) setAnnouncement("");
  }, [failed]);
  return announcement;
}

export function ErrorBoundary({ error }: Route.ErrorBoundaryProps) {
  const notFound = isRouteErrorResponse(error) && error.status === 404;
  // Too busy or unavailable for now: the server's message says so and when to come back.
  const busy =
    isRouteErrorResponse(error) &&
    (error.status === 429 || error.status === 503) &&
    typeof error.data?.error === "string";
  const details = notFound
    ? NOT_FOUND
    : busy
      ? String(error.data.error)
      : "Something went wrong on our side. Please try again in a moment.";
  return (
    <div
      data-testid={notFound ? "chat-not-found" : "chat-failed"}
      className="flex flex-1 flex-col items-center justify-center gap-4 p-6 text-center"
    >
      <h1 className="text-xl font-semibold">{notFound ? "Chat not found" : "This chat couldn’t be loaded"}</h1>
      <p className="max-w-sm text-zinc-500 dark:text-zinc-400">{details}</p>
      <Link to="/" className="rounded-lg bg-indigo-600 px-4 py-2 text-sm font-medium text-white hover:bg-indigo-500">
        Start a new chat
      </Link>
    </div>
  );
}
