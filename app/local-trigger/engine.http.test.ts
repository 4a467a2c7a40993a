import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LocalEngine } from "./engine.server";
import {
  mintChatToken,
  sleep,
  startChatSession,
  startTestEngine,
  uniqueChatId,
  useEngine,
  waitFor,
} from "./testing/harness";

/*
 * Every endpoint against bad input over raw HTTP: each gets a clear 4xx
 * (never a 5xx), and nothing is stored.
 */

const KiB = 1024;
const MiB = 1024 * KiB;

let engine: LocalEngine;
let chatId: string;
const logLines: string[] = [];

beforeAll(async () => {
  engine = await startTestEngine({
    warmWorkers: 1,
    log: (line) => logLines.push(line),
    inputQuotas: { chat: { records: 50, bytes: 16 * MiB }, channel: { records: 10_000, bytes: 4 * MiB } },
  });
  chatId = uniqueChatId("http");
  await startChatSession({ chatId });
});

afterAll(async () => {
  await engine?.close();
});

type Call = { method?: string; token?: string | null; body?: string; headers?: Record<string, string> };

async function call(path: string, { method = "GET", token, body, headers = {} }: Call = {}) {
  const response = await fetch(`${engine.apiURL}${path}`, {
    method,
    body,
    headers: {
      ...(token === null ? {} : { Authorization: `Bearer ${token ?? engine.secretKey}` }),
      ...(body !== undefined ? { "Content-Type": "application/json" } : {}),
      ...headers,
    },
  });
  const text = await response.text();
  expect(response.status, `${method} ${path} answered ${response.status}: ${text}`).toBeLessThan(500);
  let parsed: { error?: string } | undefined;
  try {
    parsed = JSON.parse(text) as { error?: string };
  } catch {
    parsed = undefined;
  }
  return { status: response.status, text, json: parsed, headers: response.headers };
}

const sessionCount = () => engine.stats().sessions;
const outTail = async (id: string) => {
  const { json } = await call(`/realtime/v1/sessions/${id}/in/records`);
  return (json as unknown as { records: unknown[] }).records.length;
};

const validCreate = (overrides: Record<string, unknown> = {}) =>
  JSON.stringify({
    type: "chat.agent",
    externalId: uniqueChatId("new"),
    taskIdentifier: "echo",
    triggerConfig: { basePayload: {} },
    ...overrides,
  });

describe("POST /api/v1/sessions", () => {
  it("rejects bad input with a clear 4xx and stores nothing", async () => {
    useEngine(engine);
    const before = sessionCount();
    const cases: [Call, number, RegExp][] = [
      [{ method: "POST", body: validCreate(), token: null }, 401, /API key/],
      [{ method: "POST", body: validCreate(), token: "tr_dev_wrong" }, 401, /API key/],
      [{ method: "POST", body: "{not json" }, 400, /not valid JSON/],
      [{ method: "POST", body: "" }, 400, /empty/],
      [{ method: "POST", body: JSON.stringify({ type: "chat.agent" }) }, 400, /taskIdentifier/],
      [{ method: "POST", body: validCreate({ externalId: "session_abc" }) }, 400, /externalId/],
      [{ method: "POST", body: validCreate({ externalId: "" }) }, 400, /externalId/],
      [{ method: "POST", body: validCreate({ tags: Array.from({ length: 11 }, (_, i) => `t${i}`) }) }, 400, /tags/],
      [{ method: "POST", body: validCreate({ taskIdentifier: "no-such-task" }) }, 422, /not defined.*echo/],
      [
        {
          method: "POST",
          body: validCreate({ metadata: "DEEP" }).replace('"DEEP"', `${'{"a":'.repeat(5000)}1${"}".repeat(5000)}`),
        },
        400,
        /nested more than 64 levels/,
      ],
      [{ method: "POST", body: `{"type":"chat.agent","pad":"${"x".repeat(1024 * 1024)}"}` }, 413, /larger than/],
    ];
    for (const [request, status, message] of cases) {
      const response = await call("/api/v1/sessions", request);
      expect(response.status, response.text).toBe(status);
      expect(response.json?.error).toMatch(message);
    }
    const otherChatToken = await mintChatToken("someone-else");
    expect(
      (await call("/api/v1/sessions", { method: "POST", body: validCreate(), token: otherChatToken })).status,
    ).toBe(403);
    expect(sessionCount()).toBe(before);
    // Nothing half-made is left behind to break listing for everyone.
    expect((await call("/api/v1/sessions")).status).toBe(200);
  });
});

describe("session routes", () => {
  it("answers 404 for unknown sessions, 405 for wrong methods, 400 for malformed ids", async () => {
    expect((await call("/api/v1/sessions/no-such-chat")).status).toBe(404);
    expect((await call("/api/v1/sessions/no-such-chat/close", { method: "POST", body: "{}" })).status).toBe(404);
    expect((await call("/api/v1/sessions/no-such-chat/transcript")).status).toBe(404);
    expect((await call("/api/v1/sessions/no-such-chat/snapshot-url")).status).toBe(404);
    expect((await call("/api/v1/sessions", { method: "DELETE" })).status).toBe(405);
    expect((await call("/api/v1/sessions/%E0%A4%A")).status).toBe(400);
    expect((await call("/api/v1/nothing-here")).status).toBe(404);
  });

  it("validates close, update and end-and-continue bodies", async () => {
    expect((await call(`/api/v1/sessions/${chatId}/close`, { method: "POST", body: "[1," })).status).toBe(400);
    expect(
      (
        await call(`/api/v1/sessions/${chatId}/close`, {
          method: "POST",
          body: JSON.stringify({ reason: "x".repeat(300) }),
        })
      ).status,
    ).toBe(400);
    expect(
      (await call(`/api/v1/sessions/${chatId}`, { method: "PATCH", body: JSON.stringify({ tags: "not-a-list" }) }))
        .status,
    ).toBe(400);
    expect(
      (await call(`/api/v1/sessions/${chatId}/end-and-continue`, { method: "POST", body: JSON.stringify({}) })).status,
    ).toBe(400);
    const session = await call(`/api/v1/sessions/${chatId}`);
    expect(session.json).toMatchObject({ closedAt: null, closedReason: null, tags: [] });
  });

  it("hands a session to a fresh run on end-and-continue, unless another run already took over", async () => {
    const id = uniqueChatId("upgrade");
    const { runId: first } = await startChatSession({ chatId: id });
    const handOff = await call(`/api/v1/sessions/${id}/end-and-continue`, {
      method: "POST",
      body: JSON.stringify({ callingRunId: first, reason: "upgrade" }),
    });
    expect(handOff.status).toBe(200);
    const { runId: second, swapped } = handOff.json as unknown as { runId: string; swapped: boolean };
    expect(swapped).toBe(true);
    expect(second).not.toBe(first);
    expect((await call(`/api/v1/sessions/${id}`)).json).toMatchObject({ currentRunId: second });
    // A stale caller does not displace the live run.
    const stale = await call(`/api/v1/sessions/${id}/end-and-continue`, {
      method: "POST",
      body: JSON.stringify({ callingRunId: first, reason: "upgrade" }),
    });
    expect(stale.json).toEqual({ runId: second, swapped: false });
  });

  it("keeps secret-key routes away from public tokens", async () => {
    const token = await mintChatToken(chatId);
    expect((await call(`/api/v1/sessions/${chatId}/snapshot-url`, { token })).status).toBe(403);
    expect((await call(`/api/v1/sessions/${chatId}/transcript`, { token })).status).toBe(403);
    expect((await call("/api/v1/sessions", { token })).status).toBe(403);
    expect((await call("/api/v1/auth/jwt/claims", { method: "POST", token })).status).toBe(401);
    expect(
      (await call(`/realtime/v1/sessions/${chatId}/out/append`, { method: "POST", body: "{}", token })).status,
    ).toBe(403);
    // A public token may read its own session.
    expect((await call(`/api/v1/sessions/${chatId}`, { token })).status).toBe(200);
  });

  it("validates list and transcript query parameters", async () => {
    expect((await call("/api/v1/sessions?page[size]=0")).status).toBe(400);
    expect((await call("/api/v1/sessions?page[size]=abc")).status).toBe(400);
    expect((await call("/api/v1/sessions?page[after]=session_nope")).status).toBe(400);
    expect((await call(`/api/v1/sessions/${chatId}/transcript?limit=0`)).status).toBe(400);
    expect((await call(`/api/v1/sessions/${chatId}/transcript?limit=ten`)).status).toBe(400);
    expect((await call(`/api/v1/sessions/${chatId}/transcript`)).json).toEqual({ messages: [] });
  });

  it("refuses object URLs with a bad or reused signature", async () => {
    const { json } = await call(`/api/v1/sessions/${chatId}/snapshot-url`, { method: "PUT" });
    const presigned = new URL((json as unknown as { presignedUrl: string }).presignedUrl);
    const path = `${presigned.pathname}${presigned.search}`;
    const tampered = path.replace(/signature=[^&]+/, "signature=AAAA");
    expect((await call(tampered, { method: "PUT", body: "x", token: null })).status).toBe(403);
    // A PUT URL does not grant GET.
    expect((await call(path.replace("method=PUT", "method=GET"), { token: null })).status).toBe(403);
    expect((await call(`/api/v1/sessions/${chatId}/transcript`)).json).toEqual({ messages: [] });
  });
});

describe("realtime streams", () => {
  it("rejects bad appends with a clear 4xx and appends nothing", async () => {
    const token = await mintChatToken(chatId);
    const before = await outTail(chatId);
    const append = (body: string, headers: Record<string, string> = {}) =>
      call(`/realtime/v1/sessions/${chatId}/in/append`, { method: "POST", body, token, headers });
    expect((await append("{broken")).status).toBe(400);
    expect((await append("")).status).toBe(400);
    expect((await append(JSON.stringify({ payload: {} }))).json?.error).toMatch(/kind/);
    expect((await append("42")).status).toBe(400);
    expect(
      (await append(`{"kind":"message","payload":${'{"a":'.repeat(3000)}1${"}".repeat(3000)}}`)).json?.error,
    ).toMatch(/nested more than 64 levels/);
    const sideChannel = (body: string) =>
      call(`/realtime/v1/sessions/${chatId}/channels/notes/in/append`, { method: "POST", body, token });
    expect((await sideChannel(`${"[".repeat(500_000)}${"]".repeat(500_000)}`)).json?.error).toMatch(
      /nested more than 64 levels/,
    );
    expect((await sideChannel("[[[not json")).status).toBe(200);
    const message = (value: unknown) =>
      JSON.stringify({ kind: "message", payload: { chatId, trigger: "submit-message", message: value } });
    const malformed: [string, RegExp][] = [
      [JSON.stringify({ kind: "message", payload: "text" }), /payload must be an object/],
      [message({ id: "m1", role: "user" }), /payload\.message\.parts must be a list/],
      [
        message({ id: "m1", role: "user", parts: [null] }),
        /payload\.message\.parts\[0\] must be an object with a string "type"/,
      ],
      [message({ role: "user", parts: [] }), /payload\.message\.id/],
      [message({ id: "m1", role: "robot", parts: [] }), /payload\.message\.role/],
      [
        JSON.stringify({ kind: "message", payload: { messages: [{ id: "m1", role: "user", parts: {} }] } }),
        /payload\.messages\[0\]\.parts must be a list/,
      ],
      [message({ id: "m1", role: "user", parts: [{ type: "text" }] }), /parts\[0\] is not a valid "text" part/],
      [
        message({ id: "m1", role: "assistant", parts: [{ type: "text", text: 5 }] }),
        /parts\[0\] is not a valid "text" part/,
      ],
      [
        message({ id: "m1", role: "assistant", parts: [{ type: "file", mediaType: "image/png" }] }),
        /parts\[0\] is not a valid "file" part/,
      ],
      [
        message({ id: "m1", role: "assistant", parts: [{ type: "tool-calc", state: "output-available" }] }),
        /parts\[0\] is not a valid "tool-calc" part/,
      ],
      [
        message({
          id: "m1",
          role: "assistant",
          parts: [{ type: "dynamic-tool", toolCallId: "c1", state: "output-available" }],
        }),
        /"dynamic-tool" part/,
      ],
      [
        message({ id: "m1", role: "user", parts: Array.from({ length: 1001 }, () => ({ type: "text", text: "x" })) }),
        /at most 1000/,
      ],
      [
        message({ id: "m1", role: "user", parts: [{ type: "text", text: "ok" }, { type: "file" }] }),
        /payload\.message\.parts\[1\] is not a valid "file" part/,
      ],
      [message({ id: "m1", role: "user", parts: [] }), /payload\.message\.parts/],
    ];
    for (const [body, error] of malformed) {
      const response = await append(body);
      expect(response.status, body).toBe(400);
      expect(response.json?.error).toMatch(error);
    }
    expect((await append(JSON.stringify({ kind: "stop" }), { "X-Part-Id": "x".repeat(300) })).status).toBe(400);
    const oversize = await append(JSON.stringify({ kind: "message", pad: "x".repeat(1024 * 1024) }));
    expect(oversize.status).toBe(413);
    expect(oversize.headers.get("access-control-allow-origin")).toBe("*");
    expect(
      (await call("/realtime/v1/sessions/no-such-chat/in/append", { method: "POST", body: '{"kind":"stop"}' })).status,
    ).toBe(404);
    expect(await outTail(chatId)).toBe(before);
  });

  it("accepts the slimmed assistant message the transport sends back with a tool result", async () => {
    const id = uniqueChatId("tool-result");
    await startChatSession({ chatId: id });
    const token = await mintChatToken(id);
    const slimmed = {
      id: "a1",
      role: "assistant",
      parts: [
        { type: "tool-calc", toolCallId: "c1", state: "output-available", output: 3 },
        { type: "tool-approve", toolCallId: "c2", state: "approval-responded", approval: { id: "p1", approved: true } },
      ],
    };
    const body = JSON.stringify({
      kind: "message",
      payload: { chatId: id, trigger: "submit-message", message: slimmed },
    });
    expect((await call(`/realtime/v1/sessions/${id}/in/append`, { method: "POST", body, token })).status).toBe(200);
  });

  it("addresses a session's streams by its friendly id as well as its chat id", async () => {
    const token = await mintChatToken(chatId);
    const { json } = await call(`/api/v1/sessions/${chatId}`);
    const friendlyId = (json as unknown as { id: string }).id;
    expect(friendlyId).toMatch(/^session_/);
    const byChatId = await call(`/realtime/v1/sessions/${chatId}/out/records`, { token });
    const byFriendlyId = await call(`/realtime/v1/sessions/${friendlyId}/out/records`, { token });
    expect(byFriendlyId.status).toBe(200);
    expect(byFriendlyId.json).toEqual(byChatId.json);
    const append = await call(`/realtime/v1/sessions/${friendlyId}/in/append`, {
      method: "POST",
      body: '{"kind":"stop"}',
      token,
    });
    expect(append.status).toBe(200);
  });

  it("acknowledges a retried X-Part-Id with the original seq and stores it once", async () => {
    const token = await mintChatToken(chatId);
    const before = await outTail(chatId);
    const send = () =>
      call(`/realtime/v1/sessions/${chatId}/in/append`, {
        method: "POST",
        body: '{"kind":"stop"}',
        token,
        headers: { "X-Part-Id": "retry-1" },
      });
    const first = await send();
    const second = await send();
    expect(first.status).toBe(200);
    expect(second.json).toEqual(first.json);
    expect(await outTail(chatId)).toBe(before + 1);
  });

  it("validates Timeout-Seconds and Last-Event-ID on the SSE endpoint", async () => {
    const token = await mintChatToken(chatId);
    const subscribe = (headers: Record<string, string>) =>
      call(`/realtime/v1/sessions/${chatId}/out`, { token, headers });
    for (const value of ["abc", "0", "-5", "601", "1.5"]) {
      const response = await subscribe({ "Timeout-Seconds": value });
      expect(response.status, `Timeout-Seconds: ${value}`).toBe(400);
      expect(response.json?.error).toMatch(/Timeout-Seconds/);
    }
    expect((await subscribe({ "Last-Event-ID": "not-a-number" })).status).toBe(400);
    expect((await call("/realtime/v1/sessions/session_nosuchsession/out")).status).toBe(404);
    expect((await call(`/realtime/v1/sessions/${chatId}/out/records?afterEventId=x`)).status).toBe(400);
  });

  it("serves v2 SSE that closes with [DONE] after the requested wait", async () => {
    const token = await mintChatToken(chatId);
    const startedAt = Date.now();
    const response = await call(`/realtime/v1/sessions/${chatId}/out`, {
      token,
      headers: { "Timeout-Seconds": "1", "Last-Event-ID": "100000" },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("x-stream-version")).toBe("v2");
    expect(response.headers.get("content-type")).toBe("text/event-stream");
    expect(response.text.trim().endsWith("data: [DONE]")).toBe(true);
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(900);
  });

  it("answers CORS preflights by echoing the requested headers", async () => {
    const response = await fetch(`${engine.apiURL}/realtime/v1/sessions/${chatId}/in/append`, {
      method: "OPTIONS",
      headers: {
        Origin: "http://example.test",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,x-part-id",
      },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get("access-control-allow-headers")).toBe("authorization,x-part-id");
  });
});

describe("mounted under a path of the app's origin", () => {
  it("serves the API below the mount path and presigns URLs under it", async () => {
    const mounted = (path: string, init: RequestInit = {}) =>
      engine.handle(
        new Request(`http://app.test/local-trigger${path}`, {
          ...init,
          headers: { Authorization: `Bearer ${engine.secretKey}`, ...init.headers },
        }),
        "/local-trigger",
      );
    const session = await mounted(`/api/v1/sessions/${chatId}`);
    expect(session.status).toBe(200);
    expect(((await session.json()) as { externalId: string }).externalId).toBe(chatId);
    const presign = (await (await mounted(`/api/v1/sessions/${chatId}/snapshot-url`)).json()) as {
      presignedUrl: string;
    };
    expect(presign.presignedUrl).toMatch(
      /^http:\/\/app\.test\/local-trigger\/local\/v1\/objects\/snapshots\/session_[a-z0-9]+\?/,
    );
    expect((await mounted("/api/v1/nothing")).status).toBe(404);
  });
});

describe("limits", () => {
  /** A body of `bytes` bytes produced as it is sent, so the test itself holds none of it in memory. */
  function streamedBody(bytes: number) {
    const chunk = new Uint8Array(64 * KiB).fill(120);
    let sent = 0;
    return new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= bytes) return controller.close();
        sent += chunk.length;
        controller.enqueue(chunk);
      },
    });
  }

  it("refuses each body past its route's limit, from the declared length, before reading it", async () => {
    const pad = (bytes: number) =>
      JSON.stringify({ type: "chat.agent", taskIdentifier: "echo", triggerConfig: {}, pad: "x".repeat(bytes) });
    // 32 KiB to create a session: upstream's maxContentLength on POST /api/v1/sessions.
    expect((await call("/api/v1/sessions", { method: "POST", body: pad(33 * KiB) })).status).toBe(413);
    expect((await call("/api/v1/sessions", { method: "POST", body: pad(30 * KiB) })).status).toBe(400);
    const close = await call(`/api/v1/sessions/${chatId}/close`, {
      method: "POST",
      body: JSON.stringify({ reason: "x".repeat(2 * KiB) }),
    });
    expect(close.status).toBe(413);
    expect(close.json?.error).toMatch(/larger than the 1 KiB limit/);
    expect((await call(`/api/v1/sessions/${chatId}`)).json).toMatchObject({ closedAt: null });
  });

  it("keeps memory flat under many huge bodies sent without a declared length", async () => {
    const before = process.memoryUsage().rss;
    const outcomes = await Promise.all(
      Array.from({ length: 8 }, () =>
        fetch(`${engine.apiURL}/api/v1/sessions`, {
          method: "POST",
          headers: { Authorization: `Bearer ${engine.secretKey}`, "Content-Type": "application/json" },
          body: streamedBody(64 * MiB),
          // @ts-expect-error Node's fetch needs `duplex` for a streamed body; the DOM typings lack it.
          duplex: "half",
        }).then(
          (response) => response.status,
          // Past the drain budget the engine cuts the connection rather than read on.
          () => "cut",
        ),
      ),
    );
    for (const outcome of outcomes) expect([413, "cut"]).toContain(outcome);
    expect((process.memoryUsage().rss - before) / MiB).toBeLessThan(128);
    expect((await call(`/api/v1/sessions/${chatId}`)).status).toBe(200);
  });

  it("answers 400, not 500, to channel names that are too long or malformed", async () => {
    const token = await mintChatToken(chatId);
    for (const name of ["x".repeat(250), "has space", "a:b", ".hidden"]) {
      const channel = encodeURIComponent(name);
      expect(
        (
          await call(`/realtime/v1/sessions/${chatId}/channels/${channel}/in/append`, {
            method: "POST",
            body: "{}",
            token,
          })
        ).status,
      ).toBe(400);
      expect(
        (
          await call(`/realtime/v1/sessions/${chatId}/channels/${channel}/out`, {
            token,
            headers: { "Timeout-Seconds": "1" },
          })
        ).status,
      ).toBe(400);
    }
  });

  it("holds each session's streams to their quotas with a clear 413", async () => {
    const id = uniqueChatId("quota");
    await startChatSession({ chatId: id });
    const token = await mintChatToken(id);
    const append = (path: string, body: string) =>
      call(`/realtime/v1/sessions/${id}/${path}/append`, { method: "POST", body, token });

    // Bytes: a side channel holds 4 MiB.
    const nearlyOneMiB = JSON.stringify({ pad: "z".repeat(1000 * KiB) });
    for (let i = 0; i < 4; i++) expect((await append("channels/screen/in", nearlyOneMiB)).status).toBe(200);
    const full = await append("channels/screen/in", nearlyOneMiB);
    expect(full.status).toBe(413);
    expect(full.json?.error).toMatch(/side channel "screen" has reached its limit of 4 MiB/);

    // Channels: at most 8 per session.
    for (let i = 1; i < 8; i++) expect((await append(`channels/c${i}/in`, "{}")).status).toBe(200);
    const ninth = await append("channels/c8/in", "{}");
    expect(ninth.status).toBe(413);
    expect(ninth.json?.error).toMatch(/8 side channels/);

    // Records: this engine's chat input holds 50.
    for (let i = 0; i < 50; i++) expect((await append("in", '{"kind":"stop"}')).status).toBe(200);
    const over = await append("in", '{"kind":"stop"}');
    expect(over.status).toBe(413);
    expect(over.json?.error).toMatch(/chat's input has reached its limit of 50 records/);
    expect(over.headers.get("x-should-retry")).toBe("false");
  });

  it("logs one line for each refused request, with no stack", async () => {
    const before = logLines.length;
    await call("/api/v1/sessions", { method: "POST", body: "{broken" });
    await call("/api/v1/sessions/no-such-chat");
    await call("/api/v1/sessions", { method: "POST", body: "{}", token: "tr_dev_wrong" });
    const lines = logLines.slice(before);
    expect(lines).toHaveLength(3);
    for (const line of lines) {
      expect(line).not.toContain("\n");
      expect(line).not.toMatch(/\s{4}at /);
      expect(line).toMatch(/^(POST|GET) \/api\/v1\/sessions\S*: (400|401|404) /);
    }
  });
});

describe("malformed requests", () => {
  /** Sends raw bytes and returns the status line, so requests no HTTP client would send can be tried. */
  function raw(request: string, { keepOpen = false } = {}): Promise<string> {
    const { port } = new URL(engine.apiURL);
    return new Promise((resolve, reject) => {
      const socket = net.connect(Number(port), "127.0.0.1", () =>
        keepOpen ? socket.write(request) : socket.end(request),
      );
      let answer = "";
      socket.on("data", (chunk) => {
        answer += chunk;
        // A kept-open socket is answered once the status line is in.
        if (keepOpen && answer.includes("\r\n")) socket.destroy();
      });
      socket.on("close", () => resolve(answer.split("\r\n")[0] ?? ""));
      socket.on("error", reject);
    });
  }

  it("refuses a body declared far past the limit at once, without waiting for it", async () => {
    const startedAt = Date.now();
    const answer = await raw(
      `POST /api/v1/sessions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${engine.secretKey}\r\nContent-Type: application/json\r\nContent-Length: 99999999999\r\n\r\n{"type":`,
    );
    expect(answer).toBe("HTTP/1.1 413 Payload Too Large");
    expect(Date.now() - startedAt).toBeLessThan(2_000);
  });

  it("stops waiting for a refused body that never comes", async () => {
    const startedAt = Date.now();
    const answer = await raw(
      `POST /api/v1/sessions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${engine.secretKey}\r\nContent-Length: 40000\r\n\r\n`,
      {
        keepOpen: true,
      },
    );
    expect(answer).toBe("HTTP/1.1 413 Payload Too Large");
    expect(Date.now() - startedAt).toBeLessThan(10_000);
  });

  it("logs one line, no stack, when a client hangs up mid-body", async () => {
    const before = logLines.length;
    const { port } = new URL(engine.apiURL);
    await new Promise<void>((resolve) => {
      const socket = net.connect(Number(port), "127.0.0.1", () => {
        socket.write(
          `POST /api/v1/sessions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${engine.secretKey}\r\nContent-Length: 1000\r\n\r\n{"type"`,
        );
        setTimeout(() => {
          socket.destroy();
          resolve();
        }, 100);
      });
    });
    await waitFor(() => logLines.length > before);
    await sleep(200);
    expect(logLines.slice(before)).toEqual([
      expect.stringMatching(/^POST \/api\/v1\/sessions: 400 The request body was cut off before it ended$/),
    ]);
  });

  it("answers request lines and headers the Fetch API cannot represent with a 4xx, and keeps serving", async () => {
    expect(await raw("GET /api/v1/sessions HTTP/1.1\r\nHost: exa mple\r\nConnection: close\r\n\r\n")).toBe(
      "HTTP/1.1 401 Unauthorized",
    );
    expect(await raw("TRACE /api/v1/sessions HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")).toBe(
      "HTTP/1.1 400 Bad Request",
    );
    // A path that looks like a URL stays a path.
    expect(
      await raw("GET //evil.example/api/v1/sessions HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"),
    ).toBe("HTTP/1.1 404 Not Found");
    expect((await call(`/api/v1/sessions/${chatId}`)).status).toBe(200);
  });
});
