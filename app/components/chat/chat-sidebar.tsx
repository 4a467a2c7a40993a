import { useEffect, useRef, useState, useSyncExternalStore } from "react";
import { Link, useParams } from "react-router";
import { groupChats, type ChatGroup } from "~/lib/chat-groups";
import { CHAT_SEARCH_MAX_LENGTH, type ChatListPage, type ChatSummary } from "~/lib/chats";
import { ChatListItem, FOCUS_RING } from "./chat-list-item";
import { ConfirmDialog } from "./confirm-dialog";
import { CloseIcon, PlusIcon, SearchIcon, SparkleIcon } from "./icons";
import { useChatSearch } from "./use-chat-search";

/** The focus ring of every control here, as the composer's buttons have it. */
export { FOCUS_RING };

type ChatSidebarProps = {
  chats: ChatSummary[];
  /** Chats being deleted right now, hidden before the server confirms. */
  deletingIds: ReadonlySet<string>;
  deleteError: string | undefined;
  onDelete: (chat: ChatSummary) => void;
  /** Saves a chat's new title; resolves to an error to show, or undefined once saved. */
  onRename: (chat: ChatSummary, title: string) => Promise<string | undefined>;
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
  onRename,
  hasMore,
  loadingMore,
  loadMoreError,
  onShowMore,
  onClose,
}: ChatSidebarProps) {
  const { chatId: openChatId } = useParams();
  const [confirming, setConfirming] = useState<ChatSummary>();
  const visible = chats.filter((chat) => !deletingIds.has(chat.id));
  const [query, setQuery] = useState("");
  // Renames and deletes change what a search finds: it runs again after each.
  const [changes, setChanges] = useState(0);
  const search = useChatSearch(query, changes);
  const today = useToday();
  // The server cannot know the viewer's time zone: it renders one list, which the browser then groups.
  const groups: ChatGroup[] = today
    ? groupChats(visible, today)
    : visible.length
      ? [{ id: "today", label: "Recent", chats: visible }]
      : [];
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
    setChanges((count) => count + 1);
  }

  async function rename(chat: ChatSummary, title: string) {
    const failure = await onRename(chat, title);
    if (!failure) setChanges((count) => count + 1);
    return failure;
  }

  function renderItem(chat: ChatSummary) {
    if (deletingIds.has(chat.id)) return null;
    return (
      <ChatListItem key={chat.id} chat={chat} onNavigate={onClose} onAskDelete={setConfirming} onRename={rename} />
    );
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

      <div className="px-3 pt-2 pb-1">
        <label className="relative block">
          <span className="sr-only">Search chats</span>
          <SearchIcon className="pointer-events-none absolute top-1/2 left-2.5 size-4 -translate-y-1/2 text-zinc-500 dark:text-zinc-400" />
          <input
            type="search"
            value={query}
            onChange={(event) => setQuery(event.target.value)}
            onKeyDown={(event) => {
              if (event.key === "Escape" && query) {
                event.preventDefault();
                setQuery("");
              }
            }}
            maxLength={CHAT_SEARCH_MAX_LENGTH}
            placeholder="Search chats"
            data-testid="chat-search"
            className={`w-full rounded-lg border border-zinc-200 bg-white py-1.5 pr-2 pl-8 text-sm placeholder:text-zinc-500 dark:border-zinc-800 dark:bg-zinc-900 dark:placeholder:text-zinc-400 ${FOCUS_RING}`}
          />
        </label>
      </div>
      {deleteError && (
        <p
          role="alert"
          className="mx-3 mb-2 rounded-lg bg-red-50 px-3 py-2 text-xs text-red-700 dark:bg-red-950/40 dark:text-red-300"
        >
          {deleteError}
        </p>
      )}
      <div className="flex-1 overflow-y-auto px-3 pb-4">
        {search.state !== "idle" ? (
          <SearchResults search={search} renderItem={renderItem} />
        ) : (
          <>
            {groups.length === 0 && (
              <p className="px-2 py-3 text-sm text-zinc-500 dark:text-zinc-400">
                No chats yet. Your conversations will appear here.
              </p>
            )}
            {groups.map((group) => (
              <section key={group.id} aria-labelledby={`chat-group-${group.id}`} data-testid="chat-group">
                <h2
                  id={`chat-group-${group.id}`}
                  className="px-2 pt-4 pb-1 text-xs font-medium tracking-wide text-zinc-500 uppercase dark:text-zinc-400"
                >
                  {group.label}
                </h2>
                <ul className="space-y-0.5">{group.chats.map(renderItem)}</ul>
              </section>
            ))}
          </>
        )}
        {loadMoreError && search.state === "idle" && (
          <p
            role="alert"
            className="mt-2 rounded-lg bg-red-50 px-3 py-2 text-xs text-red-700 dark:bg-red-950/40 dark:text-red-300"
          >
            {loadMoreError}
          </p>
        )}
        {hasMore && search.state === "idle" && (
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

/** Midnight today in the viewer's time zone, once the page runs in the browser; null while the server renders. */
function useToday(): Date | null {
  const dayStart = useSyncExternalStore(subscribeToMinutes, localDayStart, () => null);
  return dayStart === null ? null : new Date(dayStart);
}

function localDayStart(): number {
  const now = new Date();
  return new Date(now.getFullYear(), now.getMonth(), now.getDate()).getTime();
}

/** A page left open past midnight regroups: "Today" becomes "Yesterday". */
function subscribeToMinutes(onChange: () => void) {
  const timer = setInterval(onChange, 60_000);
  return () => clearInterval(timer);
}

function SearchResults({
  search,
  renderItem,
}: {
  search: Exclude<ReturnType<typeof useChatSearch>, { state: "idle" }>;
  renderItem: (chat: ChatSummary) => React.ReactNode;
}) {
  const summary =
    search.state === "searching"
      ? "Searching…"
      : search.state === "failed"
        ? undefined
        : search.chats.length === 0
          ? `No chats match “${search.query}”.`
          : search.truncated
            ? `The first ${search.chats.length} matches. Type more to narrow the search.`
            : `${search.chats.length} ${search.chats.length === 1 ? "chat matches" : "chats match"} “${search.query}”.`;
  return (
    <section aria-labelledby="chat-search-results" data-testid="chat-search-results">
      <h2
        id="chat-search-results"
        className="px-2 pt-4 pb-1 text-xs font-medium tracking-wide text-zinc-500 uppercase dark:text-zinc-400"
      >
        Search results
      </h2>
      <p role="status" className="px-2 pb-2 text-xs text-zinc-600 dark:text-zinc-400">
        {summary}
      </p>
      {search.state === "failed" && (
        <p
          role="alert"
          className="rounded-lg bg-red-50 px-3 py-2 text-xs text-red-700 dark:bg-red-950/40 dark:text-red-300"
        >
          {search.error}
        </p>
      )}
      {search.state === "done" && <ul className="space-y-0.5">{search.chats.map(renderItem)}</ul>}
    </section>
  );
}
