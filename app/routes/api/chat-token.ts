import { requireOwnedChat } from "~/lib/chats.server";
import { postOnlyLoader, requirePost } from "~/lib/http";
import { mintChatToken } from "~/lib/trigger.server";
import type { Route } from "./+types/chat-token";

export const loader = postOnlyLoader;

/** A fresh token for one chat the caller owns; the transport asks for it when its token expires. */
export async function action({ request, params }: Route.ActionArgs) {
  requirePost(request);
  // A chat not started yet has no session to read or write, so it is as unknown here as a foreign one.
  const chatId = await requireOwnedChat(request, params.chatId);
  return Response.json({ token: await mintChatToken(chatId) });
}
