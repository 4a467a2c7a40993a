import { memo, useEffect, useReducer } from "react";
import type { ChatUIMessage } from "../../../trigger/chat";
import { AnswerPart, answerSegments } from "./answer-parts";
import { CopyButton } from "./copy-button";
import { AnswerHistoryActions, EditableUserMessage } from "./message-history";
import { RetryIcon, SparkleIcon, StopIcon } from "./icons";
import { AnswerModel } from "./model-picker";
import type { ApprovalResponse } from "./tool-call";

let markdownModule: typeof import("./markdown") | undefined;
let markdownLoading: Promise<typeof import("./markdown")> | undefined;

/**
 * Fetches the markdown renderer, a third of the page's script: a new chat
 * needs it only once an answer arrives, so the chat fetches it when the user
 * starts writing, a page with answers before it hydrates, and the server at boot.
 */
export function loadMarkdown() {
  markdownLoading ??= import("./markdown").then(
    (module) => {
      markdownModule = module;
      // While the user writes or the message is on its way, not when the first words arrive.
      whenIdle(module.warmUpMarkdownParser);
      return module;
    },
    (error: unknown) => {
      markdownLoading = undefined;
      throw error;
    },
  );
  return markdownLoading;
}

function whenIdle(work: () => void) {
  if (typeof requestIdleCallback === "function") requestIdleCallback(work, { timeout: 500 });
  else setTimeout(work, 0);
}

export function preloadMarkdown() {
  loadMarkdown().catch(() => {});
}

/** The renderer once it is here; until then (milliseconds, once) answers show as plain text. */
function useMarkdown() {
  const [, rerender] = useReducer((count: number) => count + 1, 0);
  useEffect(() => {
    // A renderer that cannot load (offline, replaced by a deploy) leaves answers as plain text, never an error page.
    if (!markdownModule) loadMarkdown().then(rerender, () => {});
  }, []);
  return markdownModule?.Markdown;
}

function PlainText({ text }: { text: string }) {
  return <div className="markdown whitespace-pre-wrap">{text}</div>;
}

type MessageListProps = {
  messages: ChatUIMessage[];
  /** An answer is on its way, in this tab or (read-only here) in another. */
  busy: boolean;
  /**
   * The last answer is being written now. Not the same as busy: a page that
   * reconnects after a reload is busy until the server says the answer it
   * shows was already finished.
   */
  streaming: boolean;
  /** The answer this tab stopped, before the saved transcript can say so; "" when it was stopped before its first word. */
  stoppedHere: string | undefined;
  /** Set when the last answer may be continued or written again now. */
  onContinue?: () => void;
  onRegenerate?: () => void;
  /** Set when a tool call waiting for approval may be answered now. */
  onApprovalResponse?: ApprovalResponse;
  /** Edit, regenerate and undo; set while the chat may change (not while it answers). Stable functions, for memo. */
  history?: HistoryControls;
};

export type HistoryControls = {
  onEdit: (messageId: string, text: string) => void;
  onRegenerateAnswer: (messageId: string) => void;
  onUndo: () => void;
};

export function MessageList({
  messages,
  busy,
  streaming,
  stoppedHere,
  onContinue,
  onRegenerate,
  onApprovalResponse,
  history,
}: MessageListProps) {
  const last = messages.at(-1);
  // Between sending and the first chunk of the answer there is nothing to show but a pulse.
  const awaitingAnswer = busy && last?.role !== "assistant";
  const lastStopped =
    !busy &&
    last !== undefined &&
    (last.id === stoppedHere || (last.role === "user" && stoppedHere === "") || isStopped(last));
  const actions = lastStopped && (onContinue || onRegenerate) ? { onContinue, onRegenerate } : undefined;

  return (
    <ol aria-label="Conversation" aria-busy={busy} className="flex flex-col gap-8">
      {messages.map((message) => (
        <li key={message.id} data-message-id={message.id}>
          {message.role === "user" ? (
            <UserMessage message={message} onEdit={history?.onEdit} />
          ) : (
            <AssistantMessage
              message={message}
              streaming={streaming && message === last}
              stopped={message.id === stoppedHere || isStopped(message)}
              actions={message === last ? actions : undefined}
              onApprovalResponse={message === last ? onApprovalResponse : undefined}
              // A stopped last answer already offers Regenerate beside Continue.
              onRegenerate={message === last && actions ? undefined : history?.onRegenerateAnswer}
              // The exchange this answer ends, when it is the last: undone as a whole.
              onUndo={message === last ? history?.onUndo : undefined}
            />
          )}
        </li>
      ))}
      {awaitingAnswer && (
        <li>
          <AssistantFrame>
            <span className="flex h-7 items-center gap-1" data-testid="typing-indicator">
              <span className="sr-only">The assistant is thinking</span>
              <span aria-hidden className="size-1.5 animate-bounce rounded-full bg-zinc-400 [animation-delay:-0.3s]" />
              <span aria-hidden className="size-1.5 animate-bounce rounded-full bg-zinc-400 [animation-delay:-0.15s]" />
              <span aria-hidden className="size-1.5 animate-bounce rounded-full bg-zinc-400" />
            </span>
          </AssistantFrame>
        </li>
      )}
      {/* Stopped before the first word: no answer to mark, so the marker stands on its own. */}
      {lastStopped && last?.role === "user" && (
        <li>
          <AssistantFrame>
            <StoppedMarker actions={actions} />
          </AssistantFrame>
        </li>
      )}
    </ol>
  );
}

/** Whether the saved answer says the user stopped it (the agent adds a `data-stopped` part). */
export function isStopped(message: ChatUIMessage): boolean {
  return message.role === "assistant" && message.parts.some((part) => part.type === "data-stopped");
}

type StoppedActions = { onContinue?: () => void; onRegenerate?: () => void };

function StoppedMarker({ actions }: { actions: StoppedActions | undefined }) {
  return (
    <div
      data-testid="stopped-marker"
      className="mt-2 flex flex-wrap items-center gap-2 text-xs text-zinc-600 dark:text-zinc-400"
    >
      <span className="inline-flex items-center gap-1 rounded-full bg-zinc-100 px-2 py-0.5 font-medium dark:bg-zinc-800">
        <StopIcon className="size-2.5" />
        Stopped
      </span>
      {actions?.onContinue && (
        <button type="button" onClick={actions.onContinue} className={ACTION_BUTTON}>
          Continue
        </button>
      )}
      {actions?.onRegenerate && (
        <button type="button" onClick={actions.onRegenerate} className={ACTION_BUTTON}>
          <RetryIcon className="size-3" />
          Regenerate
        </button>
      )}
    </div>
  );
}

const ACTION_BUTTON =
  "inline-flex items-center gap-1 rounded-md px-2 py-1 font-medium text-zinc-700 ring-1 ring-zinc-200 hover:bg-zinc-100 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-500 dark:text-zinc-200 dark:ring-zinc-700 dark:hover:bg-zinc-800";

/** The text the message shows; other part kinds (step markers, data parts) carry nothing to render here. */
export function messageText(message: ChatUIMessage): string {
  return message.parts.flatMap((part) => (part.type === "text" ? [part.text] : [])).join("\n\n");
}

// Memoised on the message object: useChat replaces only the message that changed, so while an
// answer streams the messages before it are not rendered again.
const UserMessage = memo(function UserMessage({
  message,
  onEdit,
}: {
  message: ChatUIMessage;
  onEdit: HistoryControls["onEdit"] | undefined;
}) {
  const text = messageText(message);
  return (
    <div data-testid="message-user" className="flex justify-end">
      <EditableUserMessage text={text} onEdit={onEdit && ((edited) => onEdit(message.id, edited))}>
        <UserBubble text={text} />
      </EditableUserMessage>
    </div>
  );
});

function UserBubble({ text }: { text: string }) {
  return (
    <div className="w-fit max-w-full self-end rounded-3xl bg-zinc-100 px-4 py-2.5 text-[15px] leading-7 whitespace-pre-wrap break-words text-zinc-900 dark:bg-zinc-800 dark:text-zinc-100">
      {text}
    </div>
  );
}

type AssistantMessageProps = {
  message: ChatUIMessage;
  streaming: boolean;
  stopped: boolean;
  actions: StoppedActions | undefined;
  onApprovalResponse: ApprovalResponse | undefined;
  onRegenerate: ((messageId: string) => void) | undefined;
  onUndo: (() => void) | undefined;
};

const AssistantMessage = memo(function AssistantMessage({
  message,
  streaming,
  stopped,
  actions,
  onApprovalResponse,
  onRegenerate,
  onUndo,
}: AssistantMessageProps) {
  const text = messageText(message);
  const Markdown = useMarkdown();
  const segments = answerSegments(message);
  // Always one text block, even before the first word: it is where the words will stream in.
  if (!segments.some((segment) => segment.kind === "text")) segments.push({ kind: "text", text: "" });
  return (
    <AssistantFrame>
      <div
        data-testid="message-assistant"
        data-streaming={streaming}
        data-model={message.metadata?.model}
        aria-busy={streaming}
      >
        {segments.map((segment, index) => {
          const writing = streaming && index === segments.length - 1;
          if (segment.kind !== "text") {
            return (
              <AnswerPart key={index} segment={segment} streaming={writing} onApprovalResponse={onApprovalResponse} />
            );
          }
          // Markdown is the lazily imported module's own component, the same function on every render.
          if (Markdown) return <Markdown key={index} text={segment.text} streaming={writing} />;
          return <PlainText key={index} text={segment.text} />;
        })}
        {!streaming && stopped && <StoppedMarker actions={actions} />}
        {!streaming && (
          <div className="mt-2 flex items-center gap-2 text-xs text-zinc-600 dark:text-zinc-400">
            {text && (
              <CopyButton
                text={text}
                label="Copy answer"
                className="-ml-1.5 hover:bg-zinc-100 hover:text-zinc-900 dark:hover:bg-zinc-800 dark:hover:text-zinc-100"
              />
            )}
            {message.metadata && !message.metadata.offline && <AnswerModel id={message.metadata.model} />}
            {message.metadata?.offline && (
              <span
                data-testid="offline-badge"
                title="Answered without calling an AI service. Set GOOGLE_GENERATIVE_AI_API_KEY for real answers."
                className="rounded-full bg-amber-100 px-2 py-0.5 font-medium text-amber-800 dark:bg-amber-400/15 dark:text-amber-300"
              >
                Offline demo model
              </span>
            )}
            <AnswerHistoryActions onRegenerate={onRegenerate && (() => onRegenerate(message.id))} onUndo={onUndo} />
          </div>
        )}
      </div>
    </AssistantFrame>
  );
});

function AssistantFrame({ children }: { children: React.ReactNode }) {
  return (
    <div className="flex gap-3 sm:gap-4">
      <div
        aria-hidden
        className="mt-0.5 flex size-8 shrink-0 items-center justify-center rounded-full bg-gradient-to-br from-indigo-500 to-violet-600 text-white shadow-sm"
      >
        <SparkleIcon className="size-4" />
      </div>
      <div className="min-w-0 flex-1 pt-0.5">{children}</div>
    </div>
  );
}
