import { randomUUID } from "node:crypto";
import { sessions } from "@trigger.dev/sdk";
import { afterAll, describe, expect, it, vi } from "vitest";
import { getServerEnv } from "~/lib/env.server";
import { resolveGuest } from "~/lib/guest.server";
import { getLocalEngine } from "~/lib/local-engine.server";
import { cookieFrom, routeArgs, settle } from "~/lib/test-support.server";
import { connectTrigger } from "~/lib/trigger.server";
import { action } from "./chat-session";

// The real embedded engine, as `npm start` runs it: these are properties of the whole path, not of mocks.
vi.mock("~/lib/env.server", async (importOriginal) =>
  (await import("~/lib/test-support.server")).localEnvModule(importOriginal),
);

async function newGuest() {
  const guest = await resolveGuest(new Request("http://localhost/"));
  return { id: guest.id, cookie: cookieFrom(guest.setCookie!) };
}

function start(chatId: string, cookie: string) {
  const request = new Request(`http://localhost/api/chats/${chatId}/session`, {
    method: "POST",
    headers: { Cookie: cookie, "Content-Type": "application/json" },
    body: JSON.stringify({ title: "Race" }),
  });
  return settle(action(routeArgs(request, { chatId }, "/api/chats/:chatId/session")));
}

describe("POST /api/chats/:chatId/session on the embedded engine", () => {
  afterAll(async () => (await getLocalEngine(getServerEnv())).close());

  it(
    "gives a new chat id to exactly one of two guests racing to start it, every time",
    { timeout: 60_000 },
    async () => {
      await connectTrigger();
      const outcomes: string[] = [];
      for (let round = 0; round < 20; round++) {
        const chatId = randomUUID();
        const [a, b] = [await newGuest(), await newGuest()];
        const [ra, rb] = await Promise.all([start(chatId, a.cookie), start(chatId, b.cookie)]);
        const statuses = [ra.status, rb.status].sort().join("/");
        outcomes.push(statuses);
        const winner = ra.status === 200 ? a : b;
        const session = await sessions.retrieve(chatId);
        expect(session.tags, `round ${round}`).toEqual([`guest:${winner.id}`]);
        // The loser keeps getting 404; the winner can rejoin.
        const again = await Promise.all([start(chatId, a.cookie), start(chatId, b.cookie)]);
        expect(again.map((response) => response.status)).toEqual([ra.status, rb.status]);
      }
      expect(
        outcomes.every((outcome) => outcome === "200/404"),
        outcomes.join(" "),
      ).toBe(true);
    },
  );

  it("treats an id in capitals as the same chat as in lowercase", async () => {
    const chatId = randomUUID();
    const owner = await newGuest();
    expect((await start(chatId.toUpperCase(), owner.cookie)).status).toBe(200);
    expect((await sessions.retrieve(chatId)).tags).toEqual([`guest:${owner.id}`]);
    expect((await start(chatId, owner.cookie)).status).toBe(200);
    expect((await start(chatId.toUpperCase(), (await newGuest()).cookie)).status).toBe(404);
  });
});
