// @vitest-environment happy-dom
import { act, useState } from "react";
import { createRoot, type Root } from "react-dom/client";
import { createRoutesStub } from "react-router";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { ChatListPage, ChatSummary } from "~/lib/chats";
import { ChatSidebar } from "./chat-sidebar";

const chat = (id: string): ChatSummary => ({ id, title: `Chat ${id}`, createdAt: "2026-01-01T00:00:00.000Z" });

let container: HTMLElement;
let root: Root;

/** The sidebar as the layout drives it: a delete hides the chat at once; "Show more" appends `more`. */
function Harness({ initial, more }: { initial: ChatSummary[]; more?: ChatListPage }) {
  const [chats, setChats] = useState(initial);
  const [hasMore, setHasMore] = useState(more !== undefined);
  return (
    <ChatSidebar
      chats={chats}
      deletingIds={new Set()}
      deleteError={undefined}
      onDelete={(deleted) => setChats((list) => list.filter((item) => item.id !== deleted.id))}
      onRename={async () => undefined}
      hasMore={hasMore}
      loadingMore={false}
      loadMoreError={undefined}
      onShowMore={async () => {
        setChats((list) => [...list, ...more!.chats]);
        setHasMore(more!.nextCursor !== undefined);
        return more;
      }}
    />
  );
}

async function render(props: { initial: ChatSummary[]; more?: ChatListPage }, openChatId = "open") {
  const Stub = createRoutesStub([{ path: "/chat/:chatId", Component: () => <Harness {...props} /> }]);
  root = createRoot(container);
  await act(async () => root.render(<Stub initialEntries={[`/chat/${openChatId}`]} />));
}

const item = (id: string) => container.querySelector<HTMLElement>(`[data-chat-id="${id}"]`)!;

async function deleteChat(id: string) {
  const button = item(id).querySelector<HTMLButtonElement>('[data-testid="delete-chat"]')!;
  button.focus();
  await act(async () => button.click());
  await act(async () => container.querySelector<HTMLButtonElement>('[data-testid="confirm-button"]')!.click());
}

describe("ChatSidebar focus", () => {
  beforeEach(() => {
    container = document.createElement("div");
    document.body.append(container);
  });
  afterEach(() => {
    act(() => root.unmount());
    container.remove();
  });

  it("moves focus to the next chat after a delete, then the previous, then New chat", async () => {
    await render({ initial: [chat("a"), chat("b"), chat("c")] });

    await deleteChat("b");
    expect(document.activeElement).toBe(item("c").querySelector("a"));
    await deleteChat("c");
    expect(document.activeElement).toBe(item("a").querySelector("a"));
    await deleteChat("a");
    expect(document.activeElement).toBe(container.querySelector('[data-testid="new-chat"]'));
  });

  it("leaves focus alone when the open chat is deleted: the new chat's page takes it", async () => {
    await render({ initial: [chat("open"), chat("b")] });
    await deleteChat("open");
    expect(document.activeElement).not.toBe(item("b").querySelector("a"));
  });

  it("after the last page, focuses the first chat it added instead of the button that went away", async () => {
    await render({ initial: [chat("a")], more: { chats: [chat("z")] } });
    const button = container.querySelector<HTMLButtonElement>('[data-testid="show-more-chats"]')!;
    button.focus();
    await act(async () => button.click());
    await vi.waitFor(() => expect(document.activeElement).toBe(item("z").querySelector("a")));
    expect(container.querySelector('[data-testid="show-more-chats"]')).toBeNull();
  });
});
