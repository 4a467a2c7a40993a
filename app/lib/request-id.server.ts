import type { MiddlewareFunction } from "react-router";
import { currentRequestId, REQUEST_ID_HEADER, requestIdFrom, withRequestId } from "./logger.server";
import { withHeaders } from "./security.server";

/**
 * Gives a request an id for its log lines, and sends it back in X-Request-Id,
 * where nothing in front of the app did: on the dev server, and in tests. The
 * production server gives every request its id before the app sees it.
 */
export const requestIdMiddleware: MiddlewareFunction<Response> = async ({ request }, next) => {
  if (currentRequestId()) return next();
  const requestId = requestIdFrom(request.headers.get(REQUEST_ID_HEADER));
  const response = await withRequestId(requestId, next);
  return withHeaders(response, { [REQUEST_ID_HEADER]: requestId });
};
