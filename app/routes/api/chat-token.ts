import { requireOwnedChat } from "~/lib/chats.server";
import { readGuestId } from "~/lib/guest.server";
import { orCapacityError, postOnlyLoader, requirePost } from "~/lib/http.server";
import { enforceRateLimit } from "~/lib/rate-limit.server";
import { clientAddressContext } from "~/lib/request-context";
import { mintChatToken } from "~/lib/trigger.server";
import type { Route } from "./+types/chat-token";

export const loader = postOnlyLoader;

/** A fresh token for one chat the caller owns; the transport asks for it when its token expires. */
export async function action({ request, params, context }: Route.ActionArgs) {
  requirePost(request);
  await enforceRateLimit("tokenMints", {
    guestId: await readGuestId(request),
    address: context.get(clientAddressContext),
  });
  return orCapacityError("minting a chat token", async () => {
    // A chat not started yet has no session to read or write, so it is as unknown here as a foreign one.
    const chatId = await requireOwnedChat(request, params.chatId);
    return Response.json({ token: await mintChatToken(chatId) });
  });
}
