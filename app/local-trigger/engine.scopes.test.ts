import { generateJWT } from "@trigger.dev/core/v3/jwt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ENVIRONMENT_ID } from "./api/context.server";
import type { LocalEngine } from "./engine.server";
import { startChatSession, startTestEngine, uniqueChatId } from "./testing/harness";

/*
 * Every (scope, route) pair against the 4.8.3 reference: the scope table in
 * `ai-chat/reference.mdx` ("Session token scopes"), the channel scopes in
 * `ai-chat/side-channels.mdx` ("Auth"), and the wildcards of §3.4 in the
 * protocol notes. Each request is built to fail validation right after the
 * scope check (a bad body, header or query), so an allowed pair answers 400
 * (or 200/202 where there is nothing to validate) and nothing changes but
 * one tag the secret key sets; a refused one answers 403.
 */

let engine: LocalEngine;
let chatId: string;
let friendlyId: string;

beforeAll(async () => {
  engine = await startTestEngine({ warmWorkers: 1 });
  chatId = uniqueChatId("scopes");
  friendlyId = (await startChatSession({ chatId })).sessionId;
});

afterAll(async () => {
  await engine?.close();
});

type Route = { method: string; path: (key: string) => string; body?: string; headers?: Record<string, string> };

const stream = (part: string) => (key: string) => `/realtime/v1/sessions/${key}/${part}`;
const badWait = { "Timeout-Seconds": "0" };

const ROUTES = {
  retrieve: { method: "GET", path: (key) => `/api/v1/sessions/${key}` },
  close: { method: "POST", path: (key) => `/api/v1/sessions/${key}/close`, body: '{"reason":5}' },
  endAndContinue: { method: "POST", path: (key) => `/api/v1/sessions/${key}/end-and-continue`, body: "{}" },
  updateMetadata: { method: "PATCH", path: (key) => `/api/v1/sessions/${key}`, body: '{"metadata":5}' },
  updateTags: { method: "PATCH", path: (key) => `/api/v1/sessions/${key}`, body: '{"tags":["scopes-test"]}' },
  outSubscribe: { method: "GET", path: stream("out"), headers: badWait },
  outHead: { method: "HEAD", path: stream("out") },
  outRecords: { method: "GET", path: (key) => `${stream("out")(key)}/records?afterEventId=x` },
  outAppend: { method: "POST", path: stream("out/append"), body: "" },
  outInitialize: { method: "PUT", path: stream("out") },
  inSubscribe: { method: "GET", path: stream("in"), headers: badWait },
  inRecords: { method: "GET", path: (key) => `${stream("in")(key)}/records?afterEventId=x` },
  inAppend: { method: "POST", path: stream("in/append"), body: "" },
  inInitialize: { method: "PUT", path: stream("in") },
  channelOutSubscribe: { method: "GET", path: stream("channels/frames/out"), headers: badWait },
  channelOutRecords: { method: "GET", path: (key) => `${stream("channels/frames/out")(key)}/records?afterEventId=x` },
  channelInSubscribe: { method: "GET", path: stream("channels/frames/in"), headers: badWait },
  channelInAppend: { method: "POST", path: stream("channels/frames/in/append"), body: "" },
  channelOutAppend: { method: "POST", path: stream("channels/frames/out/append"), body: "" },
  otherChannelOutSubscribe: { method: "GET", path: stream("channels/other/out"), headers: badWait },
  otherChannelInAppend: { method: "POST", path: stream("channels/other/in/append"), body: "" },
} satisfies Record<string, Route>;

type RouteName = keyof typeof ROUTES;
const ALL = Object.keys(ROUTES) as RouteName[];
const SECRET_KEY_ONLY: RouteName[] = [
  "updateTags",
  "outAppend",
  "outInitialize",
  "inSubscribe",
  "inRecords",
  "channelOutAppend",
];
const READ_WHOLE: RouteName[] = [
  "retrieve",
  "outSubscribe",
  "outHead",
  "outRecords",
  "channelOutSubscribe",
  "channelOutRecords",
];
const READ_ANY_CHANNEL: RouteName[] = [...READ_WHOLE, "channelInSubscribe", "otherChannelOutSubscribe"];
const WRITE_WHOLE: RouteName[] = [
  "close",
  "endAndContinue",
  "updateMetadata",
  "inAppend",
  "inInitialize",
  "channelInAppend",
  "otherChannelInAppend",
];
const inRouteOrder = (routes: RouteName[]) => ALL.filter((route) => routes.includes(route));
const TOKEN_MAX = ALL.filter((route) => !SECRET_KEY_ONLY.includes(route));

/** Which routes each scope (`<id>` stands for the chat id) may use; every other route must answer 403. */
const TABLE: [scope: string, allowed: RouteName[]][] = [
  ["read:sessions:<id>", READ_ANY_CHANNEL],
  ["read:sessions:<id>:out", ["outSubscribe", "outHead", "outRecords"]],
  ["read:sessions:<id>:channels:frames", ["channelOutSubscribe", "channelOutRecords", "channelInSubscribe"]],
  ["read:sessions:<id>:channels:frames:out", ["channelOutSubscribe", "channelOutRecords"]],
  ["read:sessions:<id>:channels:frames:in", ["channelInSubscribe"]],
  ["write:sessions:<id>", WRITE_WHOLE],
  ["write:sessions:<id>:channels:frames", ["channelInAppend"]],
  ["write:sessions:<id>:out", []],
  ["admin:sessions:<id>", TOKEN_MAX],
  ["admin:sessions", TOKEN_MAX],
  ["admin", TOKEN_MAX],
  ["read:sessions", READ_ANY_CHANNEL],
  ["read:all", READ_ANY_CHANNEL],
  ["write:sessions", WRITE_WHOLE],
  ["write:all", WRITE_WHOLE],
  ["read:sessions:someone-else", []],
  ["write:sessions:someone-else", []],
  ["read:sessions:someone-else:out", []],
  ["read:runs:<id>", []],
  ["write:inputStreams:<id>", []],
];

const tokenFor = (scopes: string[]) =>
  generateJWT({
    secretKey: engine.secretKey,
    payload: { sub: ENVIRONMENT_ID, pub: true, scopes },
    expirationTime: "1h",
  });

async function statusOf(route: Route, key: string, token: string) {
  const response = await fetch(`${engine.apiURL}${route.path(encodeURIComponent(key))}`, {
    method: route.method,
    body: route.body,
    headers: {
      Authorization: `Bearer ${token}`,
      ...(route.body !== undefined ? { "Content-Type": "application/json" } : {}),
      ...route.headers,
    },
  });
  await response.body?.cancel();
  return response.status;
}

/** The routes a token with these scopes may use, addressed by `key`: those that do not answer 403. */
async function allowedRoutes(scopes: string[], key: string) {
  const token = scopes[0] === "<secret key>" ? engine.secretKey : await tokenFor(scopes);
  const allowed: RouteName[] = [];
  for (const name of ALL) {
    const status = await statusOf(ROUTES[name], key, token);
    expect([200, 202, 400, 403], `${scopes.join(" ")} → ${name} answered ${status}`).toContain(status);
    if (status !== 403) allowed.push(name);
  }
  return allowed;
}

describe("session scopes", () => {
  it.each(TABLE)("%s grants exactly what the reference says", async (scope, expected) => {
    expect(await allowedRoutes([scope.replaceAll("<id>", chatId)], chatId)).toEqual(inRouteOrder(expected));
  });

  it("grants the same on the friendly-id URL form, and to scopes naming either id", async () => {
    expect(await allowedRoutes([`read:sessions:${chatId}`], friendlyId)).toEqual(inRouteOrder(READ_ANY_CHANNEL));
    expect(await allowedRoutes([`write:sessions:${friendlyId}`], chatId)).toEqual(inRouteOrder(WRITE_WHOLE));
    expect(await allowedRoutes([`read:sessions:${friendlyId}:out`], chatId)).toEqual([
      "outSubscribe",
      "outHead",
      "outRecords",
    ]);
  });

  it("lets the session token the app mints do what the reference's two scopes do together", async () => {
    const expected = inRouteOrder([...READ_ANY_CHANNEL, ...WRITE_WHOLE]);
    expect(await allowedRoutes([`read:sessions:${chatId}`, `write:sessions:${chatId}`], chatId)).toEqual(expected);
  });

  it("lets the secret key use every route", async () => {
    expect(await allowedRoutes(["<secret key>"], chatId)).toEqual(ALL);
  });
});
