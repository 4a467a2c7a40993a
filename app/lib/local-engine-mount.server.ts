import { getServerEnv } from "~/lib/env.server";
import { readGuestId } from "~/lib/guest.server";
import { errorResponse } from "~/lib/http.server";
import { getLocalEngine, LOCAL_TRIGGER_PATH } from "~/lib/local-engine.server";
import { logger } from "~/lib/logger.server";
import { enforceRateLimit, refundRateLimit } from "~/lib/rate-limit.server";
import { refuseRequest } from "~/lib/security.server";

/**
 * Writes to a chat that a session token may make: messages, stop signals and side channels on its
 * streams; and on the session itself, as on Trigger.dev, close, end-and-continue (which starts a run)
 * and metadata updates.
 */
const CHAT_WRITE = new RegExp(
  `^${LOCAL_TRIGGER_PATH}/(?:realtime/v1/sessions/([^/]+)/(?:channels/[^/]+/)?(?:in|out)(?:/append)?|api/v1/sessions/([^/]+)(?:/close|/end-and-continue)?)$`,
);
/** The engine's largest append, counted for a body that does not declare its size. */
const MAX_APPEND_KIB = 1024;
const CREDENTIALS_REFUSED = new Set([401, 403, 404]);

/**
 * Mounts the embedded engine's Trigger.dev API on the app's own origin, so
 * the browser transport needs no CORS. The engine's Response (SSE included)
 * is returned untouched but for its CORS headers, so streams flow through unbuffered.
 * Throws a Response when the app refuses the write (rate limits), as a route may.
 */
export async function forwardToEngine(request: Request, clientAddress: string | null): Promise<Response> {
  const env = getServerEnv();
  if (env.triggerMode !== "local") return new Response("Not found", { status: 404 });
  const write =
    request.method === "GET" || request.method === "HEAD" ? null : CHAT_WRITE.exec(new URL(request.url).pathname);
  const counted = write
    ? await limitChatWrite(request, decodeURIComponent((write[1] ?? write[2])!), clientAddress)
    : undefined;
  const engine = await getLocalEngine(env);
  const response = await engine.handle(request, LOCAL_TRIGGER_PATH);
  // Refused credentials are checked before the engine reads the body: such a request cost nothing to store.
  if (counted && CREDENTIALS_REFUSED.has(response.status)) await counted.refund();
  // Same-origin only here: the standalone engine's "any origin" CORS would let other sites' scripts call this origin.
  for (const name of [...response.headers.keys()])
    if (name.startsWith("access-control-")) response.headers.delete(name);
  return response;
}

/**
 * Trigger.dev applies its own limits in remote mode; here the app is the only
 * gate, by count and by size. Without its cookie a caller is counted by the
 * chat it writes to, so dropping the cookie buys no extra budget. Returns how
 * to give the count back when the engine refuses the credentials.
 */
async function limitChatWrite(request: Request, chatId: string, address: string | null) {
  const caller = { guestId: (await readGuestId(request)) ?? `chat:${chatId.toLowerCase()}`, address };
  const declared = Number(request.headers.get("Content-Length"));
  const kib = Number.isFinite(declared) && declared >= 0 ? Math.max(1, Math.ceil(declared / 1024)) : MAX_APPEND_KIB;
  try {
    await enforceRateLimit("messages", caller);
    await enforceRateLimit("uploadKiB", caller, kib);
  } catch (refusal) {
    // The SDK would otherwise retry a 429 on its own and the user would wait without a word.
    if (refusal instanceof Response) refusal.headers.set("x-should-retry", "false");
    throw refusal;
  }
  return {
    refund: () => Promise.all([refundRateLimit("messages", caller), refundRateLimit("uploadKiB", caller, kib)]),
  };
}

/**
 * The engine's mount as the production server serves it: beside React Router
 * rather than through its route pipeline, which cost each of a turn's two
 * requests (the message and its answer stream) 1–2 ms of the main thread.
 * Refuses what the app's security middleware refuses on that route, and
 * answers every request, refusals and failures included, with a Response.
 */
export async function serveLocalEngine(request: Request, clientAddress: string | null): Promise<Response> {
  try {
    return refuseRequest(request, getServerEnv()) ?? (await forwardToEngine(request, clientAddress));
  } catch (thrown) {
    if (thrown instanceof Response) return thrown;
    // A client that went away (a closed tab, a stopped stream) is not a server error.
    if (!request.signal.aborted)
      logger("server").error(
        { err: thrown },
        `${request.method} ${new URL(request.url).pathname.slice(0, 200)} failed`,
      );
    return errorResponse(500, "Something went wrong");
  }
}

/** What the production server needs to serve the mount itself (see app/server/app.server.ts). */
export const localEngineMount = { path: LOCAL_TRIGGER_PATH, serve: serveLocalEngine };
export type LocalEngineMount = typeof localEngineMount;
