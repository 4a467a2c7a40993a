import { useEffect, useId, useRef, useState } from "react";
import { EDIT_TEXT_MAX_LENGTH } from "~/lib/chats";
import { PencilIcon, RetryIcon, UndoIcon } from "./icons";

const FOCUS_RING = "focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-500";
const SMALL_BUTTON = `inline-flex items-center gap-1 rounded-md p-1.5 text-xs text-zinc-600 transition-colors hover:bg-zinc-100 hover:text-zinc-900 dark:text-zinc-400 dark:hover:bg-zinc-800 dark:hover:text-zinc-100 ${FOCUS_RING}`;

/**
 * A message of the user's with Edit: the bubble turns into a box with the
 * message's text, and sending it replaces the message and everything after it.
 */
export function EditableUserMessage({
  text,
  onEdit,
  children,
}: {
  text: string;
  /** Absent while the chat is answering: the message shows without Edit. */
  onEdit: ((text: string) => void) | undefined;
  /** The message's bubble. */
  children: React.ReactNode;
}) {
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState(text);
  const [error, setError] = useState<string>();
  const editButtonRef = useRef<HTMLButtonElement>(null);
  const errorId = useId();
  // Cancelled: the box leaves the page with the focus in it, which goes back to Edit once it is there again.
  const refocus = useRef(false);
  useEffect(() => {
    if (editing || !refocus.current) return;
    refocus.current = false;
    editButtonRef.current?.focus();
  }, [editing]);

  function close() {
    refocus.current = true;
    setEditing(false);
    setError(undefined);
  }

  function submit(event: React.FormEvent) {
    event.preventDefault();
    if (!onEdit) return;
    if (draft.trim() === "") return setError("A message can’t be empty.");
    if (draft.length > EDIT_TEXT_MAX_LENGTH)
      return setError(`A message can be at most ${EDIT_TEXT_MAX_LENGTH.toLocaleString("en")} characters.`);
    setEditing(false);
    setError(undefined);
    onEdit(draft);
  }

  if (editing && onEdit) {
    return (
      <form onSubmit={submit} className="w-full max-w-[85%] space-y-2" aria-label="Edit message">
        <textarea
          // Opened on purpose, to type in it.
          // eslint-disable-next-line jsx-a11y/no-autofocus -- see above
          autoFocus
          value={draft}
          onChange={(event) => setDraft(event.target.value)}
          onKeyDown={(event) => {
            if (event.key === "Escape") {
              event.preventDefault();
              close();
            } else if (event.key === "Enter" && !event.shiftKey && !event.nativeEvent.isComposing) {
              submit(event);
            }
          }}
          rows={Math.min(8, Math.max(2, draft.split("\n").length))}
          aria-label="Edited message"
          aria-invalid={error !== undefined}
          aria-describedby={error ? errorId : undefined}
          className={`w-full resize-y rounded-2xl border border-zinc-300 bg-white px-4 py-2.5 text-[15px] leading-7 dark:border-zinc-700 dark:bg-zinc-900 ${FOCUS_RING}`}
        />
        {error && (
          <p id={errorId} role="alert" className="text-sm text-red-600 dark:text-red-400">
            {error}
          </p>
        )}
        <div className="flex justify-end gap-2 text-sm">
          <button
            type="button"
            onClick={close}
            className={`rounded-lg px-3 py-1.5 font-medium text-zinc-700 ring-1 ring-zinc-200 hover:bg-zinc-100 dark:text-zinc-200 dark:ring-zinc-700 dark:hover:bg-zinc-800 ${FOCUS_RING}`}
          >
            Cancel
          </button>
          <button
            type="submit"
            className={`rounded-lg bg-indigo-600 px-3 py-1.5 font-medium text-white hover:bg-indigo-500 ${FOCUS_RING}`}
          >
            Send
          </button>
        </div>
      </form>
    );
  }

  return (
    <div className="group flex max-w-[85%] flex-col items-end gap-1">
      {children}
      {onEdit && (
        <button
          ref={editButtonRef}
          type="button"
          onClick={() => {
            setDraft(text);
            setEditing(true);
          }}
          aria-label="Edit message"
          title="Edit message"
          className={`${SMALL_BUTTON} focus-visible:opacity-100 md:opacity-0 md:group-focus-within:opacity-100 md:group-hover:opacity-100`}
        >
          <PencilIcon className="size-3.5" />
        </button>
      )}
    </div>
  );
}

/** Regenerate (any answer) and Undo (the last exchange), beside an answer's Copy. */
export function AnswerHistoryActions({ onRegenerate, onUndo }: { onRegenerate?: () => void; onUndo?: () => void }) {
  return (
    <>
      {onRegenerate && (
        <button
          type="button"
          onClick={onRegenerate}
          aria-label="Regenerate answer"
          title="Regenerate answer"
          data-testid="regenerate-answer"
          className={SMALL_BUTTON}
        >
          <RetryIcon className="size-3.5" />
        </button>
      )}
      {onUndo && (
        <button
          type="button"
          onClick={onUndo}
          aria-label="Undo this exchange"
          title="Undo this exchange"
          data-testid="undo-exchange"
          className={SMALL_BUTTON}
        >
          <UndoIcon className="size-3.5" />
        </button>
      )}
    </>
  );
}
