/** An expected failure with the status and body a Trigger.dev client understands. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: Record<string, unknown>,
    readonly headers: Record<string, string> = {},
  ) {
    super(typeof body.error === "string" ? body.error : `HTTP ${status}`);
  }
}

/** Tells the SDK's fetch helper not to retry: the answer will not change. */
export const NO_RETRY = { "x-should-retry": "false" } as const;

export const badRequest = (error: string, details?: unknown) =>
  new HttpError(400, details === undefined ? { error } : { error, details });

export const notFound = (error: string) => new HttpError(404, { error });

export const forbidden = () =>
  new HttpError(403, { error: "Unauthorized", code: "unauthorized", param: "access_token", type: "authorization" });

/** A refusal the caller may retry later, with the headers both HTTP clients and the SDK's docs read. */
export const tooBusy = (message: string, retryAfterSeconds: number) =>
  new HttpError(
    429,
    { error: message },
    {
      "Retry-After": String(retryAfterSeconds),
      "x-ratelimit-reset": String(Date.now() + retryAfterSeconds * 1000),
      ...NO_RETRY,
    },
  );

export function json(status: number, body: unknown, headers: Record<string, string> = {}) {
  return Response.json(body, { status, headers });
}
