import { randomUUID } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { type APIRequestContext, type APIResponse, expect } from "@playwright/test";
import { generateJWT } from "@trigger.dev/core/v3/jwt";

/** The guest cookie's name in production (the e2e server runs the production build): host-only, for Path=/. */
export const GUEST_COOKIE = "__Host-guest";

/** Where the app mounts the embedded engine. */
export const ENGINE = "/local-trigger";
/** The environment the embedded engine's tokens name in `sub` (app/local-trigger/api/context.server.ts). */
export const ENVIRONMENT_ID = "env_local";

/** The server's data folder: the config creates it and hands it to the server and, through the environment, to every worker. */
export function dataDir(): string {
  const dir = process.env.E2E_DATA_DIR;
  if (!dir) throw new Error("E2E_DATA_DIR is not set: run the specs through tests/playwright.config.ts");
  return dir;
}

/** The engine's secret key, which it generates into its data folder on first start (storage/secrets.server.ts). */
export const engineSecretKey = () => fs.readFileSync(path.join(dataDir(), "secret-key"), "utf8").trim();

/** External ids of every session the engine has saved, read from its data folder. */
export function storedSessionIds(): string[] {
  const sessionsDir = path.join(dataDir(), "sessions");
  return fs.readdirSync(sessionsDir).flatMap((name) => {
    try {
      const row = JSON.parse(fs.readFileSync(path.join(sessionsDir, name, "session.json"), "utf8")) as {
        externalId: string | null;
      };
      return [row.externalId ?? name];
    } catch {
      return [name];
    }
  });
}

/**
 * A public token signed the way the engine signs and verifies them (HS256 with
 * its secret key, through the same `generateJWT`): for credentials the app
 * never hands out, such as expired ones or ones with other scopes.
 */
export function signEngineToken(
  payload: Record<string, unknown>,
  options: { expiresAt?: string | number; secretKey?: string } = {},
) {
  return generateJWT({
    secretKey: options.secretKey ?? engineSecretKey(),
    payload,
    expirationTime: options.expiresAt ?? "1h",
  });
}

export const sessionScopes = (chatId: string) => [`read:sessions:${chatId}`, `write:sessions:${chatId}`];

/** The guest cookie pair from a response's Set-Cookie, if it set one. */
export function guestCookieFrom(response: APIResponse): string | undefined {
  const header = response
    .headersArray()
    .find(({ name, value }) => name.toLowerCase() === "set-cookie" && value.startsWith(`${GUEST_COOKIE}=`));
  return header?.value.split(";")[0];
}

/** The guest id a guest cookie carries: react-router's signed cookie is base64 JSON, a dot, and the signature. */
export function guestIdOf(cookie: string): string {
  const value = decodeURIComponent(cookie.slice(GUEST_COOKIE.length + 1));
  return JSON.parse(Buffer.from(value.slice(0, value.lastIndexOf(".")), "base64").toString("utf8")) as string;
}

export type StartedChat = { chatId: string; cookie: string; token: string };

/**
 * Starts a chat as the page does: the session route with the app's Origin.
 * Without a cookie, this is also how a visitor becomes a guest.
 */
export async function startChat(
  request: APIRequestContext,
  origin: string,
  options: { cookie?: string; chatId?: string; title?: string } = {},
): Promise<StartedChat> {
  const chatId = options.chatId ?? randomUUID();
  const response = await request.post(`/api/chats/${chatId}/session`, {
    headers: { Origin: origin, ...(options.cookie ? { Cookie: options.cookie } : {}) },
    data: options.title === undefined ? {} : { title: options.title },
  });
  expect(response.status(), await response.text()).toBe(200);
  const cookie = options.cookie ?? guestCookieFrom(response);
  expect(cookie, "a new guest cookie: without options.cookie, start from a context that holds none").toBeDefined();
  const { publicAccessToken } = (await response.json()) as { publicAccessToken: string };
  return { chatId, cookie: cookie!, token: publicAccessToken };
}

/** Sends a user message the way `TriggerChatTransport` does: an append to the chat's `.in` on the engine mount. */
export async function sendMessage(
  request: APIRequestContext,
  origin: string,
  chat: { chatId: string; token: string },
  text: string,
) {
  const response = await request.post(`${ENGINE}/realtime/v1/sessions/${encodeURIComponent(chat.chatId)}/in/append`, {
    headers: { Origin: origin, Authorization: `Bearer ${chat.token}`, "X-Part-Id": randomUUID() },
    data: {
      kind: "message",
      payload: {
        message: { id: randomUUID(), role: "user", parts: [{ type: "text", text }] },
        chatId: chat.chatId,
        trigger: "submit-message",
      },
    },
  });
  expect(response.status(), await response.text()).toBe(200);
}

export type StreamRecord = { data: unknown; id: string; seqNum: number; headers: [string, string][] };

/** Every record of one of a chat's streams, read with a token that may. */
export async function readRecords(
  request: APIRequestContext,
  chat: { chatId: string; token: string },
  stream = "out",
): Promise<StreamRecord[]> {
  const response = await request.get(
    `${ENGINE}/realtime/v1/sessions/${encodeURIComponent(chat.chatId)}/${stream}/records`,
    {
      headers: { Authorization: `Bearer ${chat.token}` },
    },
  );
  expect(response.status(), await response.text()).toBe(200);
  return ((await response.json()) as { records: StreamRecord[] }).records;
}

const isTurnComplete = (record: StreamRecord) =>
  record.headers.some(([name, value]) => name === "trigger-control" && value === "turn-complete");

/** Waits until the agent has completed `turns` turns of the chat. */
export async function waitForTurns(request: APIRequestContext, chat: { chatId: string; token: string }, turns: number) {
  await expect
    .poll(async () => (await readRecords(request, chat)).filter(isTurnComplete).length, {
      timeout: 30_000,
      intervals: [200],
    })
    .toBeGreaterThanOrEqual(turns);
}
