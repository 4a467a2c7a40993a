import { createHmac, randomBytes, randomUUID } from "node:crypto";
import type { APIRequestContext, Page } from "@playwright/test";
import {
  ENGINE,
  ENVIRONMENT_ID,
  engineSecretKey,
  guestIdOf,
  readRecords,
  sendMessage,
  sessionScopes,
  signEngineToken,
  startChat,
  waitForTurns,
  GUEST_COOKIE,
} from "./api";
import { ChatPage, expect, needsLocalServer, test } from "./fixtures";

// Every attempt on another guest's chat, through the app's routes and the engine's mount, with every kind of
// credential an attacker could hold. Allowed means a 2xx with the victim's data, or any trace of the victim's
// secrets in the answer, or (checked at the end) any change to the victim's chat.

/** Written into everything the attacker sends, so a trace of it anywhere in the victim's chat is found. */
const ATTACKER_MARK = "attacker-was-here";
const EVIL_ORIGIN = "https://evil.example";
/** A side channel, as `chat.agent` tools use them; the victim has none, so it must stay empty. */
const CHANNEL = "notes";

type Attempt = {
  /** The endpoint, as in "POST /api/chats/:id/token". */
  target: string;
  credential: string;
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
  /** Whether an answer lets the attempt through; any 2xx does unless said otherwise. */
  getsThrough?: (status: number, body: string) => boolean;
};

type Outcome = { attempt: Attempt; status: number; body: string; allowed: boolean };

const is2xx = (status: number) => status >= 200 && status < 300;

const tally = { attempts: 0, allowed: 0 };
test.afterAll(() => {
  if (tally.attempts > 0) console.log(`authz: ${tally.attempts} attempts, ${tally.allowed} allowed`);
});

/** Sends each attempt from a fresh request context, so no cookie a refusal sets rides along on the next one. */
async function run(
  newContext: () => Promise<APIRequestContext>,
  attempts: Attempt[],
  secrets: string[],
): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  for (const attempt of attempts) {
    const context = await newContext();
    try {
      const response = await context.fetch(attempt.path, {
        method: attempt.method,
        headers: attempt.headers,
        data: attempt.body,
        maxRedirects: 0,
        timeout: 15_000,
      });
      const body = await response.text();
      const status = response.status();
      const leaked = secrets.some((secret) => body.includes(secret));
      outcomes.push({ attempt, status, body, allowed: leaked || (attempt.getsThrough ?? is2xx)(status, body) });
    } finally {
      await context.dispose();
    }
  }
  return outcomes;
}

/** Runs attempts that count towards the printed total. */
async function attack(
  newContext: () => Promise<APIRequestContext>,
  attempts: Attempt[],
  secrets: string[],
): Promise<Outcome[]> {
  const outcomes = await run(newContext, attempts, secrets);
  tally.attempts += outcomes.length;
  tally.allowed += outcomes.filter((outcome) => outcome.allowed).length;
  return outcomes;
}

const explain = ({ attempt, status, body }: Outcome) =>
  `${attempt.target} [${attempt.credential}] ${attempt.method} ${attempt.path} → ${status} ${body.slice(0, 120)}`;

/** A JWT with any header and claims, HS256-signed with `secret` or unsigned (`alg: none`). */
function handMadeJwt(header: Record<string, unknown>, payload: Record<string, unknown>, secret?: string) {
  const encode = (part: unknown) => Buffer.from(JSON.stringify(part)).toString("base64url");
  const signingInput = `${encode(header)}.${encode(payload)}`;
  return `${signingInput}.${secret ? createHmac("sha256", secret).update(signingInput).digest("base64url") : ""}`;
}

/** What an engine endpoint asks of a caller who may legitimately use it. */
type Needs = "read" | "write" | "admin" | "secret key";
type EngineEndpoint = {
  target: string;
  method: string;
  path: string;
  body?: unknown;
  headers?: Record<string, string>;
  needs: Needs;
};

/** Every route of the engine's tables (app/local-trigger/api/*.server.ts) that names a session, for one way of naming it. */
function sessionEndpoints(key: string, victimChatId: string, attackerGuestId: string): EngineEndpoint[] {
  const session = `${ENGINE}/api/v1/sessions/${encodeURIComponent(key)}`;
  const endpoints: EngineEndpoint[] = [
    { target: "retrieve session", method: "GET", path: session, needs: "read" },
    {
      target: "update session",
      method: "PATCH",
      path: session,
      body: { metadata: { title: ATTACKER_MARK }, tags: [`guest:${attackerGuestId}`] },
      needs: "secret key",
    },
    // The 4.8.3 reference's scope table: `write:sessions:<id>` closes, ends-and-continues and updates metadata.
    {
      target: "close session",
      method: "POST",
      path: `${session}/close`,
      body: { reason: ATTACKER_MARK },
      needs: "write",
    },
    {
      target: "end-and-continue",
      method: "POST",
      path: `${session}/end-and-continue`,
      body: { callingRunId: "run_attacker", reason: ATTACKER_MARK },
      needs: "write",
    },
    { target: "snapshot URL (read)", method: "GET", path: `${session}/snapshot-url`, needs: "secret key" },
    { target: "snapshot URL (write)", method: "PUT", path: `${session}/snapshot-url`, needs: "secret key" },
    { target: "transcript", method: "GET", path: `${session}/transcript`, needs: "secret key" },
  ];
  const message = {
    kind: "message",
    payload: {
      message: { id: randomUUID(), role: "user", parts: [{ type: "text", text: ATTACKER_MARK }] },
      chatId: victimChatId,
      trigger: "submit-message",
    },
  };
  for (const stream of ["in", "out", `channels/${CHANNEL}/in`, `channels/${CHANNEL}/out`]) {
    const base = `${ENGINE}/realtime/v1/sessions/${encodeURIComponent(key)}/${stream}`;
    const isOut = stream.endsWith("out");
    // No token reads the chat's own `.in`: the reference keeps it for the secret key.
    const read: Needs = stream === "in" ? "secret key" : "read";
    endpoints.push(
      {
        target: `${stream} append`,
        method: "POST",
        path: `${base}/append`,
        body: stream === "in" ? message : { note: ATTACKER_MARK },
        needs: isOut ? "secret key" : "write",
      },
      { target: `${stream} records`, method: "GET", path: `${base}/records`, needs: read },
      // A short long-poll window, so that a stream wrongly opened ends instead of holding the matrix up.
      { target: `${stream} subscribe`, method: "GET", path: base, headers: { "Timeout-Seconds": "1" }, needs: read },
      { target: `${stream} peek`, method: "HEAD", path: base, needs: read },
      { target: `${stream} initialize`, method: "PUT", path: base, body: {}, needs: isOut ? "secret key" : "write" },
    );
  }
  return endpoints;
}

/** The routes that name no session: they are the secret key's alone. */
function environmentEndpoints(victimChatId: string, victimGuestId: string, attackerGuestId: string): EngineEndpoint[] {
  return [
    {
      target: "create session (take over the victim's id)",
      method: "POST",
      path: `${ENGINE}/api/v1/sessions`,
      body: {
        type: "chat.agent",
        taskIdentifier: "chat",
        externalId: victimChatId,
        tags: [`guest:${attackerGuestId}`],
        metadata: { title: ATTACKER_MARK },
        triggerConfig: { basePayload: { chatId: victimChatId, messages: [], trigger: "preload" } },
      },
      needs: "secret key",
    },
    {
      target: "list sessions",
      method: "GET",
      path: `${ENGINE}/api/v1/sessions?filter[tags]=${encodeURIComponent(`guest:${victimGuestId}`)}`,
      needs: "secret key",
    },
    { target: "JWT claims", method: "POST", path: `${ENGINE}/api/v1/auth/jwt/claims`, body: {}, needs: "secret key" },
  ];
}

function engineAttempt(
  endpoint: EngineEndpoint,
  credential: string,
  authorization: string | undefined,
  origin: string,
): Attempt {
  const hasBody = endpoint.body !== undefined;
  return {
    target: `${endpoint.method} ${endpoint.target}`,
    credential,
    method: endpoint.method,
    path: endpoint.path,
    body: hasBody ? JSON.stringify(endpoint.body) : undefined,
    headers: {
      // The app's own Origin: the mount's CSRF check passes, so what is tested is the engine's own authorization.
      ...(endpoint.method === "GET" || endpoint.method === "HEAD" ? {} : { Origin: origin }),
      ...(hasBody ? { "Content-Type": "application/json" } : {}),
      ...(authorization ? { Authorization: authorization } : {}),
      ...endpoint.headers,
    },
  };
}

/** The victim's chat as its owner sees it, through every view the app and the engine give them. */
async function chatState(request: APIRequestContext, origin: string, chat: { chatId: string; token: string }) {
  const retrieved = await request.get(`${ENGINE}/api/v1/sessions/${chat.chatId}`, {
    headers: { Authorization: `Bearer ${chat.token}` },
  });
  expect(retrieved.status()).toBe(200);
  const { id, externalId, type, taskIdentifier, tags, metadata, closedAt, closedReason, expiresAt, createdAt } =
    await retrieved.json();
  const transcript = await request.post(`/api/chats/${chat.chatId}/transcript`, {
    headers: { Origin: origin },
    data: {},
  });
  expect(transcript.status()).toBe(200);
  const list = await request.post("/api/chats", { headers: { Origin: origin } });
  expect(list.status()).toBe(200);
  return {
    session: { id, externalId, type, taskIdentifier, tags, metadata, closedAt, closedReason, expiresAt, createdAt },
    in: await readRecords(request, { chatId: chat.chatId, token: engineSecretKey() }, "in"),
    out: await readRecords(request, chat, "out"),
    channelIn: await readRecords(request, chat, `channels/${CHANNEL}/in`),
    channelOut: await readRecords(request, chat, `channels/${CHANNEL}/out`),
    transcript: await transcript.json(),
    list: await list.json(),
  };
}

/** The token the agent hands out on `.out` with each turn-complete: a credential every reader of the chat sees. */
async function agentToken(request: APIRequestContext, chat: { chatId: string; token: string }) {
  const records = await readRecords(request, chat);
  const token = records.flatMap((record) => record.headers).find(([name]) => name === "public-access-token")?.[1];
  expect(token, "the agent's token on .out").toBeDefined();
  return token!;
}

/** Asserts the attempts are real: each reached an engine route (no 404 or 405 from the router) and none was turned away by a rate limit. */
function expectAllReachedTheirRoutes(outcomes: Outcome[]) {
  const unrouted = outcomes.filter(({ status, body }) => status === 405 || body.includes("No route for"));
  expect(unrouted.map(explain), "attempts that missed their route").toEqual([]);
  expect(
    outcomes.filter(({ status }) => status === 429 || status >= 500).map(explain),
    "rate-limited or failed attempts",
  ).toEqual([]);
}

/** A guest with a chat that has had a turn, and every credential they hold for it. */
type Party = {
  chatId: string;
  cookie: string;
  guestId: string;
  token: string;
  startToken: string;
  agentToken: string;
  friendlyId: string;
};

async function friendlyIdOf(request: APIRequestContext, chat: { chatId: string; token: string }) {
  const response = await request.get(`${ENGINE}/api/v1/sessions/${chat.chatId}`, {
    headers: { Authorization: `Bearer ${chat.token}` },
  });
  expect(response.status()).toBe(200);
  return ((await response.json()) as { id: string }).id;
}

async function mintToken(request: APIRequestContext, origin: string, chat: { chatId: string; cookie: string }) {
  const response = await request.post(`/api/chats/${chat.chatId}/token`, {
    headers: { Origin: origin, Cookie: chat.cookie },
  });
  expect(response.status()).toBe(200);
  return ((await response.json()) as { token: string }).token;
}

/** A guest who chats through the real page. */
async function chatThroughThePage(page: Page, origin: string, text: string): Promise<Party> {
  const chatPage = new ChatPage(page);
  await chatPage.open();
  await chatPage.send(text);
  await chatPage.expectComplete();
  const cookie = (await page.context().cookies()).find(({ name }) => name === GUEST_COOKIE);
  expect(cookie, "the page's guest cookie").toBeDefined();
  const chat = { chatId: chatPage.chatId(), cookie: `${GUEST_COOKIE}=${cookie!.value}` };
  const token = await mintToken(page.request, origin, chat);
  return {
    ...chat,
    guestId: guestIdOf(chat.cookie),
    token,
    // The page never shows its start token; the one its loader minted is as good.
    startToken: token,
    agentToken: await agentToken(page.request, { ...chat, token }),
    friendlyId: await friendlyIdOf(page.request, { ...chat, token }),
  };
}

/** A guest who chats as the transport does: the session route, then an append to `.in`. */
async function chatThroughTheTransport(request: APIRequestContext, origin: string, text: string): Promise<Party> {
  const started = await startChat(request, origin, { title: text });
  await sendMessage(request, origin, started, text);
  await waitForTurns(request, started, 1);
  return {
    chatId: started.chatId,
    cookie: started.cookie,
    guestId: guestIdOf(started.cookie),
    token: await mintToken(request, origin, started),
    startToken: started.token,
    agentToken: await agentToken(request, started),
    friendlyId: await friendlyIdOf(request, started),
  };
}

/** Every app route on the victim's chat, with every cookie but the victim's, and the victim's own from other sites. */
function appAttempts(origin: string, victim: Party, attacker: Party): Attempt[] {
  const signed = decodeURIComponent(victim.cookie.slice(GUEST_COOKIE.length + 1));
  const badSignature = `${signed.slice(0, signed.lastIndexOf(".") + 1)}${randomBytes(32).toString("base64").replace(/=+$/, "")}`;
  const cookieKinds: { credential: string; headers: Record<string, string> }[] = [
    { credential: "no cookie", headers: {} },
    {
      credential: "forged cookie (random value)",
      headers: { Cookie: `${GUEST_COOKIE}=${randomBytes(32).toString("base64url")}` },
    },
    {
      credential: "victim's guest id, bad signature",
      headers: { Cookie: `${GUEST_COOKIE}=${encodeURIComponent(badSignature)}` },
    },
    {
      credential: "victim's guest id, unsigned",
      headers: {
        Cookie: `${GUEST_COOKIE}=${encodeURIComponent(Buffer.from(JSON.stringify(victim.guestId)).toString("base64"))}`,
      },
    },
    { credential: "other guest's valid cookie", headers: { Cookie: attacker.cookie } },
  ];
  // Only state-changing requests are guarded against other sites; the same-origin policy keeps them from reading a GET's answer.
  const postKinds: { credential: string; headers: Record<string, string> }[] = [
    ...cookieKinds.map((kind) => ({ ...kind, headers: { ...kind.headers, Origin: origin } })),
    { credential: "victim's cookie, from another site", headers: { Cookie: victim.cookie, Origin: EVIL_ORIGIN } },
    { credential: "victim's cookie, no Origin", headers: { Cookie: victim.cookie } },
    { credential: "victim's cookie, Origin null", headers: { Cookie: victim.cookie, Origin: "null" } },
    {
      credential: "victim's cookie, Sec-Fetch-Site cross-site",
      headers: { Cookie: victim.cookie, Origin: origin, "Sec-Fetch-Site": "cross-site" },
    },
  ];
  // An id in capitals is redirected to the lowercase address, which reveals nothing the caller did not send.
  const isCanonicalRedirect = (body: string) =>
    body.includes("SingleFetchRedirect") && body.includes(`/chat/${victim.chatId}`);

  const attempts: Attempt[] = [];
  for (const id of [victim.chatId, victim.chatId.toUpperCase()]) {
    const pages = [
      { target: "GET /chat/:id", path: `/chat/${id}` },
      { target: "GET /chat/:id.data", path: `/chat/${id}.data` },
      { target: "GET /chat/:id.data (chat route only)", path: `/chat/${id}.data?_routes=routes/chat` },
    ];
    const actions: { target: string; path: string; body?: string }[] = [
      {
        target: "POST /api/chats/:id/session",
        path: `/api/chats/${id}/session`,
        body: JSON.stringify({ title: ATTACKER_MARK }),
      },
      { target: "POST /api/chats/:id/token", path: `/api/chats/${id}/token` },
      {
        target: "POST /api/chats/:id/transcript",
        path: `/api/chats/${id}/transcript`,
        body: JSON.stringify({ limit: 100 }),
      },
      { target: "POST /api/chats/:id/delete", path: `/api/chats/${id}/delete` },
      { target: "POST /chat/:id", path: `/chat/${id}` },
    ];
    // React Router also runs each action at `<path>.data`. Both, and a start in capitals, only once: a refused start without a
    // valid cookie still mints a guest, and an address may mint 30 a minute, shared with the specs around this one.
    if (id === victim.chatId)
      actions.push(
        ...actions.map((action) => ({ ...action, target: `${action.target}.data`, path: `${action.path}.data` })),
      );
    else
      actions.splice(
        actions.findIndex((action) => action.target.endsWith("/session")),
        1,
      );

    for (const kind of cookieKinds) {
      for (const { target, path } of pages) {
        attempts.push({
          target,
          credential: kind.credential,
          method: "GET",
          path,
          headers: kind.headers,
          getsThrough: (status, body) => is2xx(status) && !isCanonicalRedirect(body),
        });
      }
      for (const { target, path } of actions.filter((action) => action.path.startsWith("/api/"))) {
        attempts.push({
          target: target.replace("POST", "GET"),
          credential: kind.credential,
          method: "GET",
          path,
          headers: kind.headers,
        });
      }
    }
    for (const kind of postKinds) {
      for (const { target, path, body } of actions) {
        const headers = { ...kind.headers, ...(body ? { "Content-Type": "application/json" } : {}) };
        attempts.push({ target, credential: kind.credential, method: "POST", path, body, headers });
      }
    }
  }
  for (const kind of postKinds) {
    // The list answers everyone; what it must never hold is the victim's chat.
    attempts.push({
      target: "POST /api/chats",
      credential: kind.credential,
      method: "POST",
      path: "/api/chats",
      headers: kind.headers,
      getsThrough: (_, body) => body.includes(victim.chatId),
    });
  }
  return attempts;
}

type TokenKind = { credential: string; authorization?: string; appliesTo?: (needs: Needs) => boolean };

/** Every bearer credential but one for the victim's chat, and the victim's own tokens where they grant too little. */
async function tokenKinds(victim: Party, attacker: Party): Promise<TokenKind[]> {
  const now = Math.floor(Date.now() / 1000);
  const claims = { sub: ENVIRONMENT_ID, pub: true, scopes: sessionScopes(victim.chatId) };
  const registered = { iss: "https://id.trigger.dev", aud: "https://api.trigger.dev", iat: now, exp: now + 3600 };
  const signed = async (payload: Record<string, unknown>, options?: Parameters<typeof signEngineToken>[1]) =>
    `Bearer ${await signEngineToken(payload, options)}`;
  return [
    { credential: "no token" },
    { credential: "garbage token", authorization: "Bearer garbage" },
    { credential: "malformed JWT", authorization: "Bearer a.b.c" },
    {
      credential: "not a bearer token",
      authorization: `Basic ${Buffer.from(`${victim.chatId}:${victim.token}`).toString("base64")}`,
    },
    {
      credential: "unsigned JWT (alg none) for the victim's chat",
      authorization: `Bearer ${handMadeJwt({ alg: "none" }, { ...claims, ...registered })}`,
    },
    {
      credential: "JWT for the victim's chat signed with another key",
      authorization: await signed(claims, { secretKey: `tr_dev_${randomBytes(24).toString("hex")}` }),
    },
    { credential: "other guest's valid session token", authorization: `Bearer ${attacker.token}` },
    { credential: "other guest's session-start token", authorization: `Bearer ${attacker.startToken}` },
    { credential: "other guest's agent token (from its .out)", authorization: `Bearer ${attacker.agentToken}` },
    { credential: "expired token for the victim's chat", authorization: await signed(claims, { expiresAt: now - 60 }) },
    { credential: "token for another environment", authorization: await signed({ ...claims, sub: "env_other" }) },
    { credential: "non-public token", authorization: await signed({ ...claims, pub: false }) },
    {
      credential: "wrong issuer",
      authorization: `Bearer ${handMadeJwt({ alg: "HS256" }, { ...claims, ...registered, iss: "https://evil.example" }, engineSecretKey())}`,
    },
    {
      credential: "wrong audience",
      authorization: `Bearer ${handMadeJwt({ alg: "HS256" }, { ...claims, ...registered, aud: "https://evil.example" }, engineSecretKey())}`,
    },
    {
      credential: "wrong scopes: other resource types",
      authorization: await signed({
        ...claims,
        scopes: [
          `read:runs:${victim.chatId}`,
          `write:runs:${victim.chatId}`,
          `write:inputStreams:${victim.chatId}`,
          "read:tasks:chat",
        ],
      }),
    },
    {
      credential: "wrong scopes: ids that almost match",
      authorization: await signed({
        ...claims,
        scopes: [
          "read",
          "write",
          "sessions",
          `read:sessions:${victim.chatId.toUpperCase()}`,
          `write:sessions:${victim.chatId.slice(0, -1)}`,
          `read:sessions:${victim.chatId}x`,
          `read:sessions:${victim.chatId}:in`,
          "write:sessions:*",
          `READ:sessions:${victim.chatId}`,
          `read:sessions:${attacker.friendlyId}`,
        ],
      }),
    },
    {
      credential: "wrong scopes: a string, not a list",
      authorization: await signed({ ...claims, scopes: `read:sessions:${victim.chatId}` }),
    },
    // Tokens for the victim's chat used past what they grant: what a leaked token must still not do.
    {
      credential: "read-only token for the victim's chat",
      authorization: await signed({ ...claims, scopes: [`read:sessions:${victim.chatId}`] }),
      appliesTo: (needs) => needs !== "read",
    },
    {
      credential: "write-only token for the victim's chat",
      authorization: await signed({ ...claims, scopes: [`write:sessions:${victim.chatId}`] }),
      appliesTo: (needs) => needs !== "write",
    },
    {
      credential: "the victim's own session token",
      authorization: `Bearer ${victim.token}`,
      appliesTo: (needs) => needs === "admin" || needs === "secret key",
    },
    {
      credential: "the victim's agent token",
      authorization: `Bearer ${victim.agentToken}`,
      appliesTo: (needs) => needs === "admin" || needs === "secret key",
    },
  ];
}

/** Presigned snapshot URLs carry their own credential: a signature with a key derived from the secret key (api/snapshots.server.ts). */
function snapshotObjects(origin: string, victim: Party, attacker: Party) {
  const objectKey = createHmac("sha256", engineSecretKey()).update("local-trigger object urls").digest();
  const sign = (method: string, id: string, expires: number) =>
    createHmac("sha256", objectKey).update(`${method}\n${id}\n${expires}`).digest("base64url");
  const url = (method: string, expires: number, signature?: string) =>
    `${ENGINE}/local/v1/objects/snapshots/${victim.friendlyId}?method=${method}&expires=${expires}${signature === undefined ? "" : `&signature=${encodeURIComponent(signature)}`}`;
  const later = Date.now() + 10 * 60_000;
  const earlier = Date.now() - 1_000;
  const attempts: Attempt[] = ["GET", "PUT"].flatMap((method) => {
    const other = method === "GET" ? "PUT" : "GET";
    return [
      { credential: "no signature", path: url(method, later) },
      { credential: "garbage signature", path: url(method, later, randomBytes(32).toString("base64url")) },
      { credential: "expired signature", path: url(method, earlier, sign(method, victim.friendlyId, earlier)) },
      { credential: `signature for ${other}`, path: url(method, later, sign(other, victim.friendlyId, later)) },
      {
        credential: `signature for ${other}, method=${other}`,
        path: url(other, later, sign(other, victim.friendlyId, later)),
      },
      {
        credential: "signature for the other guest's snapshot",
        path: url(method, later, sign(method, attacker.friendlyId, later)),
      },
      {
        credential: "signature with another expiry",
        path: url(method, later + 1, sign(method, victim.friendlyId, later)),
      },
      {
        credential: "victim's session token instead of a signature",
        path: url(method, later),
        headers: { Authorization: `Bearer ${victim.token}` },
      },
    ].map(({ credential, path, headers }) => ({
      target: `${method} snapshot object`,
      credential,
      method,
      path,
      ...(method === "PUT" ? { body: JSON.stringify({ note: ATTACKER_MARK }) } : {}),
      headers: { ...headers, ...(method === "PUT" ? { Origin: origin, "Content-Type": "application/json" } : {}) },
    }));
  });
  const control: Attempt = {
    target: "GET snapshot object",
    credential: "control: a valid signature",
    method: "GET",
    path: url("GET", later, sign("GET", victim.friendlyId, later)),
  };
  return { attempts, control };
}

/** The owner's own requests on the same endpoints, and the secret key's: they must work, or the refusals prove nothing. */
function controls(origin: string, victim: Party, attacker: Party): Attempt[] {
  return [
    ...sessionEndpoints(victim.chatId, victim.chatId, attacker.guestId)
      .filter((endpoint) => endpoint.needs === "read")
      .map((endpoint) => engineAttempt(endpoint, "control: victim's token", `Bearer ${victim.token}`, origin)),
    ...[
      ...sessionEndpoints(victim.friendlyId, victim.chatId, attacker.guestId),
      ...environmentEndpoints(victim.chatId, victim.guestId, attacker.guestId),
    ]
      .filter((endpoint) => endpoint.method === "GET" && endpoint.needs === "secret key")
      .map((endpoint) => engineAttempt(endpoint, "control: secret key", `Bearer ${engineSecretKey()}`, origin)),
    snapshotObjects(origin, victim, attacker).control,
    {
      target: "GET /chat/:id",
      credential: "control: victim's cookie",
      method: "GET",
      path: `/chat/${victim.chatId}`,
      headers: { Cookie: victim.cookie },
    },
    ...["token", "transcript"].map((name) => ({
      target: `POST /api/chats/:id/${name}`,
      credential: "control: victim's cookie",
      method: "POST",
      path: `/api/chats/${victim.chatId}/${name}`,
      headers: { Cookie: victim.cookie, Origin: origin },
    })),
  ];
}

test.describe("authorization matrix: another guest's chat", () => {
  needsLocalServer("signs tokens with the engine's secret key from the data folder, and calls the engine's mount");
  test("no credential but the owner's reads or changes a chat, through the app's routes or the engine's", async ({
    page,
    playwright,
    baseURL,
  }) => {
    test.setTimeout(120_000);
    const origin = new URL(baseURL!).origin;
    const newContext = () => playwright.request.newContext({ baseURL });
    const secret = `victim-secret-${randomUUID()}`;

    const victim = await chatThroughThePage(page, origin, secret);
    const attackerRequest = await newContext();
    const attacker = await chatThroughTheTransport(attackerRequest, origin, "The attacker's own chat");

    const before = await chatState(page.request, origin, victim);
    expect(before.session.tags).toEqual([`guest:${victim.guestId}`]);
    expect(JSON.stringify(before.transcript)).toContain(secret);
    const secrets = [secret, victim.guestId, victim.token, victim.agentToken];

    const controlOutcomes = await run(newContext, controls(origin, victim, attacker), []);
    expect(
      controlOutcomes.filter(({ status }) => !is2xx(status)).map(explain),
      "controls the owner could not use",
    ).toEqual([]);

    // The engine reads no cookie, so none is sent to it.
    const engineEndpoints = [
      ...sessionEndpoints(victim.chatId, victim.chatId, attacker.guestId),
      ...sessionEndpoints(victim.friendlyId, victim.chatId, attacker.guestId),
      ...environmentEndpoints(victim.chatId, victim.guestId, attacker.guestId),
    ];
    const engineAttempts = (await tokenKinds(victim, attacker)).flatMap((kind) =>
      engineEndpoints
        .filter((endpoint) => kind.appliesTo?.(endpoint.needs) ?? true)
        .map((endpoint) => engineAttempt(endpoint, kind.credential, kind.authorization, origin)),
    );
    const appOutcomes = await attack(newContext, appAttempts(origin, victim, attacker), secrets);
    const engineOutcomes = await attack(
      newContext,
      [...engineAttempts, ...snapshotObjects(origin, victim, attacker).attempts],
      secrets,
    );

    expect(
      [...appOutcomes, ...engineOutcomes].filter(({ allowed }) => allowed).map(explain),
      "attempts let through",
    ).toEqual([]);
    expectAllReachedTheirRoutes(engineOutcomes);
    expect(
      appOutcomes.filter(({ status }) => status === 429 || status >= 500).map(explain),
      "rate-limited or failed attempts",
    ).toEqual([]);

    // Nothing the attempts sent reached the victim's chat: its session, streams, transcript and title are as they were.
    const after = await chatState(page.request, origin, victim);
    expect(after).toEqual(before);
    expect(JSON.stringify(after)).not.toContain(ATTACKER_MARK);

    // And the victim still chats as before.
    const victimPage = new ChatPage(page);
    await page.reload();
    await expect(victimPage.userMessages).toHaveText([secret]);
    await victimPage.send("Still mine?");
    await expect(victimPage.answers).toHaveCount(2);
    await victimPage.expectComplete();
    await attackerRequest.dispose();
  });

  test("tokens after delete: a token minted before a chat was deleted reads nothing of it", async ({
    playwright,
    baseURL,
  }) => {
    const origin = new URL(baseURL!).origin;
    const newContext = () => playwright.request.newContext({ baseURL });
    const request = await newContext();
    const secret = `deleted-secret-${randomUUID()}`;

    const deleted = await chatThroughTheTransport(request, origin, secret);
    const kept = await startChat(request, origin, { cookie: deleted.cookie, title: "The chat that stays" });
    const deletion = await request.post(`/api/chats/${deleted.chatId}/delete`, {
      headers: { Origin: origin, Cookie: deleted.cookie },
    });
    expect(deletion.status()).toBe(200);

    const tokens = [
      { credential: "token minted before the delete", token: deleted.token },
      { credential: "session-start token from before the delete", token: deleted.startToken },
      { credential: "agent token from before the delete", token: deleted.agentToken },
    ];
    const endpoints = [
      ...sessionEndpoints(deleted.chatId, deleted.chatId, deleted.guestId),
      ...sessionEndpoints(deleted.friendlyId, deleted.chatId, deleted.guestId),
    ].filter((endpoint) => endpoint.needs === "read" || endpoint.needs === "write");
    const attempts = tokens.flatMap(({ credential, token }) =>
      endpoints.map((endpoint) => engineAttempt(endpoint, credential, `Bearer ${token}`, origin)),
    );
    const outcomes = await attack(newContext, attempts, [secret, ...tokens.map(({ token }) => token)]);

    expect(outcomes.filter(({ allowed }) => allowed).map(explain), "attempts let through").toEqual([]);
    expectAllReachedTheirRoutes(outcomes);
    // The guest's other chat still answers its token: what is refused is the deleted chat, not the guest.
    expect(await readRecords(request, kept, "out")).toEqual([]);
    await request.dispose();
  });
});
