import { APICallError, RetryError, type TextStreamPart, type ToolSet } from "ai";

/** What the user sees when a turn fails for a reason they cannot act on; the real error goes to the run logs. */
export const CHAT_ERROR_MESSAGE = "Sorry, something went wrong while writing this answer. Please try again.";

/*
 * What the user sees for each way a model provider can fail. Provider errors
 * carry the status, the request URL and bodies that may quote internals, so
 * only these sentences reach the browser; the raw error is logged.
 */
export const MODEL_FAILURE_MESSAGES = {
  "rate-limited": "The model is busy (rate limited). Try again in a moment.",
  refused: "The model declined to answer this (safety filter). Try rephrasing your message.",
  credentials: "The model refused this app’s API key. The app’s operator needs to check its configuration.",
  unavailable: "The model is unavailable right now. Try again in a moment.",
  unknown: CHAT_ERROR_MESSAGE,
} as const;

export type ModelFailureReason = keyof typeof MODEL_FAILURE_MESSAGES;

/**
 * The model ended its answer on a content filter (Gemini's `finishReason:
 * "SAFETY"`, or a prompt blocked with `promptFeedback.blockReason`). Providers
 * report this as a finish reason, not an error, so without this the user would
 * get an empty or cut-off answer and no word why.
 */
export class ModelRefusalError extends Error {
  override readonly name = "ModelRefusalError";
  constructor(
    readonly rawFinishReason: string | undefined,
    readonly providerMetadata: unknown,
  ) {
    super(`The model stopped on a content filter (finish reason ${rawFinishReason ?? "unknown"})`);
  }
}

/** A stream transform for `streamText` that turns a content-filter finish into a `ModelRefusalError`. Generic over the tools, so it fits any tool set. */
export const reportModelRefusals = <TOOLS extends ToolSet>() =>
  new TransformStream<TextStreamPart<TOOLS>, TextStreamPart<TOOLS>>({
    transform(part, controller) {
      if (part.type === "finish-step" && part.finishReason === "content-filter") {
        const error = new ModelRefusalError(part.rawFinishReason, part.providerMetadata);
        controller.enqueue({ type: "error", error });
      }
      controller.enqueue(part);
    },
  });

const MAX_LOGGED_BODY = 4_000;

export type ModelFailure = {
  reason: ModelFailureReason;
  /** Fit to show the user as it is. */
  userMessage: string;
  /** The raw error, for the logs only. */
  details: Record<string, unknown>;
};

export function describeModelFailure(error: unknown): ModelFailure {
  // After retries, the AI SDK throws a RetryError whose last error is the provider's.
  const attempts = RetryError.isInstance(error) ? error.errors.length : undefined;
  const cause = RetryError.isInstance(error) ? error.lastError : error;
  const reason = classify(cause);
  return { reason, userMessage: MODEL_FAILURE_MESSAGES[reason], details: { reason, ...rawDetails(cause), attempts } };
}

function classify(error: unknown): ModelFailureReason {
  if (error instanceof ModelRefusalError) return "refused";
  if (!APICallError.isInstance(error)) return "unknown";
  const status = error.statusCode;
  const body = error.responseBody ?? "";
  if (status === 429 || body.includes('"RESOURCE_EXHAUSTED"')) return "rate-limited";
  // Gemini answers a wrong key with 400 and reason API_KEY_INVALID; a missing or unauthorised one with 401/403.
  if (status === 401 || status === 403 || body.includes('"API_KEY_INVALID"')) return "credentials";
  // No status: the provider could not be reached at all.
  if (status === undefined || status >= 500) return "unavailable";
  return "unknown";
}

function rawDetails(error: unknown): Record<string, unknown> {
  if (error instanceof ModelRefusalError) {
    return { name: error.name, finishReason: error.rawFinishReason, providerMetadata: error.providerMetadata };
  }
  if (APICallError.isInstance(error)) {
    return {
      name: error.name,
      message: error.message,
      status: error.statusCode,
      url: error.url,
      body: error.responseBody?.slice(0, MAX_LOGGED_BODY),
    };
  }
  if (error instanceof Error) return { name: error.name, message: error.message, stack: error.stack };
  return { error: String(error) };
}
