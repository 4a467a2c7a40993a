import { z } from "zod";
import { parseChatId } from "~/lib/chat-schemas.server";
import { TITLE_SOURCE_MAX_LENGTH } from "~/lib/chats";
import { startOwnedChat } from "~/lib/chats.server";
import { guestHeaders, resolveGuest } from "~/lib/guest.server";
import { errorResponse, orCapacityError, postOnlyLoader, readJsonBody, requirePost } from "~/lib/http.server";
import { enforceRateLimit, refundRateLimit } from "~/lib/rate-limit.server";
import { clientAddressContext } from "~/lib/request-context";
import type { Route } from "./+types/chat-session";

const StartSessionBody = z.object({
  /** The chat's first message, which names it in the sidebar. */
  title: z
    .string()
    .trim()
    .min(1, "title must not be empty")
    .max(TITLE_SOURCE_MAX_LENGTH, `title must be at most ${TITLE_SOURCE_MAX_LENGTH} characters`)
    .optional(),
});

export const loader = postOnlyLoader;

/**
 * Starts (or rejoins) the chat's Trigger.dev session for the calling guest and
 * returns the browser's session-scoped token. A chat that exists belongs to
 * whoever started it; anyone else gets 404.
 */
export async function action({ request, params, context }: Route.ActionArgs) {
  requirePost(request);
  const chatId = parseChatId(params.chatId);
  if (!chatId) return errorResponse(400, "chatId must be a UUID");
  const body = await readJsonBody(request, StartSessionBody);

  const address = context.get(clientAddressContext);
  const guest = await resolveGuest(request);
  // The cookie is only sent once every check has passed, so a refused request never changes who the browser is.
  if (guest.setCookie) await enforceRateLimit("newGuests", { address });
  await enforceRateLimit("sessionStarts", { guestId: guest.id, address });

  return orCapacityError("starting a chat session", async () => {
    const start = await startOwnedChat(chatId, guest.id, body.title);
    if (start.kind === "unavailable") return errorResponse(404, "Chat not found", { headers: guestHeaders(guest) });
    // Rejoining a chat the guest owns starts nothing new (another tab joining, or naming a chat started early).
    if (!start.created) await refundRateLimit("sessionStarts", { guestId: guest.id, address });
    return Response.json({ publicAccessToken: start.publicAccessToken }, { headers: guestHeaders(guest) });
  });
}
