import { checkReadiness } from "~/lib/readiness.server";

/**
 * `GET /readyz`: 200 when chats can be served, 503 when Trigger.dev or the
 * embedded engine cannot be reached with the configured key. The body names
 * the backend and nothing more; why it is unavailable goes to the log.
 */
export async function loader() {
  const { ready, backend } = await checkReadiness();
  return Response.json(
    { status: ready ? "ready" : "unavailable", backend },
    { status: ready ? 200 : 503, headers: { "Cache-Control": "no-store" } },
  );
}
