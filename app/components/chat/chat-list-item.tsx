import { useEffect, useRef, useState } from "react";
import { href, NavLink } from "react-router";
import type { ChatSummary } from "~/lib/chats";
import { CHAT_RENAME_MAX_LENGTH } from "~/lib/chats";
import { ChatBubbleIcon, CheckIcon, CloseIcon, PencilIcon, TrashIcon } from "./icons";

export const FOCUS_RING = "focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-500";

type ChatListItemProps = {
  chat: ChatSummary;
  onNavigate?: () => void;
  onAskDelete: (chat: ChatSummary) => void;
  /** Saves a new title; resolves to an error to show, or undefined once saved. */
  onRename: (chat: ChatSummary, title: string) => Promise<string | undefined>;
};

const ITEM_BUTTON = `rounded-md p-1.5 text-zinc-500 transition hover:bg-zinc-300/60 focus-visible:opacity-100 md:opacity-0 md:group-focus-within:opacity-100 md:group-hover:opacity-100 dark:text-zinc-400 dark:hover:bg-zinc-700 ${FOCUS_RING}`;

/** One chat in the sidebar: its link, and Rename and Delete; renaming turns it into a form. */
export function ChatListItem({ chat, onNavigate, onAskDelete, onRename }: ChatListItemProps) {
  const [renaming, setRenaming] = useState(false);
  const [draft, setDraft] = useState(chat.title);
  const [saving, setSaving] = useState(false);
  const [error, setError] = useState<string>();
  const linkRef = useRef<HTMLAnchorElement>(null);
  const renameButtonRef = useRef<HTMLButtonElement>(null);
  // The form leaves the page with the focus in it: once the link is back, the focus goes to the link
  // (saved) or to Rename (cancelled), not to <body>.
  const focusAfterClose = useRef<"link" | "rename">(undefined);
  useEffect(() => {
    if (renaming || !focusAfterClose.current) return;
    (focusAfterClose.current === "link" ? linkRef.current : renameButtonRef.current)?.focus();
    focusAfterClose.current = undefined;
  }, [renaming]);

  function startRenaming() {
    setDraft(chat.title);
    setError(undefined);
    setRenaming(true);
  }

  function stopRenaming() {
    focusAfterClose.current = "rename";
    setRenaming(false);
    setError(undefined);
  }

  async function save(event: React.FormEvent) {
    event.preventDefault();
    if (saving) return;
    const title = draft.replace(/\s+/g, " ").trim();
    if (!title) return setError("The title can’t be empty.");
    if (title === chat.title) return stopRenaming();
    setSaving(true);
    setError(undefined);
    const failure = await onRename(chat, title);
    setSaving(false);
    // What the user typed stays in the box, to fix and save again.
    if (failure) return setError(failure);
    focusAfterClose.current = "link";
    setRenaming(false);
  }

  return (
    <li data-testid="chat-list-item" data-chat-id={chat.id} className="group relative">
      {renaming ? (
        <form onSubmit={save} className="flex items-center gap-1 py-1 pl-1" aria-label={`Rename chat “${chat.title}”`}>
          <input
            // The form was opened on purpose, to type in it.
            // eslint-disable-next-line jsx-a11y/no-autofocus -- see above
            autoFocus
            value={draft}
            onChange={(event) => setDraft(event.target.value)}
            onKeyDown={(event) => {
              if (event.key === "Escape") {
                event.preventDefault();
                stopRenaming();
              }
            }}
            onFocus={(event) => event.currentTarget.select()}
            maxLength={CHAT_RENAME_MAX_LENGTH}
            aria-label="Chat title"
            aria-invalid={error !== undefined}
            aria-describedby={error ? `rename-error-${chat.id}` : undefined}
            className={`min-w-0 flex-1 rounded-md border border-zinc-300 bg-white px-2 py-1.5 text-sm dark:border-zinc-700 dark:bg-zinc-900 ${FOCUS_RING}`}
          />
          <button
            type="submit"
            aria-label="Save title"
            aria-disabled={saving}
            className={`rounded-md p-1.5 text-zinc-600 hover:bg-zinc-200 dark:text-zinc-300 dark:hover:bg-zinc-800 ${FOCUS_RING}`}
          >
            <CheckIcon className="size-4" />
          </button>
          <button
            type="button"
            onClick={stopRenaming}
            aria-label="Cancel renaming"
            className={`rounded-md p-1.5 text-zinc-600 hover:bg-zinc-200 dark:text-zinc-300 dark:hover:bg-zinc-800 ${FOCUS_RING}`}
          >
            <CloseIcon className="size-4" />
          </button>
        </form>
      ) : (
        <>
          <NavLink
            ref={linkRef}
            to={href("/chat/:chatId", { chatId: chat.id })}
            onClick={onNavigate}
            className={({ isActive }) =>
              `flex items-center gap-2.5 rounded-lg py-2 pr-16 pl-2.5 text-sm transition ${FOCUS_RING} ${
                isActive
                  ? "bg-zinc-200/80 font-medium text-zinc-900 dark:bg-zinc-800 dark:text-zinc-50"
                  : "text-zinc-700 hover:bg-zinc-200/50 dark:text-zinc-300 dark:hover:bg-zinc-800/60"
              }`
            }
          >
            <ChatBubbleIcon className="size-4 shrink-0 text-zinc-500 dark:text-zinc-400" />
            <span className="truncate">{chat.title}</span>
          </NavLink>
          <div className="absolute top-1/2 right-1.5 flex -translate-y-1/2 items-center">
            <button
              ref={renameButtonRef}
              type="button"
              onClick={startRenaming}
              aria-label={`Rename chat “${chat.title}”`}
              data-testid="rename-chat"
              className={`${ITEM_BUTTON} hover:text-zinc-900 dark:hover:text-zinc-100`}
            >
              <PencilIcon className="size-4" />
            </button>
            <button
              type="button"
              onClick={() => onAskDelete(chat)}
              aria-label={`Delete chat “${chat.title}”`}
              data-testid="delete-chat"
              className={`${ITEM_BUTTON} hover:text-red-600 dark:hover:text-red-400`}
            >
              <TrashIcon className="size-4" />
            </button>
          </div>
        </>
      )}
      {error && (
        <p
          id={`rename-error-${chat.id}`}
          role="alert"
          className="mx-1 mt-1 rounded-lg bg-red-50 px-2 py-1.5 text-xs text-red-700 dark:bg-red-950/40 dark:text-red-300"
        >
          {error}
        </p>
      )}
    </li>
  );
}
