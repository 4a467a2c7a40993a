import { z } from "zod";
import { parseChatId } from "~/lib/chats";
import { getChatAccess, loadChatTranscript, TRANSCRIPT_PAGE_SIZE } from "~/lib/chats.server";
import { readGuestId } from "~/lib/guest.server";
import { errorResponse, postOnlyLoader, readJsonBody, requirePost } from "~/lib/http";
import type { Route } from "./+types/chat-transcript";

const TranscriptBody = z.object({
  /** A message id from a previous page's `nextCursor`: return the messages before it. */
  before: z.string().min(1).max(200).optional(),
  limit: z.number().int().min(1).max(100).default(TRANSCRIPT_PAGE_SIZE),
});

export const loader = postOnlyLoader;

/** A page of the caller's chat history, newest messages last. */
export async function action({ request, params }: Route.ActionArgs) {
  requirePost(request);
  const chatId = parseChatId(params.chatId);
  if (!chatId) return errorResponse(400, "chatId must be a UUID");
  const body = await readJsonBody(request, TranscriptBody);

  const access = await getChatAccess(chatId, await readGuestId(request));
  if (access.kind !== "owned") return errorResponse(404, "Chat not found");

  const page = await loadChatTranscript(chatId, body);
  return Response.json({ messages: page.messages, nextCursor: page.nextCursor ?? null });
}
