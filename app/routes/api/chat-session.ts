import { z } from "zod";
import { parseChatId, TITLE_SOURCE_MAX_LENGTH } from "~/lib/chats";
import { getChatAccess, setChatTitle, storedTitle, titleFromText } from "~/lib/chats.server";
import { guestHeaders, ownerTag, resolveGuest } from "~/lib/guest.server";
import { errorResponse, postOnlyLoader, readJsonBody, requirePost } from "~/lib/http";
import { startChatSession } from "~/lib/trigger.server";
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
export async function action({ request, params }: Route.ActionArgs) {
  requirePost(request);
  const chatId = parseChatId(params.chatId);
  if (!chatId) return errorResponse(400, "chatId must be a UUID");
  const body = await readJsonBody(request, StartSessionBody);

  const guest = await resolveGuest(request);
  const access = await getChatAccess(chatId, guest.id);
  if (access.kind === "unavailable") return errorResponse(404, "Chat not found", { headers: guestHeaders(guest) });

  const { publicAccessToken } = await startChatSession(chatId, ownerTag(guest.id));
  const existing = access.kind === "owned" ? access.session.metadata : undefined;
  if (body.title && !storedTitle(existing)) await setChatTitle(chatId, titleFromText(body.title), existing);

  return Response.json({ publicAccessToken }, { headers: guestHeaders(guest) });
}
