import { useState } from "react";
import { href, Outlet, useNavigate, useParams, useRevalidator, useRouteLoaderData } from "react-router";
import { ChatSidebar } from "~/components/chat/chat-sidebar";
import { Drawer } from "~/components/chat/drawer";
import { MenuIcon } from "~/components/chat/icons";
import type { ChatSummary } from "~/lib/chats";
import { listGuestChats } from "~/lib/chats.server";
import { readGuestId } from "~/lib/guest.server";
import { loadOrThrowCapacity } from "~/lib/http.server";
import type { Route } from "./+types/chat-layout";
import type { loader as chatLoader } from "./chat";

export async function loader({ request }: Route.LoaderArgs) {
  const guestId = await readGuestId(request);
  return { chats: guestId ? await loadOrThrowCapacity("listing chats", () => listGuestChats(guestId)) : [] };
}

export default function ChatLayout({ loaderData }: Route.ComponentProps) {
  const { chats } = loaderData;
  const { chatId } = useParams();
  const navigate = useNavigate();
  const revalidator = useRevalidator();
  const [drawerOpen, setDrawerOpen] = useState(false);
  const [deletingIds, setDeletingIds] = useState<ReadonlySet<string>>(new Set());
  const [deleteError, setDeleteError] = useState<string>();

  async function deleteChat(chat: ChatSummary) {
    setDeleteError(undefined);
    setDeletingIds((ids) => new Set(ids).add(chat.id));
    const response = await fetch(href("/api/chats/:chatId/delete", { chatId: chat.id }), { method: "POST" }).catch(() => undefined);
    // A 404 means it is already gone (deleted in another tab), which is what the user asked for.
    const deleted = response !== undefined && (response.ok || response.status === 404);
    if (!deleted) setDeleteError(`Couldn’t delete “${chat.title}”. Please try again.`);
    if (deleted && chat.id === chatId) await navigate("/", { replace: true });
    else await revalidator.revalidate();
    setDeletingIds((ids) => {
      const next = new Set(ids);
      next.delete(chat.id);
      return next;
    });
  }

  // No chat data means the chat page is showing its error: no title then.
  const openChat = useRouteLoaderData<typeof chatLoader>("routes/chat");
  const title = chats.find((chat) => chat.id === chatId)?.title ?? (openChat ? "New chat" : "");
  const sidebar = { chats, deletingIds, deleteError, onDelete: deleteChat };

  return (
    <div className="flex h-dvh">
      <aside className="hidden w-72 shrink-0 border-r border-zinc-200 md:block dark:border-zinc-800">
        <ChatSidebar {...sidebar} />
      </aside>
      <Drawer open={drawerOpen} onClose={() => setDrawerOpen(false)} label="Chats">
        {/* Rendered only while open, so the page never holds two copies of the list. */}
        {drawerOpen && <ChatSidebar {...sidebar} onClose={() => setDrawerOpen(false)} />}
      </Drawer>

      <div className="flex min-w-0 flex-1 flex-col">
        <header className="flex h-14 shrink-0 items-center gap-2 border-b border-zinc-200/70 px-3 md:px-6 dark:border-zinc-800/70">
          <button
            type="button"
            onClick={() => setDrawerOpen(true)}
            aria-label="Open sidebar"
            data-testid="open-sidebar"
            className="rounded-lg p-2 text-zinc-600 hover:bg-zinc-100 md:hidden dark:text-zinc-300 dark:hover:bg-zinc-800"
          >
            <MenuIcon className="size-5" />
          </button>
          <p data-testid="chat-title" className="truncate text-sm font-medium text-zinc-700 dark:text-zinc-200">
            {title}
          </p>
        </header>
        <Outlet />
      </div>
    </div>
  );
}
