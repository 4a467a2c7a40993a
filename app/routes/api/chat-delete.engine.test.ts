import { randomUUID } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { TriggerChatTransport } from "@trigger.dev/sdk/chat";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { resolveGuest } from "~/lib/guest.server";
import { cookieFrom, routeArgs, settle } from "~/lib/test-support.server";
import type { LocalEngine } from "~/local-trigger/engine.server";
import { startTestEngine, waitFor } from "~/local-trigger/testing/harness";
import { NodeChat } from "~/local-trigger/testing/node-chat";
import { action as deleteAction } from "./chat-delete";
import { action as sessionAction } from "./chat-session";
import { action as tokenAction } from "./chat-token";
import { action as transcriptAction } from "./chat-transcript";
import { action as listAction } from "./chats";

/*
 * Deleting a chat through the app's routes in local mode, against a real
 * embedded engine running the app's own agent on the offline model: the
 * browser's token stops working at once, the chat's words leave the disk,
 * and the chat stays "not found" for everyone, its owner included.
 */

const engineHolder = vi.hoisted(() => ({ engine: undefined as Promise<LocalEngine> | undefined }));
vi.mock("~/lib/local-engine.server", () => ({
  LOCAL_TRIGGER_PATH: "/local-trigger",
  getLocalEngine: () => engineHolder.engine,
}));
vi.mock("~/lib/env.server", async (importOriginal) =>
  (await import("~/lib/test-support.server")).localEnvModule(importOriginal),
);

let engine: LocalEngine;
beforeAll(async () => {
  engineHolder.engine = startTestEngine({
    taskDirs: ["trigger"],
    workerEnv: { OFFLINE_MODEL_DELAY_MS: "0", GOOGLE_GENERATIVE_AI_API_KEY: "", CHAT_MODEL: "" },
  });
  engine = await engineHolder.engine;
});
afterAll(async () => {
  await engine?.close();
});

/** What one of the chat's routes gets when the browser POSTs to it with `cookie`. */
function chatRoute(chatId: string, route: string, cookie: string, body?: unknown) {
  const request = new Request(`http://localhost/api/chats/${chatId}/${route}`, {
    method: "POST",
    headers: { Cookie: cookie, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return routeArgs(request, { chatId }, `/api/chats/:chatId/${route}`);
}

async function answer<T = Record<string, unknown>>(pending: Promise<unknown>) {
  const response = await settle(pending);
  return { status: response.status, body: (await response.json()) as T };
}

const listChats = async (cookie: string) =>
  (
    await answer<{ chats: { id: string; title: string }[] }>(
      listAction(
        routeArgs(
          new Request("http://localhost/api/chats", { method: "POST", headers: { Cookie: cookie } }),
          {},
          "/api/chats",
        ),
      ),
    )
  ).body.chats;

async function guest() {
  const resolved = await resolveGuest(new Request("http://localhost/"));
  return cookieFrom(resolved.setCookie!);
}

function dataFilesMentioning(needle: string) {
  const dir = engine.dataDir;
  return fs
    .readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter(
      (name) =>
        fs.statSync(path.join(dir, name)).isFile() && fs.readFileSync(path.join(dir, name), "utf8").includes(needle),
    );
}

describe("deleting a chat in local mode", () => {
  it("cuts off the browser's token, erases the chat's words from the disk, and keeps the chat not found", async () => {
    const owner = await guest();
    const chatId = randomUUID();
    const phrase = `quokka-${randomUUID().slice(0, 8)}-lantern`;
    const transport = new TriggerChatTransport({
      task: "chat",
      baseURL: engine.apiURL,
      accessToken: async () =>
        (await answer<{ token: string }>(tokenAction(chatRoute(chatId, "token", owner)))).body.token,
      startSession: async () =>
        (
          await answer<{ publicAccessToken: string }>(
            sessionAction(chatRoute(chatId, "session", owner, { title: `About ${phrase}` })),
          )
        ).body,
    });
    const chat = new NodeChat({ id: chatId, transport });
    await chat.sendMessage({ text: `Tell me about ${phrase}` });
    expect(chat.status).toBe("ready");
    const transcript = () =>
      answer<{ messages: unknown[] }>(transcriptAction(chatRoute(chatId, "transcript", owner, {})));
    // The transcript is saved just after the answer streams.
    await waitFor(async () => (await transcript()).body.messages.length === 2);
    // The agent has titled the chat from the first question by the time its turn is over.
    expect(await listChats(owner)).toContainEqual(
      expect.objectContaining({ id: chatId, title: `Tell me about ${phrase}` }),
    );
    expect(dataFilesMentioning(phrase).length).toBeGreaterThan(0);
    const { body: minted } = await answer<{ token: string }>(tokenAction(chatRoute(chatId, "token", owner)));

    expect(await answer(deleteAction(chatRoute(chatId, "delete", owner)))).toEqual({
      status: 200,
      body: { deleted: chatId },
    });

    for (const route of [`/api/v1/sessions/${chatId}`, `/realtime/v1/sessions/${chatId}/out/records`]) {
      const read = await fetch(`${engine.apiURL}${route}`, { headers: { Authorization: `Bearer ${minted.token}` } });
      expect(await read.json(), route).toEqual({ error: `Session "${chatId}" not found` });
      expect(read.status, route).toBe(404);
    }
    expect(dataFilesMentioning(phrase)).toEqual([]);
    expect((await answer(tokenAction(chatRoute(chatId, "token", owner)))).status).toBe(404);
    expect((await answer(transcriptAction(chatRoute(chatId, "transcript", owner, {})))).status).toBe(404);
    expect((await answer(deleteAction(chatRoute(chatId, "delete", owner)))).status).toBe(404);
    // Neither its owner nor anyone else can start it again.
    expect(
      (await answer(sessionAction(chatRoute(chatId, "session", owner, { title: "Starting it again" })))).status,
    ).toBe(404);
    expect((await answer(sessionAction(chatRoute(chatId, "session", await guest(), {})))).status).toBe(404);
    expect((await listChats(owner)).map((listed) => listed.id)).not.toContain(chatId);
  });
});
