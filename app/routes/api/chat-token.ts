import { parseChatId } from "~/lib/chats";
import { getChatAccess } from "~/lib/chats.server";
import { readGuestId } from "~/lib/guest.server";
import { errorResponse, postOnlyLoader, requirePost } from "~/lib/http";
import { mintChatToken } from "~/lib/trigger.server";
import type { Route } from "./+types/chat-token";

export const loader = postOnlyLoader;

/** A fresh token for one chat the caller owns; the transport asks for it when its token expires. */
export async function action({ request, params }: Route.ActionArgs) {
  requirePost(request);
  const chatId = parseChatId(params.chatId);
  if (!chatId) return errorResponse(400, "chatId must be a UUID");

  const access = await getChatAccess(chatId, await readGuestId(request));
  // A chat not started yet has no session to read or write, so it is as unknown here as a foreign one.
  if (access.kind !== "owned") return errorResponse(404, "Chat not found");

  return Response.json({ token: await mintChatToken(chatId) });
}
