import { useEffect, useState } from "react";
import {
  href,
  isRouteErrorResponse,
  Link,
  Outlet,
  useNavigate,
  useParams,
  useRevalidator,
  useRouteLoaderData,
} from "react-router";
import { ChatSidebar, FOCUS_RING } from "~/components/chat/chat-sidebar";
import { Drawer } from "~/components/chat/drawer";
import { ComposeIcon, MenuIcon } from "~/components/chat/icons";
import { postJson } from "~/lib/api-client";
import { type ChatListPage, type ChatSummary, mergeChatPages } from "~/lib/chats";
import { listGuestChats } from "~/lib/chats.server";
import { readGuestId } from "~/lib/guest.server";
import { loadOrThrowCapacity } from "~/lib/http.server";
import type { Route } from "./+types/chat-layout";
import type { loader as chatLoader } from "./chat";

/** The first page of the guest's chats and the cursor of the next. */
export async function loader({ request }: Route.LoaderArgs): Promise<ChatListPage> {
  const guestId = await readGuestId(request);
  return guestId ? await loadOrThrowCapacity("listing chats", () => listGuestChats(guestId)) : { chats: [] };
}

// The list last loaded. A revalidation that cannot reach the server (a restart, a dropped connection) keeps the
// sidebar as it is rather than replacing the page, and the answer streaming in it, with an error.
let lastLoadedList: ChatListPage | undefined;

export async function clientLoader({ serverLoader }: Route.ClientLoaderArgs): Promise<ChatListPage> {
  try {
    lastLoadedList = await serverLoader();
    return lastLoadedList;
  } catch (error) {
    // An answer from the server (an error status) is shown as before; only an unreachable server is tolerated.
    if (lastLoadedList && !isRouteErrorResponse(error) && !(error instanceof Response)) return lastLoadedList;
    throw error;
  }
}

export default function ChatLayout({ loaderData }: Route.ComponentProps) {
  const { chatId } = useParams();
  const navigate = useNavigate();
  const revalidator = useRevalidator();
  const [drawerOpen, setDrawerOpen] = useState(false);
  const [deletingIds, setDeletingIds] = useState<ReadonlySet<string>>(new Set());
  const [deleteError, setDeleteError] = useState<string>();
  // Chats loaded with "Show more", kept across revalidations, which reload only the first page.
  const [older, setOlder] = useState<ChatListPage>();
  const [loadingMore, setLoadingMore] = useState(false);
  const [loadMoreError, setLoadMoreError] = useState<string>();
  const list = mergeChatPages(loaderData, older);
  // The list the server rendered the page with, for a first revalidation that cannot reach the server.
  useEffect(() => {
    lastLoadedList ??= loaderData;
  }, [loaderData]);

  async function deleteChat(chat: ChatSummary) {
    setDeleteError(undefined);
    setDeletingIds((ids) => new Set(ids).add(chat.id));
    const response = await fetch(href("/api/chats/:chatId/delete", { chatId: chat.id }), { method: "POST" }).catch(
      () => undefined,
    );
    // A 404 means it is already gone (deleted in another tab), which is what the user asked for.
    const deleted = response !== undefined && (response.ok || response.status === 404);
    if (!deleted) setDeleteError(`Couldn’t delete “${chat.title}”. Please try again.`);
    if (deleted) setOlder((page) => page && { ...page, chats: page.chats.filter((item) => item.id !== chat.id) });
    if (deleted && chat.id === chatId) await navigate("/", { replace: true });
    else await revalidator.revalidate();
    setDeletingIds((ids) => {
      const next = new Set(ids);
      next.delete(chat.id);
      return next;
    });
  }

  /** Renames a chat; resolves to an error to show the user, or undefined once it is saved. */
  async function renameChat(chat: ChatSummary, title: string): Promise<string | undefined> {
    try {
      const renamed = await postJson<{ title: string }>(href("/api/chats/:chatId/rename", { chatId: chat.id }), {
        title,
      });
      // Chats loaded with "Show more" are not reloaded by the revalidation.
      setOlder(
        (page) =>
          page && {
            ...page,
            chats: page.chats.map((item) => (item.id === chat.id ? { ...item, title: renamed.title } : item)),
          },
      );
      await revalidator.revalidate();
      return undefined;
    } catch (error) {
      return error instanceof Error ? error.message : "Couldn’t rename the chat. Please try again.";
    }
  }

  async function showMore(): Promise<ChatListPage | undefined> {
    const { chats, nextCursor } = list;
    if (!nextCursor) return undefined;
    setLoadingMore(true);
    setLoadMoreError(undefined);
    try {
      const page = await postJson<ChatListPage>(href("/api/chats"), { cursor: nextCursor });
      // Everything shown so far is kept with the new page, so chats a new chat pushes off the first page stay listed.
      setOlder({ chats: [...chats, ...page.chats], nextCursor: page.nextCursor });
      return page;
    } catch (error) {
      setLoadMoreError(error instanceof Error ? error.message : "Couldn’t load more chats. Please try again.");
      return undefined;
    } finally {
      setLoadingMore(false);
    }
  }

  // No chat data means the chat page is showing its error, with its own heading: no title then.
  const openChat = useRouteLoaderData<typeof chatLoader>("routes/chat");
  const title = list.chats.find((chat) => chat.id === chatId)?.title ?? (openChat ? "New chat" : "");
  const sidebar = {
    chats: list.chats,
    deletingIds,
    deleteError,
    onDelete: deleteChat,
    onRename: renameChat,
    hasMore: list.nextCursor !== undefined,
    loadingMore,
    loadMoreError,
    onShowMore: showMore,
  };
  const headerButton = `rounded-lg p-2 text-zinc-600 hover:bg-zinc-100 md:hidden dark:text-zinc-300 dark:hover:bg-zinc-800 ${FOCUS_RING}`;

  return (
    <div className="flex h-dvh">
      <aside className="hidden w-72 shrink-0 border-r border-zinc-200 md:block dark:border-zinc-800">
        <ChatSidebar {...sidebar} />
      </aside>
      <Drawer open={drawerOpen} onClose={() => setDrawerOpen(false)} label="Chats">
        {/* Rendered only while open, so the page never holds two copies of the list. */}
        {drawerOpen && <ChatSidebar {...sidebar} onClose={() => setDrawerOpen(false)} />}
      </Drawer>

      <main className="flex min-w-0 flex-1 flex-col">
        <header className="flex h-14 shrink-0 items-center gap-2 border-b border-zinc-200/70 px-3 md:px-6 dark:border-zinc-800/70">
          <button
            type="button"
            onClick={() => setDrawerOpen(true)}
            aria-label="Open sidebar"
            data-testid="open-sidebar"
            className={headerButton}
          >
            <MenuIcon className="size-5" />
          </button>
          {title && (
            <h1
              data-testid="chat-title"
              className="min-w-0 flex-1 truncate text-sm font-medium text-zinc-700 dark:text-zinc-200"
            >
              {title}
            </h1>
          )}
          {/* On small screens the sidebar's New chat is behind the menu; this one is a single tap. */}
          <Link to="/" aria-label="New chat" data-testid="header-new-chat" className={`ml-auto ${headerButton}`}>
            <ComposeIcon className="size-5" />
          </Link>
        </header>
        <Outlet />
      </main>
    </div>
  );
}
