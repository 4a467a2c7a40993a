import type { TaskIdentifier } from "@trigger.dev/sdk";
import type { chatAgent } from "../../trigger/chat";

// Shared with the browser, so no validation library here: the schemas are in chat-schemas.server.ts.

/** The agent's task id, checked against the agent's type so a rename cannot silently break the transport. */
export const CHAT_TASK_ID = "chat" satisfies TaskIdentifier<typeof chatAgent>;

/** A chat as the sidebar lists it. */
export type ChatSummary = { id: string; title: string; createdAt: string };

/** One page of the sidebar's list, newest first; `nextCursor` asks for the page after it, absent on the last. */
export type ChatListPage = { chats: ChatSummary[]; nextCursor?: string };

/** The longest edited message the agent takes (trigger/chat-history.ts has the same limit). */
export const EDIT_TEXT_MAX_LENGTH = 20_000;

/** The longest title a user may give a chat. */
export const CHAT_RENAME_MAX_LENGTH = 100;

/** The longest search the sidebar sends. */
export const CHAT_SEARCH_MAX_LENGTH = 200;

/** How much of the first message the browser sends to name the chat; titles are much shorter. */
export const TITLE_SOURCE_MAX_LENGTH = 500;

/**
 * The sidebar's list: the loader's first page, then the older chats the user
 * loaded with "Show more". The first page is the truth for the span it covers,
 * so a chat deleted elsewhere drops out of it; older chats are kept from
 * earlier loads, including ones a new chat pushed off the first page. A first
 * page without a next cursor is the whole list.
 */
export function mergeChatPages(first: ChatListPage, older: ChatListPage | undefined): ChatListPage {
  if (!older || first.nextCursor === undefined) return first;
  const onFirstPage = new Set(first.chats.map((chat) => chat.id));
  const oldestOnFirstPage = first.chats.at(-1)?.createdAt;
  const rest = older.chats.filter(
    (chat) => !onFirstPage.has(chat.id) && (oldestOnFirstPage === undefined || chat.createdAt <= oldestOnFirstPage),
  );
  return { chats: [...first.chats, ...rest], nextCursor: older.nextCursor };
}
