import { getServerEnv } from "~/lib/env.server";
import { readGuestId } from "~/lib/guest.server";
import { getLocalEngine, LOCAL_TRIGGER_PATH } from "~/lib/local-engine.server";
import { enforceRateLimit } from "~/lib/rate-limit.server";
import { clientAddressContext } from "~/lib/request-context";
import type { Route } from "./+types/local-trigger";

/** A chat's input stream: where messages and stop signals go. */
const INPUT_APPEND = new RegExp(`^${LOCAL_TRIGGER_PATH}/realtime/v1/sessions/[^/]+/in/append$`);

/**
 * Mounts the embedded engine's Trigger.dev API on the app's own origin, so
 * the browser transport needs no CORS. The engine's Response (SSE included)
 * is returned untouched but for its CORS headers, so streams flow through unbuffered.
 */
async function forwardToEngine(request: Request, clientAddress: string | null): Promise<Response> {
  const env = getServerEnv();
  if (env.triggerMode !== "local") return new Response("Not found", { status: 404 });
  if (request.method === "POST" && INPUT_APPEND.test(new URL(request.url).pathname)) {
    // Trigger.dev applies its own limits in remote mode; here the app is the only gate.
    await enforceRateLimit("messages", { guestId: await readGuestId(request), address: clientAddress }).catch((refusal: unknown) => {
      // The SDK would otherwise retry a 429 on its own and the user would wait without a word.
      if (refusal instanceof Response) refusal.headers.set("x-should-retry", "false");
      throw refusal;
    });
  }
  const engine = await getLocalEngine(env);
  const response = await engine.handle(request, LOCAL_TRIGGER_PATH);
  // Same-origin only here: the standalone engine's "any origin" CORS would let other sites' scripts call this origin.
  for (const name of [...response.headers.keys()]) if (name.startsWith("access-control-")) response.headers.delete(name);
  return response;
}

export const loader = ({ request, context }: Route.LoaderArgs) => forwardToEngine(request, context.get(clientAddressContext));
export const action = ({ request, context }: Route.ActionArgs) => forwardToEngine(request, context.get(clientAddressContext));
