/**
 * The model's reasoning, collapsed under a summary the reader can open
 * (a native disclosure: Enter or Space toggles it). While the model is still
 * reasoning, the summary says so.
 */
export function Reasoning({ text, streaming }: { text: string; streaming: boolean }) {
  return (
    <details
      data-testid="reasoning"
      className="group mb-3 rounded-xl border border-zinc-200 text-sm dark:border-zinc-800"
    >
      <summary className="cursor-pointer rounded-xl px-4 py-2 font-medium text-zinc-700 select-none hover:bg-zinc-50 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-500 dark:text-zinc-300 dark:hover:bg-zinc-900">
        {streaming ? "Thinking…" : "Reasoning"}
      </summary>
      <div
        data-testid="reasoning-text"
        className="border-t border-zinc-200 px-4 py-3 leading-6 whitespace-pre-wrap text-zinc-700 dark:border-zinc-800 dark:text-zinc-300"
      >
        {text}
      </div>
    </details>
  );
}
