/** A JSON endpoint of this app answered with an error status. */
export class ApiRequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "ApiRequestError";
  }
}

/**
 * POSTs to one of the app's JSON resource routes from the browser and returns
 * the parsed body. Failures become errors whose message is fit to show the user.
 */
export async function postJson<T>(url: string, body?: unknown): Promise<T> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: body === undefined ? undefined : { "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new Error("Couldn’t reach the server. Check your connection and try again.");
  }
  const payload: unknown = await response.json().catch(() => undefined);
  if (!response.ok) throw new ApiRequestError(response.status, describeFailure(response.status, payload));
  return payload as T;
}

function describeFailure(status: number, payload: unknown): string {
  if (status === 404) return "This chat doesn’t exist, or it belongs to someone else.";
  const message = typeof payload === "object" && payload !== null && "error" in payload ? payload.error : undefined;
  // Too many requests and no capacity come with a message written for people; other server errors do not.
  if (typeof message === "string" && (status === 429 || status === 503)) return message;
  if (status >= 500) return "The server couldn’t complete the request. Please try again.";
  return typeof message === "string" ? message : `The request failed (${status}).`;
}
