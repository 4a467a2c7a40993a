import { describe, expect, it } from "vitest";
import { ApiRequestError } from "~/lib/api-client";
import { describeChatFailure } from "./chat-failure";

/** An error as the Trigger.dev transport throws it when an append is refused. */
function transportError(status: number, body: string) {
  return Object.assign(new Error(`appendToSessionStream failed: ${status} ${body}`), {
    name: "TriggerApiError",
    status,
  });
}

describe("describeChatFailure", () => {
  it("shows the server's own words for a rate limit, and sends the message back to the composer", () => {
    const failure = describeChatFailure(
      transportError(
        429,
        JSON.stringify({ error: "You’re sending messages too quickly. Please wait 12 s and try again." }),
      ),
    );
    expect(failure).toEqual({
      message: "You’re sending messages too quickly. Please wait 12 s and try again.",
      tooManyRequests: true,
    });
  });

  it("never shows the raw transport error", () => {
    for (const body of ["", "<html>busy</html>", JSON.stringify({ error: { nested: true } })]) {
      const failure = describeChatFailure(transportError(429, body));
      expect(failure.tooManyRequests).toBe(true);
      expect(failure.message).not.toMatch(/appendToSessionStream|429|html/);
    }
    expect(describeChatFailure(transportError(500, '{"error":"Internal error in the local engine"}')).message).toBe(
      "The server couldn’t complete the request. Please try again.",
    );
    expect(describeChatFailure(transportError(413, '{"error":"too big"}')).message).not.toContain(
      "appendToSessionStream",
    );
  });

  it("keeps the app routes' messages, which are written for people", () => {
    expect(
      describeChatFailure(
        new ApiRequestError(429, "You’re starting chats too quickly. Please wait 3 s and try again."),
      ),
    ).toEqual({
      message: "You’re starting chats too quickly. Please wait 3 s and try again.",
      tooManyRequests: true,
    });
    expect(
      describeChatFailure(new ApiRequestError(503, "The chat service is unavailable right now.")).tooManyRequests,
    ).toBe(false);
  });

  it("reads the status of a refused head start, whose body the transport drops", () => {
    const headStartError = (status: number) =>
      Object.assign(new Error(`chat.handover endpoint returned ${status} Whatever`), { status });
    expect(describeChatFailure(headStartError(429))).toEqual({
      message: "Too many requests right now. Please wait a moment and send your message again.",
      tooManyRequests: true,
    });
    expect(describeChatFailure(headStartError(409)).message).toBe(
      "This chat has already started, in another tab. Reload the page to continue it.",
    );
    expect(describeChatFailure(headStartError(500)).message).toBe(
      "The server couldn’t complete the request. Please try again.",
    );
  });

  it("passes other errors through as they are", () => {
    expect(describeChatFailure(new Error("Couldn’t reach the server."))).toEqual({
      message: "Couldn’t reach the server.",
      tooManyRequests: false,
    });
  });

  it("says the server could not be reached when the request never got there, in any browser's words", () => {
    for (const message of ["Failed to fetch", "NetworkError when attempting to fetch resource.", "Load failed"]) {
      expect(describeChatFailure(new TypeError(message))).toEqual({
        message: "Couldn’t reach the server. Check your connection and try again.",
        tooManyRequests: false,
      });
    }
  });
});
