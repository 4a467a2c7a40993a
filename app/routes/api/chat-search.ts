import { z } from "zod";
import { CHAT_SEARCH_MAX_LENGTH } from "~/lib/chats";
import { searchGuestChats } from "~/lib/chats.server";
import { readGuestId } from "~/lib/guest.server";
import { orCapacityError, postOnlyLoader, readJsonBody, requirePost } from "~/lib/http.server";
import type { Route } from "./+types/chat-search";

const SearchBody = z.object({
  query: z
    .string({ error: "query must be text" })
    .trim()
    .min(1, "Type something to search for.")
    .max(CHAT_SEARCH_MAX_LENGTH, `A search can be at most ${CHAT_SEARCH_MAX_LENGTH} characters.`),
});

export const loader = postOnlyLoader;

/**
 * The caller's chats whose title contains `query`, newest first, over all of
 * them, not only the pages the sidebar has loaded. A caller without a guest
 * cookie has none.
 */
export async function action({ request }: Route.ActionArgs) {
  requirePost(request);
  const { query } = await readJsonBody(request, SearchBody);
  const guestId = await readGuestId(request);
  return orCapacityError("searching chats", async () =>
    Response.json(guestId ? await searchGuestChats(guestId, query) : { chats: [], truncated: false }),
  );
}
