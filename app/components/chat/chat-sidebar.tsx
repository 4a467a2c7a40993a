import { useState } from "react";
import { href, Link, NavLink } from "react-router";
import type { ChatSummary } from "~/lib/chats";
import { ConfirmDialog } from "./confirm-dialog";
import { ChatBubbleIcon, CloseIcon, PlusIcon, SparkleIcon, TrashIcon } from "./icons";

type ChatSidebarProps = {
  chats: ChatSummary[];
  /** Chats being deleted right now, hidden before the server confirms. */
  deletingIds: ReadonlySet<string>;
  deleteError: string | undefined;
  onDelete: (chat: ChatSummary) => void;
  /** Set on small screens, where the sidebar is a drawer the user can close. */
  onClose?: () => void;
};

export function ChatSidebar({ chats, deletingIds, deleteError, onDelete, onClose }: ChatSidebarProps) {
  const [confirming, setConfirming] = useState<ChatSummary>();
  const visible = chats.filter((chat) => !deletingIds.has(chat.id));

  return (
    <nav aria-label="Chats" className="flex h-full flex-col bg-zinc-50 dark:bg-zinc-900/60">
      <div className="flex items-center justify-between gap-2 px-4 pt-4 pb-2">
        <Link to="/" onClick={onClose} className="flex items-center gap-2 rounded-lg font-semibold tracking-tight">
          <span className="flex size-7 items-center justify-center rounded-lg bg-gradient-to-br from-indigo-500 to-violet-600 text-white">
            <SparkleIcon className="size-4" />
          </span>
          Chat
        </Link>
        {onClose && (
          <button
            type="button"
            onClick={onClose}
            aria-label="Close sidebar"
            className="rounded-lg p-2 text-zinc-500 hover:bg-zinc-200/70 hover:text-zinc-900 dark:hover:bg-zinc-800 dark:hover:text-zinc-100"
          >
            <CloseIcon className="size-5" />
          </button>
        )}
      </div>

      <div className="px-3 py-2">
        <Link
          to="/"
          onClick={onClose}
          data-testid="new-chat"
          aria-label="New chat"
          className="flex w-full items-center gap-2 rounded-xl border border-zinc-200 bg-white px-3 py-2.5 text-sm font-medium shadow-sm transition hover:border-zinc-300 hover:bg-zinc-50 dark:border-zinc-800 dark:bg-zinc-900 dark:hover:border-zinc-700 dark:hover:bg-zinc-800"
        >
          <PlusIcon className="size-4" />
          New chat
        </Link>
      </div>

      <h2 className="px-5 pt-4 pb-1 text-xs font-medium tracking-wide text-zinc-500 uppercase dark:text-zinc-400">Recent</h2>
      {deleteError && (
        <p role="alert" className="mx-3 mb-2 rounded-lg bg-red-50 px-3 py-2 text-xs text-red-700 dark:bg-red-950/40 dark:text-red-300">
          {deleteError}
        </p>
      )}
      <ul data-testid="chat-list" className="flex-1 space-y-0.5 overflow-y-auto px-3 pb-4">
        {visible.length === 0 && <li className="px-2 py-3 text-sm text-zinc-500 dark:text-zinc-400">No chats yet. Your conversations will appear here.</li>}
        {visible.map((chat) => (
          <li key={chat.id} data-testid="chat-list-item" className="group relative">
            <NavLink
              to={href("/chat/:chatId", { chatId: chat.id })}
              onClick={onClose}
              className={({ isActive }) =>
                `flex items-center gap-2.5 rounded-lg py-2 pr-10 pl-2.5 text-sm transition ${
                  isActive
                    ? "bg-zinc-200/80 font-medium text-zinc-900 dark:bg-zinc-800 dark:text-zinc-50"
                    : "text-zinc-700 hover:bg-zinc-200/50 dark:text-zinc-300 dark:hover:bg-zinc-800/60"
                }`
              }
            >
              <ChatBubbleIcon className="size-4 shrink-0 text-zinc-400" />
              <span className="truncate">{chat.title}</span>
            </NavLink>
            <button
              type="button"
              onClick={() => setConfirming(chat)}
              aria-label={`Delete chat “${chat.title}”`}
              data-testid="delete-chat"
              className="absolute top-1/2 right-1.5 -translate-y-1/2 rounded-md p-1.5 text-zinc-400 transition hover:bg-zinc-300/60 hover:text-red-600 focus-visible:opacity-100 md:opacity-0 md:group-focus-within:opacity-100 md:group-hover:opacity-100 dark:hover:bg-zinc-700 dark:hover:text-red-400"
            >
              <TrashIcon className="size-4" />
            </button>
          </li>
        ))}
      </ul>

      <p className="border-t border-zinc-200 px-5 py-3 text-xs text-zinc-500 dark:border-zinc-800 dark:text-zinc-400">
        Guest · chats stay in this browser
      </p>

      <ConfirmDialog
        open={confirming !== undefined}
        title="Delete chat?"
        description={
          <>
            <span className="font-medium text-zinc-900 dark:text-zinc-100">“{confirming?.title}”</span> will be deleted. This can’t be undone.
          </>
        }
        confirmLabel="Delete"
        onCancel={() => setConfirming(undefined)}
        onConfirm={() => {
          if (confirming) onDelete(confirming);
          setConfirming(undefined);
        }}
      />
    </nav>
  );
}
