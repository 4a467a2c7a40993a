import { randomUUID } from "node:crypto";
import { sessions } from "@trigger.dev/sdk";
import { afterAll, describe, expect, it, vi } from "vitest";
import { loadChatTranscript } from "~/lib/chats.server";
import { getServerEnv } from "~/lib/env.server";
import { resolveGuest } from "~/lib/guest.server";
import { getLocalEngine } from "~/lib/local-engine.server";
import { cookieFrom, routeArgs, settle } from "~/lib/test-support.server";
import { connectTrigger } from "~/lib/trigger.server";
import { action } from "./chat-head-start";

// The real embedded engine and the real agent, as `npm start` runs them with CHAT_HEAD_START=1.
vi.mock("~/lib/env.server", async (importOriginal) => {
  const { tempDataDir } = await import("~/lib/test-support.server");
  const actual = await importOriginal<typeof import("~/lib/env.server")>();
  const env = actual.parseServerEnv({ NODE_ENV: "test", LOCAL_TRIGGER_DATA_DIR: tempDataDir(), CHAT_HEAD_START: "1" });
  return { ...actual, getServerEnv: vi.fn(() => env) };
});

async function newGuest() {
  const guest = await resolveGuest(new Request("http://localhost/"));
  return { id: guest.id, cookie: cookieFrom(guest.setCookie!) };
}

function headStart(chatId: string, cookie: string, text: string, overrides: Record<string, unknown> = {}) {
  const request = new Request(`http://localhost/api/chats/${chatId}/head-start`, {
    method: "POST",
    headers: { Cookie: cookie, "Content-Type": "application/json" },
    body: JSON.stringify({
      chatId,
      trigger: "submit-message",
      headStartMessages: [{ id: "m1", role: "user", parts: [{ type: "text", text }] }],
      ...overrides,
    }),
  });
  return settle(action(routeArgs(request, { chatId }, "/api/chats/:chatId/head-start")));
}

/** The text deltas of a UI message stream sent as SSE, and the control chunks the SDK adds. */
async function readAnswer(response: Response) {
  const chunks = (await response.text())
    .split("\n\n")
    .filter((event) => event.startsWith("data: "))
    .map(
      (event) =>
        JSON.parse(event.slice("data: ".length)) as { type: string; delta?: string; messageMetadata?: unknown },
    );
  return {
    text: chunks.map((chunk) => (chunk.type === "text-delta" ? chunk.delta : "")).join(""),
    types: chunks.map((chunk) => chunk.type),
    metadata: chunks.find((chunk) => chunk.type === "start")?.messageMetadata,
  };
}

describe("POST /api/chats/:chatId/head-start on the embedded engine", () => {
  afterAll(async () => (await getLocalEngine(getServerEnv())).close());

  it(
    "streams the first answer, hands the turn to the agent, and makes the caller the chat's owner under its title",
    { timeout: 60_000 },
    async () => {
      await connectTrigger();
      const chatId = randomUUID();
      const guest = await newGuest();
      const response = await headStart(chatId, guest.cookie, "Hello **there**");
      expect(response.status).toBe(200);
      expect(response.headers.get("Content-Type")).toBe("text/event-stream");
      expect(response.headers.get("X-Trigger-Chat-Access-Token")).toBeTruthy();
      const answer = await readAnswer(response);
      expect(answer.text).toContain("Hello **there**");
      expect(answer.metadata).toEqual({ model: "offline:offline-chat", offline: true });
      // The agent took the turn over and ended it.
      expect(answer.types).toContain("trigger:turn-complete");

      // Saved by the agent as it was shown, with the metadata that labels the model.
      const saved = await loadChatTranscript(chatId);
      expect(saved.messages.map((message) => message.role)).toEqual(["user", "assistant"]);
      expect(saved.messages[1]!.metadata).toEqual({ model: "offline:offline-chat", offline: true });

      const session = await sessions.retrieve(chatId);
      expect(session.tags).toEqual([`guest:${guest.id}`]);
      expect(session.metadata).toMatchObject({ title: "Hello there" });

      // Started now: the owner sends through the agent, anyone else finds no chat.
      expect((await headStart(chatId, guest.cookie, "again")).status).toBe(409);
      expect((await headStart(chatId, (await newGuest()).cookie, "mine?")).status).toBe(404);
    },
  );

  it("refuses what is not a new chat's first message, before anything starts", async () => {
    const chatId = randomUUID();
    const { cookie } = await newGuest();
    const refusals = await Promise.all([
      headStart(chatId, cookie, "hi", { chatId: randomUUID() }),
      headStart(chatId, cookie, "hi", { trigger: "regenerate-message" }),
      headStart(chatId, cookie, "   "),
      headStart(chatId, cookie, "hi", {
        headStartMessages: [
          { id: "m1", role: "user", parts: [{ type: "text", text: "one" }] },
          { id: "m2", role: "assistant", parts: [{ type: "text", text: "two" }] },
        ],
      }),
    ]);
    expect(refusals.map((response) => response.status)).toEqual([400, 400, 400, 400]);
    await expect(sessions.retrieve(chatId)).rejects.toMatchObject({ status: 404 });
  });

  it("refuses a model the server does not offer, in words, and starts nothing (never another model)", async () => {
    const chatId = randomUUID();
    const { cookie } = await newGuest();
    const response = await headStart(chatId, cookie, "hi", { metadata: { model: "openai:gpt-nothing" } });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toContain("isn’t available on this server");
    await expect(sessions.retrieve(chatId)).rejects.toMatchObject({ status: 404 });
  });

  it("is not there unless CHAT_HEAD_START is set", async () => {
    const actual = getServerEnv();
    vi.mocked(getServerEnv).mockReturnValueOnce({ ...actual, CHAT_HEAD_START: false });
    const response = await headStart(randomUUID(), (await newGuest()).cookie, "hi");
    expect(response.status).toBe(404);
  });
});
