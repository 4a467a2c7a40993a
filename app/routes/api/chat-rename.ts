import { z } from "zod";
import { parseChatId } from "~/lib/chat-schemas.server";
import { CHAT_RENAME_MAX_LENGTH } from "~/lib/chats";
import { getChatAccess, setChatTitle } from "~/lib/chats.server";
import { readGuestId } from "~/lib/guest.server";
import { errorResponse, orCapacityError, postOnlyLoader, readJsonBody, requirePost } from "~/lib/http.server";
import type { Route } from "./+types/chat-rename";

const RenameBody = z.object({
  title: z
    .string({ error: "title must be text" })
    // One line: a pasted line break would be invisible in the sidebar and the tab.
    .transform((title) => title.replace(/\s+/g, " ").trim())
    .pipe(
      z
        .string()
        .min(1, "The title can’t be empty.")
        .max(CHAT_RENAME_MAX_LENGTH, `The title can be at most ${CHAT_RENAME_MAX_LENGTH} characters.`),
    ),
});

/** Room for a title far past the limit, so an overlong one gets the limit's message rather than a bare 413. */
const RENAME_BODY_LIMIT_BYTES = 16 * 1024;

export const loader = postOnlyLoader;

/** Renames one of the caller's chats. The agent never replaces a title the user gave. */
export async function action({ request, params }: Route.ActionArgs) {
  requirePost(request);
  const chatId = parseChatId(params.chatId);
  if (!chatId) return errorResponse(400, "chatId must be a UUID");
  const { title } = await readJsonBody(request, RenameBody, RENAME_BODY_LIMIT_BYTES);
  return orCapacityError("renaming a chat", async () => {
    const access = await getChatAccess(chatId, await readGuestId(request));
    if (access.kind !== "owned") return errorResponse(404, "Chat not found");
    await setChatTitle(chatId, title, access.session.metadata, "user");
    return Response.json({ id: chatId, title });
  });
}
