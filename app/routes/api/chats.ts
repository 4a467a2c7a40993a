import { z } from "zod";
import { ChatListCursorSchema } from "~/lib/chat-schemas.server";
import { listGuestChats } from "~/lib/chats.server";
import { readGuestId } from "~/lib/guest.server";
import { orCapacityError, postOnlyLoader, readJsonBody, requirePost } from "~/lib/http.server";
import type { Route } from "./+types/chats";

export const loader = postOnlyLoader;

const ListChatsBody = z.object({ cursor: ChatListCursorSchema.optional() });

/**
 * One page of the caller's chats, newest first, with the cursor of the next:
 * `{ cursor }` in the body asks for the page after the one that cursor came
 * with. A caller without a guest cookie has none.
 */
export async function action({ request }: Route.ActionArgs) {
  requirePost(request);
  const { cursor } = await readJsonBody(request, ListChatsBody);
  const guestId = await readGuestId(request);
  return orCapacityError("listing chats", async () =>
    Response.json(guestId ? await listGuestChats(guestId, cursor) : { chats: [] }),
  );
}
