import { useChat } from "@ai-sdk/react";
import { useEffect, useRef, useState } from "react";
import { data, href, isRouteErrorResponse, Link, redirect, type ShouldRevalidateFunctionArgs, useRevalidator } from "react-router";
import { abandonedMessageId } from "~/components/chat/abandoned-messages";
import { ChatError } from "~/components/chat/chat-error";
import { describeChatFailure } from "~/components/chat/chat-failure";
import { Composer } from "~/components/chat/composer";
import { EmptyState } from "~/components/chat/empty-state";
import { MessageList, messageText, preloadMarkdown } from "~/components/chat/message-list";
import { useChatTransport } from "~/components/chat/use-chat-transport";
import { postJson } from "~/lib/api-client";
import { parseChatId, TITLE_SOURCE_MAX_LENGTH } from "~/lib/chats";
import { getChatAccess, loadChatTranscript, storedTitle } from "~/lib/chats.server";
import { readGuestId } from "~/lib/guest.server";
import { loadOrThrowCapacity } from "~/lib/http.server";
import { connectTrigger, mintChatToken } from "~/lib/trigger.server";
import type { ChatUIMessage } from "../../trigger/chat";
import type { Route } from "./+types/chat";

const NOT_FOUND = "This chat doesn’t exist, or it belongs to someone else.";
/** The most often a streamed answer re-renders. */
const RENDER_INTERVAL_MS = 50;

export function loader(args: Route.LoaderArgs) {
  return loadOrThrowCapacity("loading a chat page", () => loadChat(args));
}

async function loadChat({ request, params }: Route.LoaderArgs) {
  const chatId = parseChatId(params.chatId);
  if (!chatId) throw data(NOT_FOUND, { status: 404 });
  // One chat, one address: an id typed in another case leads to the same chat.
  if (chatId !== params.chatId) throw redirect(href("/chat/:chatId", { chatId }), 301);
  const [{ browserBaseURL }, guestId] = await Promise.all([connectTrigger(), readGuestId(request)]);

  const access = await getChatAccess(chatId, guestId);
  if (access.kind === "unavailable") throw data(NOT_FOUND, { status: 404 });
  if (access.kind === "new") return { chatId, baseURL: browserBaseURL, title: undefined, history: undefined };

  const [page, publicAccessToken] = await Promise.all([loadChatTranscript(chatId), mintChatToken(chatId)]);
  return {
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

function ChatPanel({ chatId, baseURL, history }: ChatPanelProps) {
  const initialMessages = history?.messages ?? [];
  const { revalidate } = useRevalidator();
  const titleRef = useRef<string>(undefined);
  const deliveredIds = useRef(new Set(initialMessages.map((message) => message.id)));
  const savedIds = useRef(new Set(initialMessages.map((message) => message.id)));
  const transport = useChatTransport({
    chatId,
    baseURL,
    session: history?.session,
    takeTitle: () => titleRef.current,
    // Refreshes the sidebar, which now lists this chat under its title.
    onSessionStarted: revalidate,
    onMessageDelivered: (id) => deliveredIds.current.add(id),
  });
  const { messages, sendMessage, setMessages, status, error, stop, regenerate, clearError } = useChat<ChatUIMessage>({
    id: chatId,
    messages: initialMessages,
    transport,
    // Models stream a word or two per chunk, often 100 chunks a second: one render per frame-ish is as
    // smooth to read and leaves the main thread free for input.
    experimental_throttle: RENDER_INTERVAL_MS,
    // An existing session may be mid-answer: pick the stream up where the saved transcript ends.
    resume: history !== undefined,
    onData: (part) => {
      const abandoned = abandonedMessageId(part);
      // A dead run's cut-off answer, replayed ahead of the answer that replaced it. One the saved transcript holds stays.
      if (abandoned !== undefined && !savedIds.current.has(abandoned)) {
        setMessages((current) => current.filter((message) => message.id !== abandoned));
      }
    },
  });
  const busy = status === "submitted" || status === "streaming";
  const [draft, setDraft] = useState("");
  const failure = error ? describeChatFailure(error) : undefined;

  // Refused for now (too many requests): the message never reached the agent, so it goes back to the
  // composer to be sent again when the wait is over, instead of sitting in the conversation as if sent.
  useEffect(() => {
    if (!failure?.tooManyRequests) return;
    const last = messages.at(-1);
    if (last?.role !== "user" || deliveredIds.current.has(last.id)) return;
    setMessages(messages.slice(0, -1));
    setDraft((current) => current || messageText(last));
    // Once per error: the messages it reads are the ones the error ended with.
  }, [error]);

  const scrollRef = useRef<HTMLDivElement>(null);
  const followRef = useRef(true);
  const scrollFrameRef = useRef(0);
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

  function send(text: string) {
    preloadMarkdown();
    if (messages.length === 0) titleRef.current = text.slice(0, TITLE_SOURCE_MAX_LENGTH).trim();
    followRef.current = true;
    void sendMessage({ text });
  }

  function writeDraft(text: string) {
    setDraft(text);
    // The answer will need the markdown renderer: fetch it while the user writes.
    if (text) preloadMarkdown();
  }

  function stopAnswer() {
    stop();
    // stop() only closes this tab's stream; this tells the agent to stop writing, also after a reload.
    void transport.stopGeneration(chatId);
  }

  function retry() {
    const last = messages.at(-1);
    clearError();
    if (last?.role === "user" && !deliveredIds.current.has(last.id)) {
      // The message never reached the agent: send it again as new.
      setMessages(messages.slice(0, -1));
      void sendMessage({ text: messageText(last) });
    } else {
      void regenerate();
    }
  }

  const [olderCursor, setOlderCursor] = useState(history?.nextCursor);
  const [loadingOlder, setLoadingOlder] = useState(false);
  const [olderError, setOlderError] = useState<string>();

  async function loadOlder() {
    if (!olderCursor) return;
    setLoadingOlder(true);
    setOlderError(undefined);
    try {
      const page = await postJson<{ messages: ChatUIMessage[]; nextCursor: string | null }>(
        href("/api/chats/:chatId/transcript", { chatId }),
        { before: olderCursor },
      );
      followRef.current = false;
      setMessages((current) => [...page.messages.filter((older) => !current.some((m) => m.id === older.id)), ...current]);
      setOlderCursor(page.nextCursor ?? undefined);
    } catch (caught) {
      setOlderError(caught instanceof Error ? caught.message : String(caught));
    } finally {
      setLoadingOlder(false);
    }
  }

  return (
    <div className="flex min-h-0 flex-1 flex-col">
      <div
        ref={scrollRef}
        onScroll={(event) => {
          const { scrollHeight, scrollTop, clientHeight } = event.currentTarget;
          followRef.current = scrollHeight - scrollTop - clientHeight < 80;
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
                className="rounded-full border border-zinc-200 px-4 py-1.5 text-sm text-zinc-600 hover:bg-zinc-50 disabled:opacity-60 dark:border-zinc-800 dark:text-zinc-300 dark:hover:bg-zinc-900"
              >
                {loadingOlder ? "Loading…" : "Load earlier messages"}
              </button>
              {olderError && <p role="alert" className="text-sm text-red-600 dark:text-red-400">{olderError}</p>}
            </div>
          )}
          {messages.length === 0 ? <EmptyState onPick={send} /> : <MessageList messages={messages} status={status} />}
        </div>
      </div>

      <div className="mx-auto w-full max-w-3xl space-y-3 px-4 pb-4 sm:px-6">
        {failure && <ChatError message={failure.message} onRetry={failure.tooManyRequests ? undefined : retry} />}
        <Composer text={draft} onTextChange={writeDraft} busy={busy} onSend={send} onStop={stopAnswer} />
        <p className="text-center text-xs text-zinc-400 dark:text-zinc-500">Answers can be wrong. Check anything important.</p>
      </div>
    </div>
  );
}

export function ErrorBoundary({ error }: Route.ErrorBoundaryProps) {
  const notFound = isRouteErrorResponse(error) && error.status === 404;
  // Too busy or unavailable for now: the server's message says so and when to come back.
  const busy = isRouteErrorResponse(error) && (error.status === 429 || error.status === 503) && typeof error.data?.error === "string";
  const details = notFound ? NOT_FOUND : busy ? String(error.data.error) : "Something went wrong on our side. Please try again in a moment.";
  return (
    <div data-testid={notFound ? "chat-not-found" : "chat-failed"} className="flex flex-1 flex-col items-center justify-center gap-4 p-6 text-center">
      <h1 className="text-xl font-semibold">{notFound ? "Chat not found" : "This chat couldn’t be loaded"}</h1>
      <p className="max-w-sm text-zinc-500 dark:text-zinc-400">{details}</p>
      <Link to="/" className="rounded-lg bg-indigo-600 px-4 py-2 text-sm font-medium text-white hover:bg-indigo-500">
        Start a new chat
      </Link>
    </div>
  );
}
