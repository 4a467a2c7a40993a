import { useEffect, useRef, useState } from "react";
import { href, Link, NavLink, useParams } from "react-router";
import type { ChatListPage, ChatSummary } from "~/lib/chats";
import { ConfirmDialog } from "./confirm-dialog";
import { ChatBubbleIcon, CloseIcon, PlusIcon, SparkleIcon, TrashIcon } from "./icons";

/** The focus ring of every control here, as the composer's buttons have it. */
export const FOCUS_RING = "focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-500";

type ChatSidebarProps = {
  chats: ChatSummary[];
  /** Chats being deleted right now, hidden before the server confirms. */
  deletingIds: ReadonlySet<string>;
  deleteError: string | undefined;
  onDelete: (chat: ChatSummary) => void;
  /** Whether older chats are left to load. */
  hasMore: boolean;
  loadingMore: boolean;
  loadMoreError: string | undefined;
  /** Loads the next page; resolves to it, or to undefined when it failed. */
  onShowMore: () => Promise<ChatListPage | undefined>;
  /** Set on small screens, where the sidebar is a drawer the user can close. */
  onClose?: () => void;
};

const chatLink = (chatId: string) => `[data-chat-id=${JSON.stringify(chatId)}] a`;
const NEW_CHAT_LINK = '[data-testid="new-chat"]';

export function ChatSidebar({
  chats,
  deletingIds,
  deleteError,
  onDelete,
  hasMore,
  loadingMore,
  loadMoreError,
  onShowMore,
  onClose,
}: ChatSidebarProps) {
  const { chatId: openChatId } = useParams();
  const [confirming, setConfirming] = useState<ChatSummary>();
  const visible = chats.filter((chat) => !deletingIds.has(chat.id));
  const navRef = useRef<HTMLElement>(null);
  // Where focus goes once the list has re-rendered: the focused control can leave the page (a deleted
  // chat's button, "Show more" after the last page), and focus would drop to <body>.
  const pendingFocus = useRef<string>(undefined);
  const [focusRequests, setFocusRequests] = useState(0);
  useEffect(() => {
    if (!pendingFocus.current) return;
    const target = navRef.current?.querySelector<HTMLElement>(pendingFocus.current);
    pendingFocus.current = undefined;
    target?.focus();
  }, [focusRequests]);
  /** Focuses what `selector` finds once the list has rendered the change in hand. */
  function focusAfterRender(selector: string) {
    pendingFocus.current = selector;
    setFocusRequests((count) => count + 1);
  }

  function confirmDelete(chat: ChatSummary) {
    // Deleting the open chat navigates to a new one, whose page focuses its composer.
    if (chat.id !== openChatId) {
      const index = visible.findIndex((item) => item.id === chat.id);
      const neighbour = visible[index + 1] ?? visible[index - 1];
      focusAfterRender(neighbour ? chatLink(neighbour.id) : NEW_CHAT_LINK);
    }
    onDelete(chat);
    setConfirming(undefined);
  }

  async function showMore() {
    if (loadingMore) return;
    const page = await onShowMore();
    // The button stays while more pages are left; after the last one, focus the first chat it added.
    const first = page?.chats[0];
    if (first && !page.nextCursor) focusAfterRender(chatLink(first.id));
  }

  return (
    <nav ref={navRef} aria-label="Chats" className="flex h-full flex-col bg-zinc-50 dark:bg-zinc-900/60">
      <div className="flex items-center justify-between gap-2 px-4 pt-4 pb-2">
        <Link
          to="/"
          onClick={onClose}
          className={`flex items-center gap-2 rounded-lg font-semibold tracking-tight ${FOCUS_RING}`}
        >
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
            className={`rounded-lg p-2 text-zinc-600 hover:bg-zinc-200/70 hover:text-zinc-900 dark:text-zinc-400 dark:hover:bg-zinc-800 dark:hover:text-zinc-100 ${FOCUS_RING}`}
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
          className={`flex w-full items-center gap-2 rounded-xl border border-zinc-200 bg-white px-3 py-2.5 text-sm font-medium shadow-sm transition hover:border-zinc-300 hover:bg-zinc-50 dark:border-zinc-800 dark:bg-zinc-900 dark:hover:border-zinc-700 dark:hover:bg-zinc-800 ${FOCUS_RING}`}
        >
          <PlusIcon className="size-4" />
          New chat
        </Link>
      </div>

      <h2 className="px-5 pt-4 pb-1 text-xs font-medium tracking-wide text-zinc-500 uppercase dark:text-zinc-400">
        Recent
      </h2>
      {deleteError && (
        <p
          role="alert"
          className="mx-3 mb-2 rounded-lg bg-red-50 px-3 py-2 text-xs text-red-700 dark:bg-red-950/40 dark:text-red-300"
        >
          {deleteError}
        </p>
      )}
      <div className="flex-1 overflow-y-auto px-3 pb-4">
        <ul data-testid="chat-list" className="space-y-0.5">
          {visible.length === 0 && (
            <li className="px-2 py-3 text-sm text-zinc-500 dark:text-zinc-400">
              No chats yet. Your conversations will appear here.
            </li>
          )}
          {visible.map((chat) => (
            <li key={chat.id} data-testid="chat-list-item" data-chat-id={chat.id} className="group relative">
              <NavLink
                to={href("/chat/:chatId", { chatId: chat.id })}
                onClick={onClose}
                className={({ isActive }) =>
                  `flex items-center gap-2.5 rounded-lg py-2 pr-10 pl-2.5 text-sm transition ${FOCUS_RING} ${
                    isActive
                      ? "bg-zinc-200/80 font-medium text-zinc-900 dark:bg-zinc-800 dark:text-zinc-50"
                      : "text-zinc-700 hover:bg-zinc-200/50 dark:text-zinc-300 dark:hover:bg-zinc-800/60"
                  }`
                }
              >
                <ChatBubbleIcon className="size-4 shrink-0 text-zinc-500 dark:text-zinc-400" />
                <span className="truncate">{chat.title}</span>
              </NavLink>
              <button
                type="button"
                onClick={() => setConfirming(chat)}
                aria-label={`Delete chat “${chat.title}”`}
                data-testid="delete-chat"
                className={`absolute top-1/2 right-1.5 -translate-y-1/2 rounded-md p-1.5 text-zinc-500 transition hover:bg-zinc-300/60 hover:text-red-600 focus-visible:opacity-100 md:opacity-0 md:group-focus-within:opacity-100 md:group-hover:opacity-100 dark:text-zinc-400 dark:hover:bg-zinc-700 dark:hover:text-red-400 ${FOCUS_RING}`}
              >
                <TrashIcon className="size-4" />
              </button>
            </li>
          ))}
        </ul>
        {loadMoreError && (
          <p
            role="alert"
            className="mt-2 rounded-lg bg-red-50 px-3 py-2 text-xs text-red-700 dark:bg-red-950/40 dark:text-red-300"
          >
            {loadMoreError}
          </p>
        )}
        {hasMore && (
          <button
            type="button"
            onClick={showMore}
            // Not `disabled`, which would drop the focus to <body> while the page loads.
            aria-disabled={loadingMore}
            data-testid="show-more-chats"
            className={`mt-2 w-full rounded-lg px-2.5 py-2 text-left text-sm font-medium text-zinc-700 hover:bg-zinc-200/50 aria-disabled:cursor-wait aria-disabled:text-zinc-500 dark:text-zinc-300 dark:hover:bg-zinc-800/60 dark:aria-disabled:text-zinc-400 ${FOCUS_RING}`}
          >
            {loadingMore ? "Loading…" : "Show more"}
          </button>
        )}
      </div>

      <p className="border-t border-zinc-200 px-5 py-3 text-xs text-zinc-500 dark:border-zinc-800 dark:text-zinc-400">
        Guest · chats stay in this browser
      </p>

      <ConfirmDialog
        open={confirming !== undefined}
        title="Delete chat?"
        description={
          <>
            <span className="font-medium text-zinc-900 dark:text-zinc-100">“{confirming?.title}”</span> will be deleted.
            This can’t be undone.
          </>
        }
        confirmLabel="Delete"
        onCancel={() => setConfirming(undefined)}
        onConfirm={() => confirming && confirmDelete(confirming)}
      />
    </nav>
  );
}
