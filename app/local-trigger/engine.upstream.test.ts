import { ApiError } from "@trigger.dev/core/v3";
import { sessions } from "@trigger.dev/sdk";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { LocalEngine } from "./engine.server";
import { mintChatToken, startChatSession, startTestEngine, uniqueChatId, useEngine, waitFor } from "./testing/harness";

/*
 * Route behaviour pinned to Trigger.dev's webapp routes (apps/webapp/app/routes/api.v1.sessions.*,
 * realtime.v1.sessions.*) where a client can observe it. Each test names the upstream behaviour it pins.
 */

let engine: LocalEngine;

beforeAll(async () => {
  engine = await startTestEngine({ warmWorkers: 1, maxReadersWaitingForSessions: 3 });
});

afterAll(async () => {
  await engine?.close();
});

afterEach(() => {
  vi.useRealTimers();
  useEngine(engine);
});

async function call(path: string, init: { method?: string; body?: unknown; token?: string } = {}) {
  const response = await fetch(`${engine.apiURL}${path}`, {
    method: init.method ?? "GET",
    headers: {
      Authorization: `Bearer ${init.token ?? engine.secretKey}`,
      ...(init.body !== undefined ? { "Content-Type": "application/json" } : {}),
    },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const text = await response.text();
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

describe("404 (upstream's route builder: x-should-retry: false, so the SDK does not retry)", () => {
  it("marks every 404 as not worth retrying", async () => {
    const chatId = uniqueChatId("gone");
    await startChatSession({ chatId });
    engine.deleteSession(chatId, { reason: "test" });
    const notFound = [
      await call("/api/v1/sessions/no-such-chat"),
      await call("/api/v1/sessions/no-such-chat/close", { method: "POST", body: {} }),
      await call("/realtime/v1/sessions/session_nope/out"),
      await call(`/realtime/v1/sessions/${chatId}/in/append`, { method: "POST", body: { kind: "stop" } }),
      await call("/api/v1/nothing-here"),
    ];
    for (const response of notFound) {
      expect(response.status, response.text).toBe(404);
      expect(response.headers.get("x-should-retry")).toBe("false");
    }
  });
});

describe("PATCH /api/v1/sessions/:id (upstream: externalId is immutable, 422)", () => {
  it("refuses to re-key a session, and accepts the same externalId again", async () => {
    const chatId = uniqueChatId("rekey");
    const { publicAccessToken } = await startChatSession({ chatId });
    const changed = await sessions.update(chatId, { externalId: uniqueChatId("other") }).catch((e: unknown) => e);
    expect(changed).toBeInstanceOf(ApiError);
    expect((changed as ApiError).status).toBe(422);
    expect((changed as ApiError).message).toMatch(/externalId cannot be changed after creation/);
    const cleared = await call(`/api/v1/sessions/${chatId}`, { method: "PATCH", body: { externalId: null } });
    expect(cleared.status).toBe(422);
    // Nothing moved: the chat id still names the session, and its token still reads it.
    const same = await sessions.update(chatId, { externalId: chatId, metadata: { kept: true } });
    expect(same).toMatchObject({ externalId: chatId, metadata: { kept: true } });
    expect((await call(`/api/v1/sessions/${chatId}`, { token: publicAccessToken })).status).toBe(200);
  });
});

describe("POST /api/v1/sessions/:id/end-and-continue (upstream's own answers)", () => {
  it("answers 404 for a callingRunId the engine does not know", async () => {
    const chatId = uniqueChatId("eac-unknown");
    const { runId } = await startChatSession({ chatId });
    const response = await call(`/api/v1/sessions/${chatId}/end-and-continue`, {
      method: "POST",
      body: { callingRunId: "run_doesnotexist", reason: "upgrade" },
    });
    expect(response.status).toBe(404);
    expect(response.json?.error).toBe("callingRunId not found in this environment");
    expect((await call(`/api/v1/sessions/${chatId}`)).json).toMatchObject({ currentRunId: runId });
  });

  it("answers 400 'Cannot end-and-continue a closed session', not the append route's message", async () => {
    const chatId = uniqueChatId("eac-closed");
    const { runId } = await startChatSession({ chatId });
    await sessions.close(chatId, { reason: "done" });
    const response = await call(`/api/v1/sessions/${chatId}/end-and-continue`, {
      method: "POST",
      body: { callingRunId: runId, reason: "upgrade" },
    });
    expect(response.status).toBe(400);
    expect(response.json?.error).toBe("Cannot end-and-continue a closed session");
    expect(response.headers.get("x-should-retry")).toBe("false");
  });

  it("answers 400 'Cannot end-and-continue an expired session'", async () => {
    const chatId = uniqueChatId("eac-expired");
    const created = await sessions.start({
      type: "chat.agent",
      externalId: chatId,
      taskIdentifier: "echo",
      triggerConfig: { basePayload: { chatId, trigger: "preload" } },
      expiresAt: new Date(Date.now() + 300),
    });
    const response = await waitFor(async () => {
      const answer = await call(`/api/v1/sessions/${chatId}/end-and-continue`, {
        method: "POST",
        body: { callingRunId: created.runId, reason: "upgrade" },
      });
      return answer.status === 400 ? answer : undefined;
    });
    expect(response.json?.error).toBe("Cannot end-and-continue an expired session");
  });
});

describe("GET /api/v1/sessions filter[createdAt][period] (upstream: parse-duration, counted back from now)", () => {
  it("lists only the sessions created within the period sessions.list sends", async () => {
    const tag = uniqueChatId("period");
    const older = uniqueChatId("older");
    await sessions.start({
      type: "chat.agent",
      externalId: older,
      taskIdentifier: "echo",
      triggerConfig: { basePayload: {} },
      tags: [tag],
    });
    // Two hours pass for the engine's clock (Date only; timers stay real).
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 2 * 60 * 60 * 1000);
    const newer = uniqueChatId("newer");
    await sessions.start({
      type: "chat.agent",
      externalId: newer,
      taskIdentifier: "echo",
      triggerConfig: { basePayload: {} },
      tags: [tag],
    });
    const listed = async (period: string) => {
      const ids: (string | null)[] = [];
      for await (const session of sessions.list({ tag, period })) ids.push(session.externalId);
      return ids;
    };
    expect(await listed("1h")).toEqual([newer]);
    expect(await listed("90m")).toEqual([newer]);
    expect(await listed("3h")).toEqual([newer, older]);
    expect(await listed("7d")).toEqual([newer, older]);
  });

  it("refuses a period it cannot read with a 400 (upstream ignores it)", async () => {
    for (const period of ["soon", "-1h", "0"]) {
      const response = await call(`/api/v1/sessions?filter[createdAt][period]=${encodeURIComponent(period)}`);
      expect(response.status, period).toBe(400);
      expect(response.json?.error).toMatch(/filter\[createdAt\]\[period\]/);
    }
  });
});

/** Reads an SSE body until `done(text so far)` holds, or the stream ends. */
async function readSse(response: Response, done: (text: string) => boolean) {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let text = "";
  for (;;) {
    const { value, done: ended } = await reader.read();
    if (value) text += decoder.decode(value, { stream: true });
    if (ended || done(text)) break;
  }
  await reader.cancel().catch(() => {});
  return text;
}

const subscribe = (path: string, token: string, headers: Record<string, string> = {}, signal?: AbortSignal) =>
  fetch(`${engine.apiURL}${path}`, { headers: { Authorization: `Bearer ${token}`, ...headers }, signal });

describe("subscribing before the session exists (upstream: row-optional subscribe on the chat id)", () => {
  it("waits on the chat id, then streams the session's records once it is created and written", async () => {
    const chatId = uniqueChatId("early");
    const token = await mintChatToken(chatId);
    const early = await subscribe(`/realtime/v1/sessions/${chatId}/out`, token, { "Timeout-Seconds": "60" });
    expect(early.status).toBe(200);
    expect(early.headers.get("x-stream-version")).toBe("v2");
    expect(engine.stats().readersWaitingForSessions).toBe(1);
    const reading = readSse(early, (text) => text.includes("turn-complete"));
    await startChatSession({ chatId });
    expect(engine.stats().readersWaitingForSessions).toBe(0);
    const append = await call(`/realtime/v1/sessions/${chatId}/in/append`, {
      method: "POST",
      token,
      body: {
        kind: "message",
        payload: {
          chatId,
          trigger: "submit-message",
          message: { id: "u1", role: "user", parts: [{ type: "text", text: "hello early" }] },
        },
      },
    });
    expect(append.status, append.text).toBe(200);
    const text = await reading;
    expect(text).toContain("event: batch");
    expect(text).toContain('Reply to \\\\\\"hello early\\\\\\"');
    expect(text).toContain("turn-complete");
  });

  it("answers records and HEAD for a chat id with no session as an empty channel", async () => {
    const chatId = uniqueChatId("empty");
    const token = await mintChatToken(chatId);
    const records = await call(`/realtime/v1/sessions/${chatId}/out/records`, { token });
    expect(records).toMatchObject({ status: 200, json: { records: [] } });
    const head = await fetch(`${engine.apiURL}/realtime/v1/sessions/${chatId}/out`, {
      method: "HEAD",
      headers: { Authorization: `Bearer ${token}` },
    });
    expect(head.status).toBe(200);
    expect(head.headers.get("x-last-chunk-index")).toBe("0");
  });

  it("still needs a token for that id, 404s a session_ id, and keeps a deleted chat not found", async () => {
    const chatId = uniqueChatId("scoped");
    const otherToken = await mintChatToken(uniqueChatId("other"));
    expect((await subscribe(`/realtime/v1/sessions/${chatId}/out`, otherToken)).status).toBe(403);
    expect((await call(`/realtime/v1/sessions/${chatId}/out/records`, { token: otherToken })).status).toBe(403);
    const friendly = await subscribe("/realtime/v1/sessions/session_notreal/out", engine.secretKey);
    expect(friendly.status).toBe(404);
    await friendly.body?.cancel();
    const deleted = uniqueChatId("deleted");
    await startChatSession({ chatId: deleted });
    engine.deleteSession(deleted, { reason: "test" });
    const afterDelete = await subscribe(`/realtime/v1/sessions/${deleted}/out`, await mintChatToken(deleted));
    expect(afterDelete.status).toBe(404);
    await afterDelete.body?.cancel();
    expect(engine.stats().readersWaitingForSessions).toBe(0);
  });

  it("bounds the wait by Timeout-Seconds and the number of waiting readers, and forgets readers that leave", async () => {
    const ids = [uniqueChatId("never"), uniqueChatId("never"), uniqueChatId("never")];
    const leaving = new AbortController();
    const waiting = await Promise.all(
      ids.map(async (id, index) =>
        subscribe(
          `/realtime/v1/sessions/${id}/out`,
          await mintChatToken(id),
          { "Timeout-Seconds": index === 0 ? "1" : "60" },
          index === 2 ? leaving.signal : undefined,
        ),
      ),
    );
    expect(waiting.map((response) => response.status)).toEqual([200, 200, 200]);
    expect(engine.stats().readersWaitingForSessions).toBe(3);
    // The engine's cap (3 here) is reached: one more is refused rather than held.
    const extraId = uniqueChatId("never");
    const refused = await subscribe(`/realtime/v1/sessions/${extraId}/out`, await mintChatToken(extraId));
    expect(refused.status).toBe(503);
    expect(((await refused.json()) as { error: string }).error).toMatch(/Too many readers are waiting/);
    // The first one's window ends with [DONE], as any long-poll does, and it stops waiting.
    expect((await readSse(waiting[0]!, () => false)).trim().endsWith("data: [DONE]")).toBe(true);
    // The third hangs up; its wait is forgotten too.
    leaving.abort();
    await waitFor(() => engine.stats().readersWaitingForSessions === 1);
    await waiting[1]!.body?.cancel();
    await waitFor(() => engine.stats().readersWaitingForSessions === 0);
  });
});
