import type { ChatStatus } from "ai";
import { lazy, memo, Suspense } from "react";
import type { ChatUIMessage } from "../../../trigger/chat";
import { CopyButton } from "./copy-button";
import { SparkleIcon } from "./icons";

let markdownModule: Promise<typeof import("./markdown")> | undefined;
function loadMarkdown() {
  markdownModule ??= import("./markdown").catch((error: unknown) => {
    markdownModule = undefined;
    throw error;
  });
  return markdownModule;
}

/**
 * Starts fetching the markdown renderer, a third of the page's script: a new
 * chat needs it only once an answer arrives, so the chat fetches it when the
 * user starts writing, and a chat with answers as soon as it renders them.
 */
export function preloadMarkdown() {
  loadMarkdown().catch(() => {});
}

// A renderer that cannot load (offline, replaced by a deploy) leaves answers as plain text, never an error page.
const Markdown = lazy(() => loadMarkdown().then((module) => ({ default: module.Markdown }), () => ({ default: PlainText })));

function PlainText({ text }: { text: string }) {
  return <div className="markdown whitespace-pre-wrap">{text}</div>;
}

export function MessageList({ messages, status }: { messages: ChatUIMessage[]; status: ChatStatus }) {
  const last = messages.at(-1);
  const busy = status === "submitted" || status === "streaming";
  // Between sending and the first chunk of the answer there is nothing to show but a pulse.
  const awaitingAnswer = busy && last?.role !== "assistant";

  return (
    <ol role="log" aria-label="Conversation" aria-busy={busy} className="flex flex-col gap-8">
      {messages.map((message) => (
        <li key={message.id}>
          {message.role === "user" ? (
            <UserMessage message={message} />
          ) : (
            <AssistantMessage message={message} streaming={busy && message === last} />
          )}
        </li>
      ))}
      {awaitingAnswer && (
        <li>
          <AssistantFrame>
            <span className="flex h-7 items-center gap-1" data-testid="typing-indicator" aria-label="Assistant is thinking">
              <span className="size-1.5 animate-bounce rounded-full bg-zinc-400 [animation-delay:-0.3s]" />
              <span className="size-1.5 animate-bounce rounded-full bg-zinc-400 [animation-delay:-0.15s]" />
              <span className="size-1.5 animate-bounce rounded-full bg-zinc-400" />
            </span>
          </AssistantFrame>
        </li>
      )}
    </ol>
  );
}

/** The text the message shows; other part kinds (step markers, data parts) carry nothing to render here. */
export function messageText(message: ChatUIMessage): string {
  return message.parts.flatMap((part) => (part.type === "text" ? [part.text] : [])).join("\n\n");
}

// Memoised on the message object: useChat replaces only the message that changed, so while an
// answer streams the messages before it are not rendered again.
const UserMessage = memo(function UserMessage({ message }: { message: ChatUIMessage }) {
  return (
    <div data-testid="message-user" className="flex justify-end">
      <div className="max-w-[85%] rounded-3xl bg-zinc-100 px-4 py-2.5 text-[15px] leading-7 whitespace-pre-wrap break-words text-zinc-900 dark:bg-zinc-800 dark:text-zinc-100">
        {messageText(message)}
      </div>
    </div>
  );
});

const AssistantMessage = memo(function AssistantMessage({ message, streaming }: { message: ChatUIMessage; streaming: boolean }) {
  const text = messageText(message);
  return (
    <AssistantFrame>
      <div data-testid="message-assistant" data-streaming={streaming} aria-busy={streaming}>
        {/* Until the renderer arrives (milliseconds, once), the answer shows as plain text; hydration keeps the server's markdown. */}
        <Suspense fallback={<PlainText text={text} />}>
          <Markdown text={text} streaming={streaming} />
        </Suspense>
        {!streaming && (
          <div className="mt-2 flex items-center gap-2 text-xs text-zinc-500 dark:text-zinc-400">
            {text && (
              <CopyButton
                text={text}
                label="Copy answer"
                className="-ml-1.5 hover:bg-zinc-100 hover:text-zinc-900 dark:hover:bg-zinc-800 dark:hover:text-zinc-100"
              />
            )}
            {message.metadata?.offline && (
              <span
                data-testid="offline-badge"
                title="Answered without calling an AI service. Set GOOGLE_GENERATIVE_AI_API_KEY for real answers."
                className="rounded-full bg-amber-100 px-2 py-0.5 font-medium text-amber-800 dark:bg-amber-400/15 dark:text-amber-300"
              >
                Offline demo model
              </span>
            )}
          </div>
        )}
      </div>
    </AssistantFrame>
  );
});

function AssistantFrame({ children }: { children: React.ReactNode }) {
  return (
    <div className="flex gap-3 sm:gap-4">
      <div className="mt-0.5 flex size-8 shrink-0 items-center justify-center rounded-full bg-gradient-to-br from-indigo-500 to-violet-600 text-white shadow-sm">
        <SparkleIcon className="size-4" />
      </div>
      <div className="min-w-0 flex-1 pt-0.5">{children}</div>
    </div>
  );
}
