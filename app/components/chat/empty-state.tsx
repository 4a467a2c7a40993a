import { SparkleIcon } from "./icons";

export const SUGGESTED_PROMPTS = [
  { title: "Explain a concept", prompt: "Explain how HTTP streaming with Server-Sent Events works, in simple terms." },
  {
    title: "Write some code",
    prompt: "Write a TypeScript function that debounces another function, with a short usage example.",
  },
  { title: "Plan something", prompt: "Plan a relaxed three-day trip to Lisbon with one highlight per day." },
  { title: "Compare options", prompt: "Compare SQLite and Postgres for a small side project, as a short table." },
] as const;

export function EmptyState({ onPick }: { onPick: (prompt: string) => void }) {
  return (
    <div className="flex flex-col items-center gap-8 pt-[12vh] text-center">
      <div className="flex size-12 items-center justify-center rounded-2xl bg-gradient-to-br from-indigo-500 to-violet-600 text-white shadow-lg shadow-indigo-500/25">
        <SparkleIcon className="size-6" />
      </div>
      <div className="space-y-2">
        {/* An h2: the page's h1 is the chat's title in the header. */}
        <h2 className="text-2xl font-semibold tracking-tight sm:text-3xl">How can I help you today?</h2>
        <p className="text-zinc-500 dark:text-zinc-400">Ask anything, or start with one of these.</p>
      </div>
      <ul className="grid w-full gap-3 sm:grid-cols-2" aria-label="Suggested prompts">
        {SUGGESTED_PROMPTS.map(({ title, prompt }) => (
          <li key={title}>
            <button
              type="button"
              data-testid="suggested-prompt"
              onClick={() => onPick(prompt)}
              className="flex h-full w-full flex-col items-start rounded-2xl border border-zinc-200 bg-white p-4 text-left transition hover:border-indigo-300 hover:bg-indigo-50/50 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-500 dark:border-zinc-800 dark:bg-zinc-900 dark:hover:border-indigo-500/50 dark:hover:bg-indigo-500/5"
            >
              <span className="block text-sm font-medium">{title}</span>
              <span className="mt-1 line-clamp-2 block text-sm text-zinc-500 dark:text-zinc-400">{prompt}</span>
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}
