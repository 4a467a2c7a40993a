import { ApiError } from "@trigger.dev/sdk";
import type { z } from "zod";
import { readBody } from "~/local-trigger/http/body.server";
import { HttpError } from "~/local-trigger/http/errors.server";
import { logger } from "./logger.server";

/** A JSON error body with a real status code; thrown from loaders and actions, returned as-is. */
export function errorResponse(status: number, message: string, init?: ResponseInit): Response {
  return Response.json({ error: message }, { ...init, status });
}

/** The most any of the app's own routes accepts; each route's reader may allow less. */
export const APP_BODY_LIMIT_BYTES = 16 * 1024;
/** A head start carries the chat's first message, which may be as large as any message the engine takes. */
export const HEAD_START_BODY_LIMIT_BYTES = 1024 * 1024;
/** The head-start route's path: its body is the first message, not a small request. */
export const HEAD_START_PATH = /^\/api\/chats\/[^/]+\/head-start$/;

/**
 * Reads and validates a JSON body of at most `limitBytes`, refused (413)
 * before it is read when it declares more, and cut off when it streams more.
 * Throws a 4xx Response on a wrong content type, malformed JSON or a schema
 * mismatch. An empty body counts as `{}`.
 */
export async function readJsonBody<T extends z.ZodType>(
  request: Request,
  schema: T,
  limitBytes = APP_BODY_LIMIT_BYTES,
): Promise<z.infer<T>> {
  let text: string;
  try {
    text = await readBody(request, limitBytes);
  } catch (error) {
    if (error instanceof HttpError) throw errorResponse(error.status, error.message, { headers: error.headers });
    throw error;
  }
  let raw: unknown = {};
  if (text.trim() !== "") {
    if (!isJsonContentType(request.headers.get("Content-Type")))
      throw errorResponse(415, "Request body must be sent as application/json");
    try {
      raw = JSON.parse(text);
    } catch {
      throw errorResponse(400, "Request body must be JSON");
    }
  }
  const result = schema.safeParse(raw);
  if (!result.success) {
    const problems = result.error.issues.map((issue) =>
      issue.path.length ? `${issue.path.join(".")}: ${issue.message}` : issue.message,
    );
    throw errorResponse(400, `Invalid request body: ${problems.join("; ")}`);
  }
  return result.data;
}

export const isJsonContentType = (value: string | null) =>
  value?.split(";")[0]?.trim().toLowerCase() === "application/json";

const methodNotAllowedResponse = () =>
  errorResponse(405, "Method not allowed: use POST", { headers: { Allow: "POST" } });

/** Only POST reaches these endpoints' actions; any other method is a 405. */
export function requirePost(request: Request): void {
  if (request.method !== "POST") throw methodNotAllowedResponse();
}

/** The loader of a POST-only resource route, so a GET gets a 405 rather than React Router's "no loader" error. */
export function postOnlyLoader(): Response {
  return methodNotAllowedResponse();
}

/**
 * Trigger.dev (or the embedded engine) refusing for capacity is not a crash:
 * its 429 or 503 reaches the browser as the same status, with a plain message
 * and its Retry-After, and the log gets one line instead of a stack. Any other
 * error is rethrown.
 */
export function capacityErrorResponse(error: unknown, what: string): Response {
  if (!(error instanceof ApiError) || (error.status !== 429 && error.status !== 503)) throw error;
  const retryAfter = retryAfterSeconds(error.headers);
  const retry = retryAfter ? `, retry after ${retryAfter} s` : "";
  logger("trigger").warn(`${what} refused with ${error.status}${retry}: ${error.message}`);
  const message =
    error.status === 429
      ? "The chat service is busy right now. Please try again in a moment."
      : "The chat service is unavailable right now. Please try again in a moment.";
  return errorResponse(error.status, message, { headers: { "Retry-After": String(retryAfter ?? 5) } });
}

/** A loader's work, with a Trigger.dev capacity refusal thrown as its Response (the error boundary shows its message). */
export async function loadOrThrowCapacity<T>(what: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof Response || isDataResponse(error)) throw error;
    throw capacityErrorResponse(error, what);
  }
}

/** What `data(…, { status })` throws: React Router's own response, not an error to translate. */
const isDataResponse = (error: unknown) =>
  typeof error === "object" && error !== null && "type" in error && error.type === "DataWithResponseInit";

/** Runs a route's work, answering a Trigger.dev capacity refusal as {@link capacityErrorResponse} does. */
export async function orCapacityError(what: string, work: () => Promise<Response>): Promise<Response> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof Response) throw error;
    return capacityErrorResponse(error, what);
  }
}

function retryAfterSeconds(headers: Record<string, string | null | undefined> | undefined): number | undefined {
  const value = Number(headers?.["retry-after"]);
  if (Number.isFinite(value) && value > 0) return Math.ceil(value);
  const reset = Number(headers?.["x-ratelimit-reset"]);
  if (Number.isFinite(reset) && reset > Date.now()) return Math.ceil((reset - Date.now()) / 1000);
  return undefined;
}
