import { AlertIcon, RetryIcon } from "./icons";

/** The error under the conversation; Retry only when sending the same thing again could help now. */
export function ChatError({ message, onRetry }: { message: string; onRetry?: () => void }) {
  return (
    <div
      role="alert"
      data-testid="chat-error"
      className="flex items-center gap-3 rounded-2xl border border-red-200 bg-red-50 px-4 py-3 text-sm text-red-800 dark:border-red-900/60 dark:bg-red-950/40 dark:text-red-200"
    >
      <AlertIcon className="size-4 shrink-0" />
      <p className="flex-1">{message}</p>
      {onRetry && (
        <button
          type="button"
          onClick={onRetry}
          aria-label="Retry the last message"
          className="inline-flex shrink-0 items-center gap-1.5 rounded-lg bg-white px-2.5 py-1 font-medium text-red-800 shadow-sm ring-1 ring-red-200 hover:bg-red-100 dark:bg-red-900/40 dark:text-red-100 dark:ring-red-800 dark:hover:bg-red-900/70"
        >
          <RetryIcon className="size-3.5" />
          Retry
        </button>
      )}
    </div>
  );
}
