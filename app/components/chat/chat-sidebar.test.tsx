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
function Harness({
  initial,
  more,
  onRename = async () => undefined,
}: {
  initial: ChatSummary[];
  more?: ChatListPage;
  onRename?: (chat: ChatSummary, title: string) => Promise<string | undefined>;
}) {
  const [chats, setChats] = useState(initial);
  const [hasMore, setHasMore] = useState(more !== undefined);
  return (
    <ChatSidebar
      chats={chats}
      deletingIds={new Set()}
      deleteError={undefined}
      onDelete={(deleted) => setChats((list) => list.filter((item) => item.id !== deleted.id))}
      onRename={onRename}
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

async function render(props: React.ComponentProps<typeof Harness>, openChatId = "open") {
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

describe("ChatSidebar groups and rename", () => {
  beforeEach(() => {
    container = document.createElement("div");
    document.body.append(container);
  });
  afterEach(() => {
    act(() => root.unmount());
    container.remove();
  });

  it("lists chats under date headings in the browser", async () => {
    const now = new Date();
    await render({
      initial: [
        { id: "new", title: "New one", createdAt: now.toISOString() },
        { id: "old", title: "Old one", createdAt: "2020-01-01T12:00:00.000Z" },
      ],
    });
    const headings = [...container.querySelectorAll("[data-testid='chat-group'] h2")].map((h) => h.textContent);
    expect(headings).toEqual(["Today", "Older"]);
  });

  it("renames from the list: an empty title is refused, a failed save keeps what was typed", async () => {
    const onRename = vi.fn<(chat: ChatSummary, title: string) => Promise<string | undefined>>();
    onRename.mockResolvedValueOnce("The chat service is unavailable right now.").mockResolvedValueOnce(undefined);
    await render({ initial: [chat("a")], onRename });
    await act(async () => item("a").querySelector<HTMLButtonElement>('[data-testid="rename-chat"]')!.click());
    const input = () => item("a").querySelector<HTMLInputElement>('input[aria-label="Chat title"]')!;
    const type = (value: string) =>
      act(async () => {
        Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, "value")!.set!.call(input(), value);
        input().dispatchEvent(new Event("input", { bubbles: true }));
      });
    const save = () => act(async () => item("a").querySelector<HTMLButtonElement>('button[type="submit"]')!.click());

    await type("   ");
    await save();
    expect(item("a").querySelector('[role="alert"]')?.textContent).toBe("The title can’t be empty.");
    expect(onRename).not.toHaveBeenCalled();

    await type("  Better   name ");
    await save();
    expect(onRename).toHaveBeenLastCalledWith(chat("a"), "Better name");
    expect(item("a").querySelector('[role="alert"]')?.textContent).toBe("The chat service is unavailable right now.");
    expect(input().value).toBe("  Better   name ");

    await save();
    expect(onRename).toHaveBeenCalledTimes(2);
    expect(item("a").querySelector("input")).toBeNull();
    expect(document.activeElement).toBe(item("a").querySelector("a"));
  });
});
