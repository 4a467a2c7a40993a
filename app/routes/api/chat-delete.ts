import { parseChatId } from "~/lib/chats";
import { deleteChat, getChatAccess } from "~/lib/chats.server";
import { readGuestId } from "~/lib/guest.server";
import { errorResponse, postOnlyLoader, requirePost } from "~/lib/http";
import type { Route } from "./+types/chat-delete";

export const loader = postOnlyLoader;

/** Deletes one of the caller's chats. */
export async function action({ request, params }: Route.ActionArgs) {
  requirePost(request);
  const chatId = parseChatId(params.chatId);
  if (!chatId) return errorResponse(400, "chatId must be a UUID");

  const access = await getChatAccess(chatId, await readGuestId(request));
  if (access.kind !== "owned") return errorResponse(404, "Chat not found");

  await deleteChat(chatId);
  return Response.json({ deleted: chatId });
}
