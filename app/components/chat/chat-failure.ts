import { ApiRequestError } from "~/lib/api-client";

export type ChatFailure = {
  /** Fit to show the user as it is. */
  message: string;
  /**
   * Refused for now (429: too many requests, or no capacity): the message did
   * not reach the agent and goes back to the composer, to send again later.
   */
  tooManyRequests: boolean;
};

const UNREACHABLE = "Couldn’t reach the server. Check your connection and try again.";

/** The transport's own errors carry the HTTP status and the raw response body in their message. */
type TransportError = Error & { status?: unknown };

/**
 * What to tell the user about an error from sending or streaming. The app's
 * routes already answer with messages meant for people; the transport's
 * errors ("appendToSessionStream failed: 429 {…}") are turned into one.
 */
export function describeChatFailure(error: Error): ChatFailure {
  const status = error instanceof ApiRequestError ? error.status : statusOf(error as TransportError);
  if (error instanceof ApiRequestError) return { message: error.message, tooManyRequests: status === 429 };
  // fetch's own rejection ("Failed to fetch", "NetworkError when attempting…", "Load failed"): nothing reached the server.
  if (status === undefined && error.name === "TypeError") return { message: UNREACHABLE, tooManyRequests: false };
  if (status === undefined) return { message: error.message, tooManyRequests: false };
  const serverMessage = errorFieldOf(error.message);
  if (status === 409 && isHeadStartError(error))
    return {
      message: "This chat has already started, in another tab. Reload the page to continue it.",
      tooManyRequests: false,
    };
  if (status === 429) {
    return {
      message: serverMessage ?? "Too many requests right now. Please wait a moment and send your message again.",
      tooManyRequests: true,
    };
  }
  if (status === 503)
    return {
      message: serverMessage ?? "The chat service is unavailable right now. Please try again in a moment.",
      tooManyRequests: false,
    };
  if (status >= 500)
    return { message: "The server couldn’t complete the request. Please try again.", tooManyRequests: false };
  return { message: `Your message couldn’t be sent (${status}). Please try again.`, tooManyRequests: false };
}

function statusOf(error: TransportError): number | undefined {
  return (error.name === "TriggerApiError" || isHeadStartError(error)) && typeof error.status === "number"
    ? error.status
    : undefined;
}

/** The transport's error for a head start the app's route refused: it keeps the status, not the body. */
const isHeadStartError = (error: Error) => error.message.startsWith("chat.handover endpoint returned ");

/** The `error` field of the JSON body the transport quotes after the status, when there is one. */
function errorFieldOf(message: string): string | undefined {
  const body = /^\S+ failed: \d{3} (.*)$/s.exec(message)?.[1];
  if (!body) return undefined;
  try {
    const parsed: unknown = JSON.parse(body);
    const field = typeof parsed === "object" && parsed !== null && "error" in parsed ? parsed.error : undefined;
    return typeof field === "string" && field.length <= 300 ? field : undefined;
  } catch {
    return undefined;
  }
}
