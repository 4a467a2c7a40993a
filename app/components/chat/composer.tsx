import { useId } from "react";
import { ArrowUpIcon, StopIcon } from "./icons";

type ComposerProps = {
  /** The draft, owned by the chat so a message that could not be sent can come back here. */
  text: string;
  onTextChange: (text: string) => void;
  /** True while an answer is on its way: sending waits, and the button becomes Stop. */
  busy: boolean;
  onSend: (text: string) => void;
  onStop: () => void;
};

export function Composer({ text, onTextChange: setText, busy, onSend, onStop }: ComposerProps) {
  const inputId = useId();
  const canSend = !busy && text.trim() !== "";

  function send() {
    if (!canSend) return;
    onSend(text.trim());
    setText("");
  }

  return (
    <form
      onSubmit={(event) => {
        event.preventDefault();
        send();
      }}
      className="relative rounded-3xl border border-zinc-200 bg-white shadow-lg shadow-zinc-900/5 transition focus-within:border-zinc-300 focus-within:shadow-zinc-900/10 dark:border-zinc-800 dark:bg-zinc-900 dark:focus-within:border-zinc-700"
    >
      <label htmlFor={inputId} className="sr-only">
        Message
      </label>
      <textarea
        id={inputId}
        name="message"
        data-testid="composer-input"
        rows={1}
        value={text}
        onChange={(event) => setText(event.target.value)}
        onKeyDown={(event) => {
          // Enter sends, Shift+Enter adds a line; Enter that confirms an IME composition does neither.
          if (event.key === "Enter" && !event.shiftKey && !event.nativeEvent.isComposing) {
            event.preventDefault();
            send();
          } else if (event.key === "Escape" && busy) {
            event.preventDefault();
            onStop();
          }
        }}
        placeholder="Send a message…"
        aria-describedby={`${inputId}-hint`}
        className="field-sizing-content block max-h-52 min-h-14 w-full resize-none bg-transparent py-4 pr-16 pl-5 text-[15px] leading-6 placeholder:text-zinc-400 focus:outline-none"
      />
      <p id={`${inputId}-hint`} className="sr-only">
        Enter to send, Shift+Enter for a new line, Escape to stop an answer.
      </p>
      {/* Keyed so Send and Stop are separate elements: one never animates into the other. */}
      <div className="absolute right-2.5 bottom-2.5">
        {busy ? (
          <button
            key="stop"
            type="button"
            onClick={onStop}
            aria-label="Stop generating"
            data-testid="stop-button"
            className="flex size-9 items-center justify-center rounded-full bg-zinc-900 text-white transition hover:bg-zinc-700 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-500 dark:bg-white dark:text-zinc-900 dark:hover:bg-zinc-200"
          >
            <StopIcon className="size-3.5" />
          </button>
        ) : (
          <button
            key="send"
            type="submit"
            disabled={!canSend}
            aria-label="Send message"
            data-testid="send-button"
            className="flex size-9 items-center justify-center rounded-full bg-indigo-600 text-white transition hover:bg-indigo-500 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-500 disabled:cursor-not-allowed disabled:bg-zinc-200 disabled:text-zinc-400 dark:disabled:bg-zinc-800 dark:disabled:text-zinc-600"
          >
            <ArrowUpIcon className="size-4" />
          </button>
        )}
      </div>
    </form>
  );
}
