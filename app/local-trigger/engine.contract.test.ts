import { sessions } from "@trigger.dev/sdk";
import { AgentChat } from "@trigger.dev/sdk/chat";
import { chat, defaultStorage } from "@trigger.dev/sdk/ai";
import type { UIMessageChunk } from "ai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LocalEngine } from "./engine.server";
import {
  expectedReply,
  makeTransport,
  mintChatToken,
  sleep,
  startChatSession,
  startTestEngine,
  TASK_ID,
  uniqueChatId,
  useEngine,
  waitFor,
} from "./testing/harness";
import { NodeChat, textOf } from "./testing/node-chat";

/*
 * The engine's contract with the pinned SDK clients, driven exactly as an app
 * drives it: TriggerChatTransport inside AbstractChat (what useChat wraps),
 * chat.createStartSessionAction and auth.createPublicToken as the server
 * actions, AgentChat, chat.createLoadTranscriptAction and sessions.*.
 */

let engine: LocalEngine;

beforeAll(async () => {
  engine = await startTestEngine({ delayMs: 15, warmWorkers: 2 });
});

afterAll(async () => {
  await engine?.close();
});

async function readAll(stream: ReadableStream<UIMessageChunk> | null) {
  const chunks: UIMessageChunk[] = [];
  if (!stream) return chunks;
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return chunks;
    chunks.push(value);
  }
}

const deltas = (chunks: UIMessageChunk[]) =>
  chunks.map((chunk) => (chunk.type === "text-delta" ? chunk.delta : "")).join("");

describe("chat through TriggerChatTransport", () => {
  it("streams two turns, the second answered with the first in its history", async () => {
    useEngine(engine);
    const chatId = uniqueChatId("two-turns");
    const { transport } = makeTransport(engine);
    const chatSession = new NodeChat({ id: chatId, transport });

    await chatSession.sendMessage({ text: "hello" });
    expect(textOf(chatSession.messages[1])).toBe(expectedReply("hello", 1));

    await chatSession.sendMessage({ text: "again" });
    expect(chatSession.messages).toHaveLength(4);
    expect(textOf(chatSession.messages[3])).toBe(expectedReply("again", 3));
    expect(chatSession.status).toBe("ready");
  });

  it("stops a turn mid-stream on the server, then answers the next message", async () => {
    useEngine(engine);
    const chatId = uniqueChatId("stop");
    const { transport } = makeTransport(engine);
    const chatSession = new NodeChat({ id: chatId, transport });

    const sending = chatSession.sendMessage({ text: "a long answer please" });
    await waitFor(() => textOf(chatSession.messages[1]).includes("w3"));
    await chatSession.stop();
    await transport.stopGeneration(chatId);
    await sending;
    const partial = textOf(chatSession.messages[1]);
    expect(partial).not.toContain("w60");

    // The server turn really ended: a raw reader sees the stopped turn complete and nothing after it.
    const token = await mintChatToken(chatId);
    type OutRecords = { records: { data: { type?: string }; headers?: [string, string][] }[] };
    const readOut = () =>
      fetch(`${engine.apiURL}/realtime/v1/sessions/${chatId}/out/records`, {
        headers: { Authorization: `Bearer ${token}` },
      }).then((r) => r.json() as Promise<OutRecords>);
    const isTurnComplete = (r: OutRecords["records"][number]) =>
      r.headers?.some(([k, v]) => k === "trigger-control" && v === "turn-complete");
    const records = await waitFor(async () => {
      const current = await readOut();
      return current.records.some(isTurnComplete) ? current : undefined;
    });
    const wordsWritten = records.records.filter((r) => r.data?.type === "text-delta").length;
    await sleep(300);
    const later = await readOut();
    expect(later.records.filter((r) => r.data?.type === "text-delta").length).toBe(wordsWritten);
    expect(wordsWritten).toBeLessThan(61);

    await chatSession.sendMessage({ text: "after the stop" });
    expect(textOf(chatSession.messages.at(-1))).toMatch(/^Reply to "after the stop" after 3 prompt messages\./);
    expect(chatSession.status).toBe("ready");
  });

  it("regenerates the last answer in place", async () => {
    useEngine(engine);
    const chatId = uniqueChatId("regenerate");
    const { transport } = makeTransport(engine);
    const chatSession = new NodeChat({ id: chatId, transport });
    await chatSession.sendMessage({ text: "first" });
    await chatSession.sendMessage({ text: "second" });
    await chatSession.regenerate();
    expect(chatSession.messages).toHaveLength(4);
    // The agent dropped the old answer before answering again, so it saw the same 3 messages.
    expect(textOf(chatSession.messages[3])).toBe(expectedReply("second", 3));
  });

  it("resumes a stream the server dropped mid-turn with no text lost or repeated", async () => {
    useEngine(engine);
    const chatId = uniqueChatId("drop");
    const { transport } = makeTransport(engine);
    const chatSession = new NodeChat({ id: chatId, transport });
    const sending = chatSession.sendMessage({ text: "a long reply to survive a drop" });
    await waitFor(() => textOf(chatSession.messages[1]).includes("w5"));
    expect(engine.dropStreams()).toBeGreaterThan(0);
    await sending;
    expect(textOf(chatSession.messages[1])).toBe(expectedReply("a long reply to survive a drop", 1, 60));
  });

  it("reconnects a reloaded page to the in-flight turn, and returns null once it is settled", async () => {
    useEngine(engine);
    const chatId = uniqueChatId("reload");
    const { transport } = makeTransport(engine);
    const chatSession = new NodeChat({ id: chatId, transport });
    await chatSession.sendMessage({ text: "first" });

    const sending = chatSession.sendMessage({ text: "a long second turn" });
    await waitFor(() => textOf(chatSession.messages[3]).includes("w4"));
    const persisted = transport.getSession(chatId);
    expect(persisted?.isStreaming).toBe(true);

    const { transport: reloaded } = makeTransport(engine, { sessions: { [chatId]: persisted! } });
    const resumed = await readAll(await reloaded.reconnectToStream({ chatId }));
    await sending;
    // The whole in-flight turn, once, and nothing from the turn before it.
    expect(resumed[0]?.type).toBe("start");
    expect(deltas(resumed)).toBe(expectedReply("a long second turn", 3, 60));
    expect(await reloaded.reconnectToStream({ chatId })).toBeNull();
  });

  it("refreshes an expired token through accessToken() and retries", async () => {
    useEngine(engine);
    const chatId = uniqueChatId("expiry");
    const shortLived = chat.createStartSessionAction(TASK_ID, { tokenTTL: "1s" });
    const { transport, calls } = makeTransport(engine, {
      startSession: ({ chatId: id, clientData }) => shortLived({ chatId: id, clientData }),
    });
    const chatSession = new NodeChat({ id: chatId, transport });
    await transport.preload(chatId);
    await sleep(2_100);
    await chatSession.sendMessage({ text: "after expiry" });
    expect(calls.accessToken).toBeGreaterThan(0);
    expect(textOf(chatSession.messages[1])).toBe(expectedReply("after expiry", 1));
    expect(chatSession.messages).toHaveLength(2);
  });

  it("answers 403 to a token scoped to another chat and 401 to a forged one", async () => {
    useEngine(engine);
    const chatId = uniqueChatId("scopes");
    await startChatSession({ chatId });
    const otherToken = await mintChatToken(uniqueChatId("someone-else"));
    const append = await fetch(`${engine.apiURL}/realtime/v1/sessions/${chatId}/in/append`, {
      method: "POST",
      headers: { Authorization: `Bearer ${otherToken}`, "Content-Type": "application/json" },
      body: JSON.stringify({ kind: "stop" }),
    });
    expect(append.status).toBe(403);
    const read = await fetch(`${engine.apiURL}/realtime/v1/sessions/${chatId}/out`, {
      headers: { Authorization: `Bearer ${otherToken}` },
    });
    expect(read.status).toBe(403);
    const forged = await fetch(`${engine.apiURL}/realtime/v1/sessions/${chatId}/out`, {
      headers: { Authorization: `Bearer ${otherToken.slice(0, -4)}AAAA` },
    });
    expect(forged.status).toBe(401);
  });

  it("refuses messages and re-creation once a session is closed (409)", async () => {
    useEngine(engine);
    const chatId = uniqueChatId("closed");
    const { transport } = makeTransport(engine);
    const chatSession = new NodeChat({ id: chatId, transport });
    await chatSession.sendMessage({ text: "before close" });
    await sessions.close(chatId, { reason: "user-ended" });

    await chatSession.sendMessage({ text: "after close" }).catch(() => {});
    expect(transport.sessionStatus(chatId)).toBe("closed");

    const startedAt = Date.now();
    await expect(startChatSession({ chatId })).rejects.toThrow(/closed/);
    // `x-should-retry: false` keeps the SDK from retrying a terminal 409 for seconds.
    expect(Date.now() - startedAt).toBeLessThan(2_000);
    await waitFor(() => engine.runFor(chatId)?.status !== "EXECUTING");
  });

  it("creates exactly one session and one run for 10 concurrent starts of one chat", async () => {
    useEngine(engine);
    const chatId = uniqueChatId("idempotent");
    const results = await Promise.all(Array.from({ length: 10 }, () => startChatSession({ chatId })));
    expect(new Set(results.map((r) => r.sessionId)).size).toBe(1);
    expect(new Set(results.map((r) => r.runId)).size).toBe(1);
    const session = await sessions.retrieve(chatId);
    expect(session.id).toBe(results[0]!.sessionId);
    expect(session.currentRunId).toBe(results[0]!.runId);
  });

  it("keeps 20 concurrent chats apart", async () => {
    useEngine(engine);
    const chats = Array.from({ length: 20 }, (_, i) => {
      const chatId = uniqueChatId(`crowd${i}`);
      return { i, chat: new NodeChat({ id: chatId, transport: makeTransport(engine).transport }) };
    });
    await Promise.all(chats.map(({ i, chat: c }) => c.sendMessage({ text: `question number ${i}` })));
    for (const { i, chat: c } of chats) {
      expect(c.messages).toHaveLength(2);
      expect(textOf(c.messages[1])).toBe(expectedReply(`question number ${i}`, 1));
    }
  }, 90_000);
});

describe("server-side clients", () => {
  it("runs a conversation through AgentChat and ends the run on close", async () => {
    useEngine(engine);
    const chatId = uniqueChatId("agentchat");
    const agentChat = new AgentChat({ agent: TASK_ID, id: chatId });
    const first = await (await agentChat.sendMessage("hi from the server")).text();
    expect(first).toBe(expectedReply("hi from the server", 1));
    const second = await (await agentChat.sendMessage("and again")).text();
    expect(second).toBe(expectedReply("and again", 3));
    await agentChat.close();
    await waitFor(() => engine.runFor(chatId)?.status !== "EXECUTING");
  });

  it("loads the transcript whole and in pages", async () => {
    useEngine(engine);
    const chatId = uniqueChatId("transcript");
    const chatSession = new NodeChat({ id: chatId, transport: makeTransport(engine).transport });
    await chatSession.sendMessage({ text: "one" });
    await chatSession.sendMessage({ text: "two" });
    const loadTranscript = chat.createLoadTranscriptAction(defaultStorage);
    // The turn-complete save lands just after the answer reaches the client.
    const whole = await waitFor(async () => {
      const result = await loadTranscript({ chatId });
      return result.messages.length === 4 ? result : undefined;
    });
    expect(whole.messages.map((m) => m.id)).toEqual(chatSession.messages.map((m) => m.id));
    expect(textOf(whole.messages[3])).toBe(expectedReply("two", 3));

    const lastPage = await chat.createLoadTranscriptAction(defaultStorage, { limit: 2 })({ chatId });
    expect(lastPage.messages.map((m) => m.id)).toEqual(chatSession.messages.slice(2).map((m) => m.id));
    expect(lastPage.nextCursor).toBe(chatSession.messages[2]!.id);
    const firstPage = await loadTranscript({ chatId, limit: 2, before: lastPage.nextCursor });
    expect(firstPage.messages.map((m) => m.id)).toEqual(chatSession.messages.slice(0, 2).map((m) => m.id));
    expect(firstPage.nextCursor).toBeUndefined();
  });

  it("lists sessions by tag and type, newest first, in pages", async () => {
    useEngine(engine);
    const tag = `user:${uniqueChatId("lister")}`;
    const chatIds = [uniqueChatId("list-a"), uniqueChatId("list-b"), uniqueChatId("list-c")];
    for (const chatId of chatIds) await startChatSession({ chatId, tags: [tag] });
    await startChatSession({ chatId: uniqueChatId("list-other"), tags: ["user:nobody"] });

    const firstPage = await sessions.list({ type: "chat.agent", tag, limit: 2 });
    expect(firstPage.data.map((s) => s.externalId)).toEqual([chatIds[2], chatIds[1]]);
    expect(firstPage.hasNextPage()).toBe(true);
    const secondPage = await firstPage.getNextPage();
    expect(secondPage.data.map((s) => s.externalId)).toEqual([chatIds[0]]);

    await sessions.close(chatIds[1]!);
    const active = await sessions.list({ tag, status: "ACTIVE" });
    expect(active.data.map((s) => s.externalId)).toEqual([chatIds[2], chatIds[0]]);
  });

  it("keeps a page cursor working after its session leaves the filter, as Trigger.dev does", async () => {
    useEngine(engine);
    const tag = `user:${uniqueChatId("pager")}`;
    const chatIds = [uniqueChatId("page-a"), uniqueChatId("page-b"), uniqueChatId("page-c")];
    for (const chatId of chatIds) await startChatSession({ chatId, tags: [tag] });

    const firstPage = await sessions.list({ tag, status: "ACTIVE", limit: 2 });
    expect(firstPage.data.map((s) => s.externalId)).toEqual([chatIds[2], chatIds[1]]);
    // The cursor names the page's last session; closing it (a deleted chat) must not lose the place.
    await sessions.close(chatIds[1]!);
    const secondPage = await firstPage.getNextPage();
    expect(secondPage.data.map((s) => s.externalId)).toEqual([chatIds[0]]);
    expect(secondPage.hasNextPage()).toBe(false);
  });
});
