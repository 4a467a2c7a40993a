import { beforeEach, describe, expect, it, vi } from "vitest";
import { resolveGuest } from "~/lib/guest.server";
import { cookieFrom, routeArgs, sessionRow, settle } from "~/lib/test-support.server";
import { action } from "./chat-rename";

const sdk = vi.hoisted(() => ({ retrieve: vi.fn(), update: vi.fn() }));
vi.mock("@trigger.dev/sdk", async (importOriginal) => ({
  ...(await importOriginal<typeof import("@trigger.dev/sdk")>()),
  sessions: { retrieve: sdk.retrieve, update: sdk.update },
}));
vi.mock("~/lib/trigger.server", () => ({
  connectTrigger: vi.fn(async () => ({ mode: "local", browserBaseURL: "/local-trigger" })),
}));
vi.mock("~/lib/env.server", async (importOriginal) =>
  (await import("~/lib/test-support.server")).localEnvModule(importOriginal),
);

const CHAT_ID = "0b9c5f4e-7d2a-4c1e-9f3b-2a6d8e1c4b7a";

function post(chatId: string, body: unknown, cookie?: string) {
  const request = new Request(`http://localhost/api/chats/${chatId}/rename`, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...(cookie ? { Cookie: cookie } : {}) },
    body: JSON.stringify(body),
  });
  return settle(action(routeArgs(request, { chatId }, "/api/chats/:chatId/rename")));
}

async function owner() {
  const guest = await resolveGuest(new Request("http://localhost/"));
  sdk.retrieve.mockResolvedValue(
    sessionRow({
      externalId: CHAT_ID,
      tags: [`guest:${guest.id}`],
      metadata: { title: "Old", titleFormat: "text", other: 1 },
    }),
  );
  return cookieFrom(guest.setCookie!);
}

describe("POST /api/chats/:chatId/rename", () => {
  beforeEach(() => vi.clearAllMocks());

  it("stores the owner's title as the user's, on one line, keeping the rest of the metadata", async () => {
    const cookie = await owner();
    const response = await post(CHAT_ID, { title: "  Trip\nplanning  " }, cookie);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ id: CHAT_ID, title: "Trip planning" });
    expect(sdk.update).toHaveBeenCalledWith(CHAT_ID, {
      metadata: { title: "Trip planning", titleFormat: "text", titleSource: "user", other: 1 },
    });
  });

  it("refuses an empty, an overlong or a missing title with a clear 400, and changes nothing", async () => {
    const cookie = await owner();
    const cases: [unknown, string][] = [
      [{ title: "   " }, "Invalid request body: title: The title can’t be empty."],
      [{ title: "x".repeat(10_000) }, "Invalid request body: title: The title can be at most 100 characters."],
      [{}, "Invalid request body: title: title must be text"],
    ];
    for (const [body, error] of cases) {
      const response = await post(CHAT_ID, body, cookie);
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({ error });
    }
    expect(sdk.update).not.toHaveBeenCalled();
  });

  it("answers 404 for another guest's chat or no cookie, and 400 for a bad id", async () => {
    await owner();
    const stranger = await resolveGuest(new Request("http://localhost/"));
    expect((await post(CHAT_ID, { title: "Mine now" }, cookieFrom(stranger.setCookie!))).status).toBe(404);
    expect((await post(CHAT_ID, { title: "Mine now" })).status).toBe(404);
    expect((await post("nope", { title: "x" })).status).toBe(400);
    expect(sdk.update).not.toHaveBeenCalled();
  });
});
