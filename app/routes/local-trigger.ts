import { getServerEnv } from "~/lib/env.server";
import { getLocalEngine, LOCAL_TRIGGER_PATH } from "~/lib/local-engine.server";
import type { Route } from "./+types/local-trigger";

/**
 * Mounts the embedded engine's Trigger.dev API on the app's own origin, so
 * the browser transport needs no CORS. The engine's Response (SSE included)
 * is returned untouched, so streams flow through unbuffered.
 */
async function forwardToEngine(request: Request): Promise<Response> {
  const env = getServerEnv();
  if (env.triggerMode !== "local") return new Response("Not found", { status: 404 });
  const engine = await getLocalEngine(env);
  return engine.handle(request, LOCAL_TRIGGER_PATH);
}

export const loader = ({ request }: Route.LoaderArgs) => forwardToEngine(request);
export const action = ({ request }: Route.ActionArgs) => forwardToEngine(request);
