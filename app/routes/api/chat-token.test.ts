import { ApiError } from "@trigger.dev/sdk";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { resolveGuest } from "~/lib/guest.server";
import { cookieFrom, routeArgs, sessionRow, settle } from "~/lib/test-support.server";
import { action } from "./chat-token";

const sdk = vi.hoisted(() => ({ retrieve: vi.fn() }));
vi.mock("@trigger.dev/sdk", async (importOriginal) => ({
  ...(await importOriginal<typeof import("@trigger.dev/sdk")>()),
  sessions: { retrieve: sdk.retrieve },
}));
// Remote mode with a made-up key: the real mintChatToken signs the token itself, and the one
// API call it makes (the environment's JWT claims) is answered by the fetch stub below.
vi.mock("~/lib/env.server", async (importOriginal) => {
  const actual = await importOriginal<typeof import("~/lib/env.server")>();
  const env = actual.parseServerEnv({
    NODE_ENV: "test",
    TRIGGER_SECRET_KEY: "tr_dev_tokentestsecret",
    TRIGGER_API_URL: "http://trigger.test",
    SESSION_SECRET: "s".repeat(32),
  });
  return { ...actual, getServerEnv: () => env };
});

const CHAT_ID = "0b9c5f4e-7d2a-4c1e-9f3b-2a6d8e1c4b7a";

function post(chatId: string, cookie?: string) {
  const request = new Request(`http://localhost/api/chats/${chatId}/token`, {
    method: "POST",
    headers: cookie ? { Cookie: cookie } : {},
  });
  return settle(action(routeArgs(request, { chatId }, "/api/chats/:chatId/token")));
}

async function guestCookie() {
  const guest = await resolveGuest(new Request("http://localhost/"));
  return { id: guest.id, cookie: cookieFrom(guest.setCookie!) };
}

function jwtPayload(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString("utf8"));
}

describe("POST /api/chats/:chatId/token", () => {
  beforeEach(() => {
    vi.clearAllMocks();
    vi.stubGlobal(
      "fetch",
      vi.fn(async (input: RequestInfo | URL) => {
        if (String(input) === "http://trigger.test/api/v1/auth/jwt/claims")
          return Response.json({ sub: "env_test", pub: true });
        return new Response("unexpected request in test", { status: 500 });
      }),
    );
  });
  afterEach(() => vi.unstubAllGlobals());

  it("rejects a chat id that is not a UUID", async () => {
    const { cookie } = await guestCookie();
    const response = await post("../../etc", cookie);
    expect(response.status).toBe(400);
    expect(sdk.retrieve).not.toHaveBeenCalled();
  });

  it("answers 404 for a chat that was never started", async () => {
    const { cookie } = await guestCookie();
    sdk.retrieve.mockRejectedValue(new ApiError(404, { error: "Session not found" }, undefined, undefined));
    expect((await post(CHAT_ID, cookie)).status).toBe(404);
  });

  it("answers 404 for another guest's chat and for a caller with no guest cookie", async () => {
    const owner = await guestCookie();
    const intruder = await guestCookie();
    sdk.retrieve.mockResolvedValue(sessionRow({ externalId: CHAT_ID, tags: [`guest:${owner.id}`] }));

    const foreign = await post(CHAT_ID, intruder.cookie);
    expect(foreign.status).toBe(404);
    expect(await foreign.json()).toEqual({ error: "Chat not found" });
    expect((await post(CHAT_ID)).status).toBe(404);
    expect(fetch).not.toHaveBeenCalled();
  });

  it("mints an hour-long token whose scopes name only this chat", async () => {
    const owner = await guestCookie();
    sdk.retrieve.mockResolvedValue(sessionRow({ externalId: CHAT_ID, tags: [`guest:${owner.id}`] }));

    const response = await post(CHAT_ID, owner.cookie);

    expect(response.status).toBe(200);
    const { token } = (await response.json()) as { token: string };
    const payload = jwtPayload(token);
    expect(payload.scopes).toEqual([`read:sessions:${CHAT_ID}`, `write:sessions:${CHAT_ID}`]);
    expect(Number(payload.exp) - Number(payload.iat)).toBe(60 * 60);
  });
});
