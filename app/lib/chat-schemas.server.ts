import { z } from "zod";

/**
 * Chat ids are UUIDs minted by the server. Being strict here also keeps ids
 * out of the `session_…` namespace Trigger.dev reserves for its own session ids.
 */
export const ChatIdSchema = z.uuid({ error: "chatId must be a UUID" });

/** The chat id in its one canonical form (lowercase), or undefined when it is not a UUID. */
export function parseChatId(value: string | undefined): string | undefined {
  const result = ChatIdSchema.safeParse(value);
  // UUIDs are case-insensitive: without this, "ABC…" and "abc…" would be two chats.
  return result.success ? result.data.toLowerCase() : undefined;
}

/** A list cursor as Trigger.dev and the embedded engine hand them out: an opaque session id. */
export const ChatListCursorSchema = z.string().regex(/^[\w-]{1,128}$/, "cursor must be a cursor from an earlier page");
