import { ApiError } from "@trigger.dev/sdk";
import { createRequestHandler } from "react-router";
import { beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { resolveGuest } from "~/lib/guest.server";
import { cookieFrom, sessionRow, testServerBuild } from "~/lib/test-support.server";

const sdk = vi.hoisted(() => ({ retrieve: vi.fn(), list: vi.fn(), loadTranscript: vi.fn() }));
vi.mock("@trigger.dev/sdk", async (importOriginal) => ({
  ...(await importOriginal<typeof import("@trigger.dev/sdk")>()),
  sessions: { retrieve: sdk.retrieve, list: sdk.list },
}));
vi.mock("@trigger.dev/sdk/ai", async (importOriginal) => ({
  ...(await importOriginal<typeof import("@trigger.dev/sdk/ai")>()),
  chat: { createLoadTranscriptAction: () => sdk.loadTranscript },
}));
vi.mock("~/lib/trigger.server", () => ({
  connectTrigger: vi.fn(async () => ({ mode: "local", browserBaseURL: "/local-trigger" })),
  mintChatToken: vi.fn(async () => "chat-token-in-the-page"),
}));
vi.mock("~/lib/env.server", async (importOriginal) =>
  (await import("~/lib/test-support.server")).localEnvModule(importOriginal),
);

const CHAT_ID = "0b9c5f4e-7d2a-4c1e-9f3b-2a6d8e1c4b7a";

let handle: ReturnType<typeof createRequestHandler>;

/** The directives of a Cache-Control header, lower-cased, without their values. */
function cacheDirectives(response: Response): string[] {
  return (response.headers.get("Cache-Control") ?? "")
    .split(",")
    .map((directive) => directive.split("=")[0]!.trim().toLowerCase());
}

// The whole document response, through React Router's own request handler: what a
// browser or a shared cache sees, after React Router has merged the routes' headers.
describe("GET /chat/:chatId, whole responses", () => {
  beforeAll(async () => {
    handle = createRequestHandler(await testServerBuild(), "production");
  });

  beforeEach(() => {
    vi.clearAllMocks();
    sdk.list.mockResolvedValue({ data: [], pagination: {} });
    sdk.retrieve.mockRejectedValue(new ApiError(404, { error: "Session not found" }, undefined, undefined));
  });

  it("forbids storing the owner's page, which carries the chat token", async () => {
    const guest = await resolveGuest(new Request("http://localhost/"));
    sdk.retrieve.mockResolvedValue(
      sessionRow({ externalId: CHAT_ID, tags: [`guest:${guest.id}`], metadata: { title: "Hi" } }),
    );
    sdk.loadTranscript.mockResolvedValue({ messages: [], state: null, cursors: { lastOutEventId: "1" } });

    const response = await handle(
      new Request(`http://localhost/chat/${CHAT_ID}`, { headers: { Cookie: cookieFrom(guest.setCookie!) } }),
    );

    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toBe("text/html");
    // The token really is in this document: that is why it must never be cached.
    expect(await response.text()).toContain("chat-token-in-the-page");
    expect(cacheDirectives(response)).toContain("no-store");
    expect(cacheDirectives(response)).not.toContain("public");
  });

  it("forbids storing the data request a client-side navigation makes, which carries the token too", async () => {
    const guest = await resolveGuest(new Request("http://localhost/"));
    sdk.retrieve.mockResolvedValue(sessionRow({ externalId: CHAT_ID, tags: [`guest:${guest.id}`] }));
    sdk.loadTranscript.mockResolvedValue({ messages: [], state: null, cursors: { lastOutEventId: "1" } });

    const response = await handle(
      new Request(`http://localhost/chat/${CHAT_ID}.data`, { headers: { Cookie: cookieFrom(guest.setCookie!) } }),
    );

    expect(response.status).toBe(200);
    expect(await response.text()).toContain("chat-token-in-the-page");
    expect(cacheDirectives(response)).toContain("no-store");
    expect(cacheDirectives(response)).not.toContain("public");
  });

  it("forbids storing a new chat's page too", async () => {
    const response = await handle(new Request(`http://localhost/chat/${CHAT_ID}`));

    expect(response.status).toBe(200);
    expect(cacheDirectives(response)).toContain("no-store");
    expect(cacheDirectives(response)).not.toContain("public");
  });
});
