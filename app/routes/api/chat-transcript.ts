import { z } from "zod";
import { loadChatTranscript, requireOwnedChat, TRANSCRIPT_PAGE_SIZE } from "~/lib/chats.server";
import { orCapacityError, postOnlyLoader, readJsonBody, requirePost } from "~/lib/http.server";
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
  const body = await readJsonBody(request, TranscriptBody, 1024);
  return orCapacityError("loading a transcript", async () => {
    const chatId = await requireOwnedChat(request, params.chatId);
    const page = await loadChatTranscript(chatId, body);
    // Where the saved conversation ends on the chat's stream: a tab that missed the end of a turn resumes there.
    const lastEventId = body.before === undefined ? (page.lastEventId ?? null) : null;
    return Response.json({ messages: page.messages, nextCursor: page.nextCursor ?? null, lastEventId });
  });
}
