import { deleteChat, requireOwnedChat } from "~/lib/chats.server";
import { orCapacityError, postOnlyLoader, requirePost } from "~/lib/http.server";
import type { Route } from "./+types/chat-delete";

export const loader = postOnlyLoader;

/** Deletes one of the caller's chats. */
export async function action({ request, params }: Route.ActionArgs) {
  requirePost(request);
  return orCapacityError("deleting a chat", async () => {
    const chatId = await requireOwnedChat(request, params.chatId);
    await deleteChat(chatId);
    return Response.json({ deleted: chatId });
  });
}
