import { type Ref, useId, useState } from "react";
import { ArrowUpIcon, StopIcon } from "./icons";

type ComposerProps = {
  /** The draft, owned by the chat so a message that could not be sent can come back here. */
  text: string;
  onTextChange: (text: string) => void;
  /** True while an answer is on its way: sending waits, and the button becomes Stop. */
  busy: boolean;
  /** Why sending waits, when it is not this tab's own answer (another tab is answering). */
  busyReason?: string;
  onSend: (text: string) => void;
  /** Set while this tab's answer is written: Enter then queues the message for the agent instead of waiting. */
  onQueue?: (text: string) => void;
  onStop: () => void;
  inputRef?: Ref<HTMLTextAreaElement>;
};

export function Composer({
  text,
  onTextChange: setText,
  busy,
  busyReason,
  onSend,
  onQueue,
  onStop,
  inputRef,
}: ComposerProps) {
  const inputId = useId();
  const canSend = !busy && text.trim() !== "";
  // Set when Enter was pressed while an answer streams: sending then waits, and the hint says why.
  const [triedWhileBusy, setTriedWhileBusy] = useState(false);
  if (!busy && triedWhileBusy) setTriedWhileBusy(false);
  const hint = busy && (busyReason ?? (triedWhileBusy && text.trim() !== "" ? BUSY_HINT : undefined));

  function send() {
    if (busy && onQueue && text.trim() !== "") {
      onQueue(text.trim());
      setText("");
      return;
    }
    if (busy && text.trim() !== "") setTriedWhileBusy(true);
    if (!canSend) return;
    setTriedWhileBusy(false);
    onSend(text.trim());
    setText("");
  }

  return (
    <form
      onSubmit={(event) => {
        event.preventDefault();
        send();
      }}
      className="relative rounded-3xl border border-zinc-200 bg-white shadow-lg shadow-zinc-900/5 transition focus-within:border-indigo-500 focus-within:shadow-zinc-900/10 focus-within:ring-2 focus-within:ring-indigo-500/30 dark:border-zinc-800 dark:bg-zinc-900 dark:focus-within:border-indigo-400"
    >
      {/* Always in the page, so screen readers hear the hint when it appears. */}
      <div aria-live="polite">
        {hint && (
          <p
            id={`${inputId}-hint`}
            data-testid="composer-hint"
            className="border-b border-zinc-100 px-5 pt-2.5 pb-2 text-xs text-zinc-600 dark:border-zinc-800 dark:text-zinc-400"
          >
            {hint}
          </p>
        )}
      </div>
      <label htmlFor={inputId} className="sr-only">
        Message
      </label>
      <textarea
        id={inputId}
        ref={inputRef}
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
        aria-describedby={hint ? `${inputId}-hint ${inputId}-keys` : `${inputId}-keys`}
        className="field-sizing-content block max-h-52 min-h-14 w-full resize-none bg-transparent py-4 pr-16 pl-5 text-[15px] leading-6 placeholder:text-zinc-500 focus:outline-none dark:placeholder:text-zinc-400"
      />
      <p id={`${inputId}-keys`} className="sr-only">
        Enter to send (while an answer is written, Enter queues the message for the agent), Shift+Enter for a new line,
        Escape to stop an answer.
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

const BUSY_HINT = "The answer is still being written. Send when it’s done, or stop it (Esc).";
