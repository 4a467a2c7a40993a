import type { PendingMessage } from "./use-steering";

/** Messages sent while an answer is written, shown as queued until the agent takes them. */
export function PendingMessages({ pending }: { pending: PendingMessage[] }) {
  if (pending.length === 0) return null;
  return (
    <ol aria-label="Queued messages" className="mt-8 flex flex-col items-end gap-2">
      {pending.map((message) => (
        <li
          key={message.id}
          data-testid="queued-message"
          data-state={message.state}
          className="max-w-[85%] rounded-3xl border border-dashed border-zinc-300 px-4 py-2.5 text-[15px] leading-7 whitespace-pre-wrap break-words text-zinc-800 dark:border-zinc-700 dark:text-zinc-200"
        >
          {message.text}
          <span className="ml-2 align-middle text-xs font-medium text-zinc-600 dark:text-zinc-400">
            {message.state === "sending" ? "Sending…" : "Queued"}
          </span>
        </li>
      ))}
    </ol>
  );
}
