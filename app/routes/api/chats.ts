import { listGuestChats } from "~/lib/chats.server";
import { readGuestId } from "~/lib/guest.server";
import { orCapacityError, postOnlyLoader, requirePost } from "~/lib/http.server";
import type { Route } from "./+types/chats";

export const loader = postOnlyLoader;

/** The caller's chats, newest first; a caller without a guest cookie has none. */
export async function action({ request }: Route.ActionArgs) {
  requirePost(request);
  const guestId = await readGuestId(request);
  return orCapacityError("listing chats", async () => Response.json({ chats: guestId ? await listGuestChats(guestId) : [] }));
}
