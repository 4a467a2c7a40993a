import { z } from "zod";
import { ModelChoiceError } from "../../lib/ai/model";
import { parseChatId } from "~/lib/chat-schemas.server";
import { TITLE_SOURCE_MAX_LENGTH } from "~/lib/chats";
import { startOwnedChatWithHeadStart } from "~/lib/chats.server";
import { getServerEnv } from "~/lib/env.server";
import { guestHeaders, ownerTag, resolveGuest } from "~/lib/guest.server";
import { createHeadStartHandler } from "~/lib/head-start.server";
import {
  errorResponse,
  HEAD_START_BODY_LIMIT_BYTES,
  orCapacityError,
  postOnlyLoader,
  readJsonBody,
  requirePost,
} from "~/lib/http.server";
import { enforceRateLimit } from "~/lib/rate-limit.server";
import { clientAddressContext } from "~/lib/request-context";
import type { Route } from "./+types/chat-head-start";

/** The transport's head-start request: a new chat's one user message, in text. */
const HeadStartBody = z.looseObject({
  chatId: z.string(),
  trigger: z.literal("submit-message", "a head start only sends a new message"),
  headStartMessages: z
    .array(
      z.looseObject({
        id: z.string().min(1),
        role: z.literal("user", "a new chat starts with the user's message"),
        parts: z
          .array(z.looseObject({ type: z.literal("text", "messages are text"), text: z.string() }))
          .min(1, "the message has no text"),
      }),
    )
    .length(1, "a head start carries the new chat's first message only"),
  // The client data the page sends with every message: the model picked.
  metadata: z.looseObject({ model: z.string().min(1).max(200).optional() }).optional(),
});

export const loader = postOnlyLoader;

/**
 * Starts a new chat with its first answer streamed from this server while the
 * agent's run boots (`chat.headStart`); the agent takes the turn over and
 * answers every later one. The transport sends a chat's first message here
 * only when the chat page asked for it (`CHAT_HEAD_START`). The caller becomes
 * the chat's owner, as with the session route.
 */
export async function action({ request, params, context }: Route.ActionArgs) {
  requirePost(request);
  const chatId = parseChatId(params.chatId);
  if (!chatId) return errorResponse(400, "chatId must be a UUID");
  if (!getServerEnv().CHAT_HEAD_START) return errorResponse(404, "Head starts are not enabled on this server");
  const body = await readJsonBody(request, HeadStartBody, HEAD_START_BODY_LIMIT_BYTES);
  if (body.chatId !== chatId) return errorResponse(400, "chatId in the body must be the chat of the address");
  const text = body.headStartMessages[0]!.parts.map((part) => part.text).join("");
  const title = text.slice(0, TITLE_SOURCE_MAX_LENGTH).trim();
  if (!title) return errorResponse(400, "The message is empty");

  const address = context.get(clientAddressContext);
  const guest = await resolveGuest(request);
  // The cookie is only sent once every check has passed, so a refused request never changes who the browser is.
  if (guest.setCookie) await enforceRateLimit("newGuests", { address });
  await enforceRateLimit("sessionStarts", { guestId: guest.id, address });
  // It is also the chat's first message, counted as the engine's mount counts one.
  await enforceRateLimit("messages", { guestId: guest.id, address });
  await enforceRateLimit("uploadKiB", { guestId: guest.id, address }, Math.ceil(Buffer.byteLength(text) / 1024));

  return orCapacityError("starting a chat with a head start", async () => {
    let handle: (request: Request) => Promise<Response>;
    try {
      handle = createHeadStartHandler(ownerTag(guest.id), body.metadata?.model);
    } catch (error) {
      if (error instanceof ModelChoiceError) return errorResponse(400, error.message, { headers: guestHeaders(guest) });
      throw error;
    }
    // The body was read here, so the handler gets it again in a request of its own. Not with the caller's
    // signal: the first answer is written to the end and handed to the agent even if the caller goes.
    const forwarded = new Request(request.url, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    const start = await startOwnedChatWithHeadStart(chatId, guest.id, title, () => handle(forwarded));
    if (start.kind === "unavailable") return errorResponse(404, "Chat not found", { headers: guestHeaders(guest) });
    if (start.kind === "exists") {
      return errorResponse(409, "This chat has already started, in another tab. Reload the page to continue it.", {
        headers: guestHeaders(guest),
      });
    }
    const headers = new Headers(start.response.headers);
    for (const [name, value] of new Headers(guestHeaders(guest))) headers.append(name, value);
    return new Response(start.response.body, { status: start.response.status, headers });
  });
}
