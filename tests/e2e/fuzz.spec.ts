import fc from "fast-check";
import { ENGINE, engineSecretKey, readRecords, startChat, storedSessionIds, GUEST_COOKIE } from "./api";
import { expect, needsLocalServer, test } from "./fixtures";

// Arbitrary requests against every app route and the engine's mount. Whatever arrives, the answer is a 2xx or a
// 4xx, never a 5xx or a hang; the server keeps answering; and a refused request stores nothing.

const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"] as const;
const OTHER_ORIGIN = "https://elsewhere.example";

/** What the fuzz knows: its own guest, chat and token, and the id of a chat that is someone else's. */
type Known = { cookie: string; token: string; chatId: string; friendlyId: string; foreignChatId: string };

type FuzzRequest = {
  method: (typeof METHODS)[number];
  path: string;
  origin: "app" | "absent" | "other" | "null";
  /** The Cookie header: none, the fuzzing guest's own, or a forged or malformed one. */
  cookie: string | undefined;
  /** The Authorization header: none, the fuzzing chat's own token, or a forged or malformed one. */
  authorization: string | undefined;
  contentType: string | undefined;
  headers: Record<string, string>;
  body: string | Buffer | undefined;
  /** The `Timeout-Seconds` header, which every request names (see timeoutSeconds). */
  timeout: string;
};

/**
 * How many requests of each rate-limited kind the fuzz lets through with the app's Origin. The server runs with
 * the default per-minute limits, and the per-address budgets are shared with the specs before and after this
 * one; past these counts a request goes out from another Origin instead, which the CSRF check refuses before
 * any budget is touched.
 */
const BUDGET = { newGuests: 3, sessionStarts: 8, tokenMints: 20, messages: 50 };

/** A path ending in one of the routes' last segments; React Router also serves every route at `<path>.data`. */
const endsWith = (tail: string) => new RegExp(`/${tail}(?:\\.data)?/?$`, "i");

/** The rate-limited action a request may count against, judged generously (any casing, any id) so that the real count stays below it. */
function budgetOf(request: FuzzRequest, pathname: string, known: Known): keyof typeof BUDGET | undefined {
  if (request.method !== "POST" || request.origin !== "app") return undefined;
  if (pathname.toLowerCase().startsWith(`${ENGINE}/`))
    return endsWith("in/append").test(pathname) ? "messages" : undefined;
  if (endsWith("session").test(pathname)) return request.cookie === known.cookie ? "sessionStarts" : "newGuests";
  if (endsWith("token").test(pathname)) return "tokenMints";
  return undefined;
}

// Ids: UUIDs in both cases, the chats the fuzz knows, unicode, dot segments, encoded slashes, bad escapes, very long.
const segment = (known: Known) =>
  fc.oneof(
    fc.uuid(),
    fc.uuid().map((id) => id.toUpperCase()),
    fc.constantFrom(known.chatId, known.chatId.toUpperCase(), known.friendlyId, known.foreignChatId),
    fc.string({ unit: "grapheme", maxLength: 40 }).map(encodeURIComponent),
    fc.string({ unit: "grapheme-ascii", minLength: 1, maxLength: 20 }).filter((text) => !/[/?#\\]/.test(text)),
    fc.constantFrom(
      "..",
      ".",
      "%2e%2e",
      "..%2f..%2fetc%2fpasswd",
      "a%2Fb",
      "%2F",
      "%5C",
      "%00",
      "%zz",
      "%",
      "%E0%A4%A",
      "session_",
      "session_abc123",
      "__proto__",
      "constructor",
      "%20",
      "*",
      "a;b=c",
      "ünï",
      "😀",
    ),
    fc.integer({ min: 200, max: 12_000 }).map((length) => "a".repeat(length)),
  );

const channelName = fc.oneof(
  fc.constantFrom("notes", "a", "x.y_z-1", "a:b", "-lead", "", "n".repeat(65), "ünï"),
  fc.string({ maxLength: 10 }).map(encodeURIComponent),
);

const query = fc
  .dictionary(
    fc.constantFrom(
      "_routes",
      "afterEventId",
      "limit",
      "before",
      "filter[tags]",
      "filter[status]",
      "filter[createdAt][from]",
      "page[size]",
      "page[after]",
      "method",
      "expires",
      "signature",
      "index",
    ),
    fc.oneof(
      fc.string({ maxLength: 30 }),
      fc.integer().map(String),
      fc.constantFrom("routes/chat", "-1", "1e309", "GET", "guest:x"),
    ),
    { maxKeys: 3 },
  )
  .map((params) => {
    const text = new URLSearchParams(params).toString();
    return text ? `?${text}` : "";
  });

function pathArbitrary(known: Known) {
  const id = segment(known);
  const stream = fc
    .tuple(
      id,
      fc.option(channelName, { nil: undefined }),
      fc.constantFrom("in", "out", "IN", "both"),
      fc.constantFrom("", "/append", "/records", "/append/x", "/", "/append.data", ".data"),
    )
    .map(
      ([key, channel, io, tail]) =>
        `${ENGINE}/realtime/v1/sessions/${key}/${channel === undefined ? "" : `channels/${channel}/`}${io}${tail}`,
    );
  const path = fc.oneof(
    {
      weight: 3,
      arbitrary: fc
        .tuple(
          id,
          fc.constantFrom(
            "session",
            "token",
            "transcript",
            "delete",
            "SESSION",
            "session/",
            "session.data",
            "delete.data",
            "token/extra",
          ),
        )
        .map(([key, action]) => `/api/chats/${key}/${action}`),
    },
    { weight: 2, arbitrary: id.map((key) => `/chat/${key}`) },
    { weight: 1, arbitrary: id.map((key) => `/chat/${key}.data`) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        "/",
        "/api/chats",
        "/api/chats/",
        "/_root.data",
        "/chat",
        "/chat/",
        "/API/CHATS",
        "/local-trigger",
        `${ENGINE}/`,
        "/favicon.svg",
      ),
    },
    {
      weight: 3,
      arbitrary: fc
        .tuple(id, fc.constantFrom("", "/close", "/end-and-continue", "/snapshot-url", "/transcript", "/other"))
        .map(([key, tail]) => `${ENGINE}/api/v1/sessions/${key}${tail}`),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        `${ENGINE}/api/v1/sessions`,
        `${ENGINE}/api/v1/auth/jwt/claims`,
        `${ENGINE}/api/v2/anything`,
      ),
    },
    { weight: 1, arbitrary: id.map((key) => `${ENGINE}/local/v1/objects/snapshots/${key}`) },
    { weight: 4, arbitrary: stream },
    {
      weight: 1,
      arbitrary: fc
        .array(id, { minLength: 1, maxLength: 5 })
        .chain((parts) => fc.constantFrom(`/${parts.join("/")}`, `${ENGINE}/${parts.join("/")}`)),
    },
  );
  // One leading slash: "//x/…" would name another host.
  return fc.tuple(path, query).map(([base, search]) => base.replace(/^\/+/, "/") + search);
}

/** JSON of random shapes, and near-valid versions of what each route reads, so that the fuzz also gets past the first checks. */
function jsonBodies(known: Known) {
  const anything = fc.jsonValue({ maxDepth: 4 });
  const part = fc.oneof(
    fc.record({ type: fc.constant("text"), text: fc.string({ maxLength: 50 }) }),
    fc.record(
      {
        type: fc.constantFrom(
          "text",
          "reasoning",
          "file",
          "source-url",
          "step-start",
          "data-x",
          "tool-search",
          "dynamic-tool",
          "",
          "TEXT",
        ),
        text: anything,
        state: fc.constantFrom("input-available", "output-available", "streaming", "bogus"),
        toolCallId: fc.oneof(fc.string({ maxLength: 10 }), anything),
        toolName: anything,
        url: fc.oneof(fc.webUrl(), fc.string()),
        mediaType: fc.string({ maxLength: 20 }),
      },
      { requiredKeys: ["type"] },
    ),
    anything,
  );
  const message = fc.record(
    {
      id: fc.oneof(fc.string({ maxLength: 20 }), anything),
      role: fc.oneof(fc.constantFrom("user", "assistant", "system", "tool"), anything),
      parts: fc.oneof(fc.array(part, { maxLength: 4 }), anything),
      metadata: anything,
    },
    { requiredKeys: [] },
  );
  const chatInput = fc.record(
    {
      kind: fc.oneof(fc.constantFrom("message", "stop", "action", "handover", "regenerate", ""), anything),
      payload: fc.oneof(
        fc.record(
          {
            message,
            messages: fc.oneof(fc.array(message, { maxLength: 3 }), anything),
            chatId: fc.oneof(fc.constant(known.chatId), anything),
            trigger: fc.constantFrom("submit-message", "regenerate-message", "preload", "x"),
            actionSource: anything,
          },
          { requiredKeys: [] },
        ),
        anything,
      ),
    },
    { requiredKeys: [] },
  );
  const appBody = fc.record(
    {
      title: fc.oneof(fc.string({ maxLength: 600 }), anything),
      before: fc.oneof(fc.string({ maxLength: 250 }), anything),
      limit: fc.oneof(fc.integer(), anything),
    },
    { requiredKeys: [] },
  );
  const sessionBody = fc.record(
    {
      type: fc.oneof(fc.constant("chat.agent"), anything),
      taskIdentifier: fc.oneof(fc.constant("chat"), anything),
      externalId: fc.oneof(fc.uuid(), fc.constant(known.foreignChatId), anything),
      triggerConfig: fc.oneof(fc.record({ basePayload: anything }), anything),
      tags: fc.oneof(fc.array(fc.string({ maxLength: 140 }), { maxLength: 12 }), anything),
      metadata: anything,
      reason: anything,
      callingRunId: anything,
      expiresAt: fc.oneof(
        fc.date({ noInvalidDate: true }).map((date) => date.toISOString()),
        anything,
      ),
    },
    { requiredKeys: [] },
  );
  // The right shape's wrong siblings at the top: a list, a string, null, a number.
  const wrongShape = fc.oneof(
    fc.array(anything, { maxLength: 3 }),
    fc.string({ maxLength: 20 }),
    fc.constant(null),
    fc.double(),
    fc.boolean(),
  );
  const json = (value: fc.Arbitrary<unknown>) =>
    fc.oneof({ weight: 2, arbitrary: value }, { weight: 1, arbitrary: wrongShape }).map((body) => JSON.stringify(body));
  return {
    chatInput: json(chatInput),
    appBody: json(appBody),
    any: json(fc.oneof(chatInput, appBody, sessionBody, anything)),
  };
}

function bodyArbitrary(json: fc.Arbitrary<string>) {
  return fc.oneof(
    { weight: 3, arbitrary: fc.constant(undefined) },
    { weight: 8, arbitrary: json },
    { weight: 1, arbitrary: fc.json({ maxDepth: 3 }) },
    // Deep nesting, well past the 64 levels the engine accepts, in arrays and objects, bare and inside a chat input.
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.integer({ min: 30, max: 100_000 }), fc.constantFrom("[]", "{}", "input"))
        .map(([depth, shape]) => {
          const nested =
            shape === "[]"
              ? `${"[".repeat(depth)}${"]".repeat(depth)}`
              : `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;
          return shape === "input" ? `{"kind":"message","payload":${nested}}` : nested;
        }),
    },
    // Huge strings, up to a few hundred KiB: past the app's 16 KiB, under the engine's 1 MiB per record.
    {
      weight: 1,
      arbitrary: fc
        .tuple(
          fc.integer({ min: 1_000, max: 400_000 }),
          fc.constantFrom("a", "é", "\\u0000", "😀", '\\"'),
          fc.constantFrom("title", "text", "raw"),
        )
        .map(([length, unit, shape]) => {
          const text = unit.repeat(Math.ceil(length / unit.length));
          if (shape === "title") return `{"title":"${text}"}`;
          if (shape === "text")
            return `{"kind":"message","payload":{"message":{"id":"m","role":"user","parts":[{"type":"text","text":"${text}"}]}}}`;
          return text;
        }),
    },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 4096 }).map((bytes) => Buffer.from(bytes)) },
    { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 200 }) },
  );
}

const JSON_TYPES = ["application/json", "application/json; charset=utf-8", "APPLICATION/JSON", "application/json;;;"];
const OTHER_TYPES = [
  "text/plain",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=x",
  "application/octet-stream",
];

/**
 * Every request names a long-poll window: a stream the fuzz may read, left to its 60 s default, would only
 * measure patience. The one valid value is 1 s, and rare, so that few requests wait it out.
 */
const timeoutSeconds = fc.oneof(
  { weight: 1, arbitrary: fc.constantFrom("1", " 1") },
  { weight: 6, arbitrary: fc.constantFrom("0", "-5", "abc", "601", "1e3", "1.5", "99999999999999999999", "+1") },
);

const headerArbitrary = (sites: string[]) =>
  fc.record(
    {
      "Last-Event-ID": fc.oneof(
        fc.nat().map(String),
        fc.string({ maxLength: 20 }),
        fc.constantFrom("-1", "1e3", "999999999999999999"),
      ),
      "X-Part-Id": fc.oneof(
        fc.string({ maxLength: 300 }).map((text) => text.replace(/[^\x20-\x7e]/g, "")),
        fc.constant("x".repeat(257)),
      ),
      "x-peek-settled": fc.constantFrom("1", "0", "yes"),
      Accept: fc.constantFrom("text/event-stream", "application/json", "*/*", "text/x-script"),
      "Sec-Fetch-Site": fc.constantFrom(...sites),
    },
    { requiredKeys: [] },
  );

/** Cookies that are not a guest's: random, malformed, truncated, or the fuzzing guest's with its signature or value changed. */
function forgedCookie(known: Known) {
  const value = known.cookie.slice(GUEST_COOKIE.length + 1);
  return fc.oneof(
    fc
      .uint8Array({ minLength: 1, maxLength: 64 })
      .map((bytes) => `${GUEST_COOKIE}=${Buffer.from(bytes).toString("base64url")}`),
    fc.constantFrom(
      `${GUEST_COOKIE}=%`,
      `${GUEST_COOKIE}=%E0%A4%A`,
      `${GUEST_COOKIE}=a.b`,
      `${GUEST_COOKIE}=....`,
      `${GUEST_COOKIE}=`,
      GUEST_COOKIE,
      "=",
      `${GUEST_COOKIE}=a; __Host-guest=b`,
      `${GUEST_COOKIE}=Ig%3D%3D.sig`,
      `${GUEST_COOKIE}=bnVsbA%3D%3D.x`,
      `${GUEST_COOKIE}=W10%3D.x`,
    ),
    fc.string({ maxLength: 100 }).map((text) => `${GUEST_COOKIE}=${encodeURIComponent(text)}`),
    fc
      .nat({ max: value.length - 1 })
      .map((at) => `${GUEST_COOKIE}=${value.slice(0, at)}${value[at] === "A" ? "B" : "A"}${value.slice(at + 1)}`),
    fc.nat({ max: value.length }).map((at) => `${GUEST_COOKIE}=${value.slice(0, at)}`),
    fc.integer({ min: 1_000, max: 6_000 }).map((length) => `${GUEST_COOKIE}=${"a".repeat(length)}; ${known.cookie}`),
  );
}

/** Authorization headers that are not the fuzzing chat's token: garbage, the wrong scheme, JWT-shaped, or the token changed. */
function forgedAuthorization(known: Known) {
  return fc.oneof(
    fc.constantFrom(
      "Bearer garbage",
      "Bearer a.b.c",
      "Basic Zm9vOmJhcg==",
      "Bearer",
      "Bearer ",
      "bearer  x",
      `Bearer ${known.token} extra`,
      `Token ${known.token}`,
    ),
    fc.string({ maxLength: 60 }).map((text) => `Bearer ${text.replace(/[^\x20-\x7e]/g, "")}`),
    fc
      .array(fc.base64String({ maxLength: 40 }), { minLength: 3, maxLength: 3 })
      .map((parts) => `Bearer ${parts.join(".")}`),
    fc
      .nat({ max: known.token.length - 1 })
      .map(
        (at) => `Bearer ${known.token.slice(0, at)}${known.token[at] === "A" ? "B" : "A"}${known.token.slice(at + 1)}`,
      ),
    fc.integer({ min: 1_000, max: 8_000 }).map((length) => `Bearer ${"e".repeat(length)}`),
  );
}

type Overrides = { [K in keyof FuzzRequest]?: fc.Arbitrary<FuzzRequest[K]> };

function requestArbitrary(known: Known, overrides: Overrides = {}): fc.Arbitrary<FuzzRequest> {
  return fc.record({
    method: fc.constantFrom(...METHODS),
    path: pathArbitrary(known),
    origin: fc.constantFrom("app", "app", "absent", "other", "null"),
    cookie: fc.oneof(fc.constant(undefined), fc.constant(known.cookie), fc.constant(known.cookie), forgedCookie(known)),
    authorization: fc.oneof(
      fc.constant(undefined),
      fc.constant(`Bearer ${known.token}`),
      fc.constant(`Bearer ${known.token}`),
      forgedAuthorization(known),
    ),
    contentType: fc.constantFrom(undefined, ...JSON_TYPES, ...JSON_TYPES, ...OTHER_TYPES),
    headers: headerArbitrary(["same-origin", "cross-site", "none", "same-site"]),
    body: bodyArbitrary(jsonBodies(known).any),
    timeout: timeoutSeconds,
    ...overrides,
  } as { [K in keyof FuzzRequest]: fc.Arbitrary<FuzzRequest[K]> });
}

test.describe("fuzzing the app's routes and the engine's mount", () => {
  needsLocalServer("reads the sessions stored in the data folder, and calls the engine's mount");
  test("any request gets a 2xx or a 4xx, the server stays up, and refused requests store nothing", async ({
    playwright,
    baseURL,
  }) => {
    test.setTimeout(120_000);
    const origin = new URL(baseURL!).origin;
    const newContext = () => playwright.request.newContext({ baseURL });
    const owner = await newContext();
    const setup = await newContext();

    // A chat of someone else's that the fuzz may name but not own, and the fuzzing guest's own chat.
    const foreign = await startChat(owner, origin, { title: "Someone else's chat" });
    const fuzzChat = await startChat(setup, origin, { title: "The fuzzing guest's chat" });
    const retrieved = await setup.get(`${ENGINE}/api/v1/sessions/${fuzzChat.chatId}`, {
      headers: { Authorization: `Bearer ${fuzzChat.token}` },
    });
    const known: Known = {
      cookie: fuzzChat.cookie,
      token: fuzzChat.token,
      chatId: fuzzChat.chatId,
      friendlyId: ((await retrieved.json()) as { id: string }).id,
      foreignChatId: foreign.chatId,
    };
    const foreignBefore = await owner.get(`${ENGINE}/api/v1/sessions/${foreign.chatId}`, {
      headers: { Authorization: `Bearer ${foreign.token}` },
    });
    const { tags: foreignTags, metadata: foreignMetadata } = (await foreignBefore.json()) as {
      tags: string[];
      metadata: unknown;
    };
    const sessionsBefore = new Set(storedSessionIds());

    const spent = { newGuests: 0, sessionStarts: 0, tokenMints: 0, messages: 0 };
    const started = new Set<string>();
    const startedByFuzzGuest = new Set<string>();
    const deletedByFuzzGuest = new Set<string>();
    const serverErrors: string[] = [];
    let tried = 0;

    const send = async (request: FuzzRequest) => {
      const url = new URL(request.path, baseURL);
      const budget = budgetOf(request, url.pathname, known);
      let originHeader = { app: origin, other: OTHER_ORIGIN, null: "null", absent: undefined }[request.origin];
      if (budget) {
        if (spent[budget] >= BUDGET[budget]) originHeader = OTHER_ORIGIN;
        else spent[budget]++;
      }
      const headers: Record<string, string> = {
        ...request.headers,
        "Timeout-Seconds": request.timeout,
        ...(originHeader === undefined ? {} : { Origin: originHeader }),
        ...(request.contentType === undefined ? {} : { "Content-Type": request.contentType }),
        ...(request.cookie === undefined ? {} : { Cookie: request.cookie }),
        ...(request.authorization === undefined ? {} : { Authorization: request.authorization }),
      };
      const hasBody = request.body !== undefined && request.method !== "GET" && request.method !== "HEAD";
      // A fresh context each time: a session start without a cookie sets one, which must not ride along on the next request.
      const context = await newContext();
      try {
        const response = await context.fetch(request.path, {
          method: request.method,
          headers,
          // Always bytes: Playwright re-encodes a string typed as JSON that is not JSON. (A body it sends with no type gets application/octet-stream.)
          data: hasBody ? Buffer.from(request.body!) : undefined,
          maxRedirects: 0,
          timeout: 10_000,
        });
        const status = response.status();
        tried++;
        if (status >= 500)
          serverErrors.push(
            `${request.method} ${request.path.slice(0, 200)} → ${status} ${(await response.text()).slice(0, 200)}`,
          );
        if (status >= 200 && status < 300 && request.method === "POST") {
          // Read from the text, which is JSON, or React Router's encoding of it for a `.data` request.
          const text = await response.text();
          const token = text.match(/eyJ[\w-]+\.([\w-]+)\.[\w-]+/);
          if (endsWith("session").test(url.pathname) && token) {
            // The chat a start opened is the one its token is scoped to.
            const { scopes } = JSON.parse(Buffer.from(token[1]!, "base64url").toString()) as { scopes: string[] };
            const chatId = scopes[0]!.split(":")[2]!;
            started.add(chatId);
            if (request.cookie === known.cookie) startedByFuzzGuest.add(chatId);
          }
          const deleted = text.match(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/);
          if (endsWith("delete").test(url.pathname) && deleted && request.cookie === known.cookie)
            deletedByFuzzGuest.add(deleted[0]);
        }
        return status < 500;
      } finally {
        await context.dispose();
      }
    };

    const bodies = jsonBodies(known);
    const batches: { name: string; requests: fc.Arbitrary<FuzzRequest>; numRuns: number }[] = [
      { name: "every route, any credentials", requests: requestArbitrary(known), numRuns: 1_000 },
      {
        // With the chat's own token and the app's Origin: past authentication and CSRF, into body and header parsing.
        name: "the fuzzing chat's streams",
        requests: fc
          .tuple(
            requestArbitrary(known, {
              origin: fc.constant("app"),
              cookie: fc.constant(undefined),
              authorization: fc.constant(`Bearer ${known.token}`),
              contentType: fc.constantFrom(...JSON_TYPES, "application/json", "application/json", "text/plain"),
              headers: headerArbitrary(["same-origin"]),
              body: fc.oneof(
                { weight: 3, arbitrary: bodies.chatInput },
                { weight: 1, arbitrary: bodyArbitrary(bodies.any) },
              ),
            }),
            fc.constantFrom(known.chatId, known.friendlyId),
            fc.constantFrom("in", "in", "out", "channels/notes/in", "channels/a:b/in", "channels/notes/out"),
            // Mostly the method each stream route takes, sometimes any.
            fc.oneof(
              {
                weight: 4,
                arbitrary: fc.constantFrom(
                  ["POST", "/append"],
                  ["POST", "/append"],
                  ["POST", "/append"],
                  ["GET", "/records"],
                  ["GET", ""],
                  ["HEAD", ""],
                  ["PUT", ""],
                ),
              },
              {
                weight: 1,
                arbitrary: fc.tuple(fc.constantFrom(...METHODS), fc.constantFrom("", "/append", "/records")),
              },
            ),
          )
          .map(([request, key, stream, [method, tail]]) => ({
            ...request,
            method: method as FuzzRequest["method"],
            path: `${ENGINE}/realtime/v1/sessions/${key}/${stream}${tail}`,
          })),
        numRuns: 500,
      },
      {
        // As the fuzzing guest from the app's own pages: past the cookie and CSRF checks, into the routes' own parsing.
        name: "the app's routes, as the fuzzing guest",
        requests: requestArbitrary(known, {
          path: fc.oneof(
            {
              weight: 4,
              arbitrary: fc
                .tuple(
                  fc.oneof(
                    { weight: 2, arbitrary: fc.oneof(fc.uuid(), fc.constant(known.chatId)) },
                    { weight: 1, arbitrary: segment(known) },
                  ),
                  fc.constantFrom("session", "token", "transcript", "delete"),
                )
                .map(([key, action]) => `/api/chats/${key}/${action}`),
            },
            { weight: 1, arbitrary: fc.constantFrom("/api/chats", "/") },
            { weight: 1, arbitrary: segment(known).map((key) => `/chat/${key}.data`) },
          ),
          method: fc.constantFrom("POST", "POST", "POST", "GET"),
          origin: fc.constant("app"),
          cookie: fc.constant(known.cookie),
          contentType: fc.constantFrom(undefined, ...JSON_TYPES, "application/json", "text/plain"),
          headers: headerArbitrary(["same-origin"]),
          body: fc.oneof({ weight: 3, arbitrary: bodies.appBody }, { weight: 1, arbitrary: bodyArbitrary(bodies.any) }),
        }),
        numRuns: 500,
      },
    ];
    for (const batch of batches) {
      // Each run is a real request; a hang would make every shrinking step wait it out, so the first failure is reported as found.
      await fc.assert(fc.asyncProperty(batch.requests, send), { numRuns: batch.numRuns, endOnFailure: true });
      const health = await setup.get("/", { maxRedirects: 0 });
      expect(health.status(), `GET / after the batch "${batch.name}"`).toBeLessThan(400);
    }

    console.log(`fuzz: ${tried} inputs tried, ${serverErrors.length} server errors`);
    expect(serverErrors).toEqual([]);

    // Nothing was stored but what a successful start asked for.
    const newSessions = storedSessionIds().filter((id) => !sessionsBefore.has(id));
    expect(
      newSessions.filter((id) => !started.has(id)),
      "sessions stored without a successful start",
    ).toEqual([]);
    // A chat started without a title is a draft (the page starts one while the first message is typed), which
    // the list leaves out until a message names it.
    const drafts = new Set<string>();
    for (const chatId of startedByFuzzGuest) {
      const stored = await owner.get(`${ENGINE}/api/v1/sessions/${chatId}`, {
        headers: { Authorization: `Bearer ${engineSecretKey()}` },
      });
      const { metadata } = (await stored.json()) as { metadata?: { draft?: boolean } | null };
      if (metadata?.draft === true) drafts.add(chatId);
    }
    const list = await setup.post("/api/chats", { headers: { Origin: origin, Cookie: known.cookie } });
    const listed = ((await list.json()) as { chats: { id: string }[] }).chats.map(({ id }) => id);
    expect(new Set(listed)).toEqual(
      new Set([known.chatId, ...startedByFuzzGuest].filter((id) => !deletedByFuzzGuest.has(id) && !drafts.has(id))),
    );

    // The chat the fuzz could only name is as it was.
    const foreignAfter = await owner.get(`${ENGINE}/api/v1/sessions/${foreign.chatId}`, {
      headers: { Authorization: `Bearer ${foreign.token}` },
    });
    expect(foreignAfter.status()).toBe(200);
    expect(await foreignAfter.json()).toMatchObject({ tags: foreignTags, metadata: foreignMetadata, closedAt: null });
    // Only the secret key reads a chat's `.in`, as on Trigger.dev.
    expect(await readRecords(owner, { chatId: foreign.chatId, token: engineSecretKey() }, "in")).toEqual([]);
    await Promise.all([owner.dispose(), setup.dispose()]);
  });
});
