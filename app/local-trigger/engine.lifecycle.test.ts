import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { sessions } from "@trigger.dev/sdk";
import { afterEach, describe, expect, it } from "vitest";
import type { LocalEngine } from "./engine.server";
import { CRASHED_TURN_MESSAGE } from "./sessions/session-runs.server";
import {
  expectedReply,
  makeTransport,
  sleep,
  startChatSession,
  startTestEngine,
  tempDataDir,
  uniqueChatId,
  waitFor,
} from "./testing/harness";
import { NodeChat, textOf } from "./testing/node-chat";

/*
 * Run lifecycle through the real clients: an idle run suspends and its thread
 * ends, an ended run is continued by the next message, a restarted engine
 * loses no conversation, a crashed turn is finished or ended with an error,
 * and run slots go to turns that are running, with a bounded wait for the rest.
 */

const engines: LocalEngine[] = [];
afterEach(async () => {
  await Promise.all(engines.splice(0).map((engine) => engine.close()));
});
const start = async (options: Parameters<typeof startTestEngine>[0]) => {
  const engine = await startTestEngine(options);
  engines.push(engine);
  return engine;
};

describe("run lifecycle", () => {
  it("ends an idle run's thread when it suspends, and continues the chat in a new run with its history", async () => {
    const engine = await start({ workerEnv: { ECHO_AGENT_IDLE_SECONDS: "1" } });
    const chatId = uniqueChatId("suspend");
    const chatSession = new NodeChat({ id: chatId, transport: makeTransport(engine).transport });
    await chatSession.sendMessage({ text: "before the nap" });
    await chatSession.sendMessage({ text: "second" });
    const runBefore = engine.runFor(chatId)!.id;
    await waitFor(async () => (await sessions.retrieve(chatId)).metadata?.suspends === 1, { timeoutMs: 15_000 });

    // Suspended, the chat holds no worker thread: the only threads left are the warm pool's.
    await waitFor(() => engine.runFor(chatId)?.status === "COMPLETED");
    await waitFor(() => engine.stats().workerThreads === engine.stats().warmWorkers + engine.stats().bootingWorkers);
    expect(engine.stats().liveRuns).toBe(0);

    await chatSession.sendMessage({ text: "wake up" });
    expect(engine.runFor(chatId)!.id).not.toBe(runBefore);
    expect(chatSession.messages.map(textOf)).toEqual([
      "before the nap",
      expectedReply("before the nap", 1),
      "second",
      expectedReply("second", 3),
      "wake up",
      expectedReply("wake up", 5),
    ]);
  });

  it("gives a run its messages over its worker's port, and lets a read still waiting go when the run ends", async () => {
    const engine = await start({});
    const chatId = uniqueChatId("in-port");
    const chatSession = new NodeChat({ id: chatId, transport: makeTransport(engine).transport });
    await chatSession.sendMessage({ text: "first" });
    await chatSession.sendMessage({ text: "second" });
    expect(chatSession.messages.map(textOf)).toEqual([
      "first",
      expectedReply("first", 1),
      "second",
      expectedReply("second", 3),
    ]);
    // Between turns the agent waits for its next message on a read over the port, not on an SSE stream.
    await waitFor(() => engine.stats().runReadsWaiting === 1);
    await waitFor(() => engine.stats().openStreams === 0);

    await sessions.close(chatId);
    await waitFor(() => engine.stats().liveRuns === 0);
    expect(engine.stats().runReadsWaiting).toBe(0);
  });

  it("continues in a new run with the history restored once the old run has ended", async () => {
    const engine = await start({ workerEnv: { ECHO_AGENT_IDLE_SECONDS: "1", ECHO_AGENT_TURN_TIMEOUT: "1s" } });
    const chatId = uniqueChatId("continuation");
    const chatSession = new NodeChat({ id: chatId, transport: makeTransport(engine).transport });
    await chatSession.sendMessage({ text: "first run" });
    const firstRun = engine.runFor(chatId)!.id;
    await waitFor(() => engine.runFor(chatId)?.status === "COMPLETED", { timeoutMs: 15_000 });

    await chatSession.sendMessage({ text: "second run" });
    expect(textOf(chatSession.messages[3])).toBe(expectedReply("second run", 3));
    expect(engine.runFor(chatId)!.id).not.toBe(firstRun);
  });

  it("keeps the conversation across an engine restart on the same data folder and port", async () => {
    const dataDir = tempDataDir();
    const first = await startTestEngine({ dataDir });
    const port = Number(new URL(first.apiURL).port);
    const chatId = uniqueChatId("restart");
    const { transport } = makeTransport(first);
    const chatSession = new NodeChat({ id: chatId, transport });
    await chatSession.sendMessage({ text: "before restart" });
    await sleep(300); // the turn-complete snapshot is written just after the answer
    await first.close();

    const second = await start({ dataDir, port });
    expect(second.secretKey).toBe(first.secretKey);
    await chatSession.sendMessage({ text: "after restart" });
    expect(chatSession.messages.map(textOf)).toEqual([
      "before restart",
      expectedReply("before restart", 1),
      "after restart",
      expectedReply("after restart", 3),
    ]);
  });

  it("finishes an answer the engine was killed in the middle of, once it is back", async () => {
    const dataDir = tempDataDir();
    const first = await startTestEngine({ dataDir, delayMs: 30 });
    const port = Number(new URL(first.apiURL).port);
    const chatSession = new NodeChat({ id: uniqueChatId("killed"), transport: makeTransport(first).transport });
    await chatSession.sendMessage({ text: "first" });
    const sending = chatSession.sendMessage({ text: "a long answer cut short" });
    await waitFor(() => textOf(chatSession.messages[3]).includes("w3"));
    await first.close();

    await start({ dataDir, port, delayMs: 5 });
    await sending;
    expect(chatSession.status).toBe("ready");
    expect(textOf(chatSession.messages[3])).toMatch(/ w60$/);
    await chatSession.sendMessage({ text: "and after" });
    expect(textOf(chatSession.messages[5])).toBe(expectedReply("and after", 5));
  });

  it("continues a turn whose run crashed mid-answer in a new run", async () => {
    const marker = path.join(tempDataDir(), "crashed");
    const engine = await start({ workerEnv: { ECHO_AGENT_CRASH_MARKER: marker } });
    const chatId = uniqueChatId("crash");
    const chatSession = new NodeChat({ id: chatId, transport: makeTransport(engine).transport });
    await chatSession.sendMessage({ text: "please crash" });
    expect(fs.existsSync(marker)).toBe(true);
    expect(chatSession.status).toBe("ready");
    expect(textOf(chatSession.messages[1])).toMatch(/ w8$/);
    await chatSession.sendMessage({ text: "still here?" });
    expect(textOf(chatSession.messages[3])).toBe(expectedReply("still here?", 3));
  });

  it("ends a turn with a clear error when every run that tries it crashes, instead of leaving the client waiting", async () => {
    const engine = await start({});
    const chatId = uniqueChatId("crash-loop");
    const chatSession = new NodeChat({ id: chatId, transport: makeTransport(engine).transport });
    await chatSession.sendMessage({ text: "please crash every time" });
    expect(chatSession.status).toBe("error");
    expect(chatSession.error?.message).toBe(CRASHED_TURN_MESSAGE);

    // The failed message is not answered later out of turn; the chat goes on.
    await chatSession.sendMessage({ text: "something easier" });
    expect(chatSession.status).toBe("ready");
    expect(textOf(chatSession.messages.at(-1))).toMatch(/^Reply to "something easier"/);
  });
});

describe("run slots", () => {
  const appendMessage = async (engine: LocalEngine, chatId: string, token: string, text: string) => {
    const message = { id: `u-${Math.random().toString(36).slice(2)}`, role: "user", parts: [{ type: "text", text }] };
    return fetch(`${engine.apiURL}/realtime/v1/sessions/${chatId}/in/append`, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body: JSON.stringify({ kind: "message", payload: { message, chatId, trigger: "submit-message" } }),
    });
  };

  it("never lets sessions without a message block a new chat", async () => {
    const engine = await start({ maxLiveRuns: 2, warmWorkers: 1 });
    const idle = Array.from({ length: 6 }, (_, i) => uniqueChatId(`idle${i}`));
    for (const chatId of idle) await startChatSession({ chatId });
    expect(engine.stats().liveRuns).toBeLessThanOrEqual(2);

    const newChat = new NodeChat({ id: uniqueChatId("new"), transport: makeTransport(engine).transport });
    await newChat.sendMessage({ text: "is there room?" });
    expect(textOf(newChat.messages[1])).toBe(expectedReply("is there room?", 1));

    // The sessions that were waiting still work when they get their first message.
    const late = new NodeChat({ id: idle[0]!, transport: makeTransport(engine).transport });
    await late.sendMessage({ text: "finally" });
    expect(textOf(late.messages[1])).toBe(expectedReply("finally", 1));
  });

  it("makes a message wait while every slot is mid-turn, then refuses it with 429 and Retry-After, storing nothing", async () => {
    // Longer than an idle run is kept before it gives up its slot (1 s), shorter than the busy turn (10 s).
    const engine = await start({ maxLiveRuns: 1, warmWorkers: 1, delayMs: 25, queueWaitMs: 4_000 });
    const busyChat = new NodeChat({ id: uniqueChatId("busy"), transport: makeTransport(engine).transport });
    const sending = busyChat.sendMessage({ text: "words:400 keep the only slot busy" });
    await waitFor(() => textOf(busyChat.messages[1]).includes("w2"));

    const chatId = uniqueChatId("waits");
    const { publicAccessToken } = await startChatSession({ chatId });
    const startedAt = Date.now();
    const refused = await appendMessage(engine, chatId, publicAccessToken, "hello?");
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(3_900);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(Number(refused.headers.get("x-ratelimit-reset"))).toBeGreaterThan(Date.now());
    expect(((await refused.json()) as { error: string }).error).toMatch(/busy/);
    const records = await fetch(`${engine.apiURL}/realtime/v1/sessions/${chatId}/in/records`, {
      headers: { Authorization: `Bearer ${engine.secretKey}` },
    });
    expect(((await records.json()) as { records: unknown[] }).records).toEqual([]);
    expect(engine.runFor(busyChat.id)?.status).toBe("EXECUTING");

    await sending;
    expect(textOf(busyChat.messages[1])).toMatch(/ w400$/);
    // The client's retry goes through once the slot is free.
    const retried = new NodeChat({ id: chatId, transport: makeTransport(engine).transport });
    await retried.sendMessage({ text: "hello again" });
    expect(textOf(retried.messages[1])).toBe(expectedReply("hello again", 1));
  });

  it("answers a message that was waiting for a slot with 409 when its chat is closed meanwhile", async () => {
    const engine = await start({ maxLiveRuns: 1, warmWorkers: 1, delayMs: 25, queueWaitMs: 10_000 });
    const busyChat = new NodeChat({ id: uniqueChatId("busy"), transport: makeTransport(engine).transport });
    const sending = busyChat.sendMessage({ text: "words:200 keep the only slot busy" });
    await waitFor(() => textOf(busyChat.messages[1]).includes("w2"));

    const chatId = uniqueChatId("closed-while-waiting");
    const { publicAccessToken } = await startChatSession({ chatId });
    const waiting = appendMessage(engine, chatId, publicAccessToken, "hello?");
    await sleep(300);
    await sessions.close(chatId, { reason: "deleted" });
    const answer = await waiting;
    expect(answer.status).toBe(409);
    expect(((await answer.json()) as { code: string }).code).toBe("session_closed");
    await sending;
  });

  it("gives a waiting message the slot once the turn holding it has ended and its run has idled briefly", async () => {
    const engine = await start({ maxLiveRuns: 1, warmWorkers: 1, delayMs: 10, queueWaitMs: 20_000 });
    const busyChat = new NodeChat({ id: uniqueChatId("first"), transport: makeTransport(engine).transport });
    const first = busyChat.sendMessage({ text: "a long answer first" });
    await waitFor(() => textOf(busyChat.messages[1]).includes("w2"));

    const waiting = new NodeChat({ id: uniqueChatId("second"), transport: makeTransport(engine).transport });
    await Promise.all([first, waiting.sendMessage({ text: "my turn" })]);
    expect(textOf(busyChat.messages[1])).toBe(expectedReply("a long answer first", 1, 60));
    expect(textOf(waiting.messages[1])).toBe(expectedReply("my turn", 1));

    // The chat whose idle run made room continues in a new run, history intact.
    await busyChat.sendMessage({ text: "back again" });
    expect(textOf(busyChat.messages[3])).toBe(expectedReply("back again", 3));
  });
});

describe("worker boots", () => {
  it("boots workers with bounded concurrency during a burst of new chats, then refills the warm pool", async () => {
    const engine = await start({ maxConcurrentBoots: 1, warmWorkers: 1, maxLiveRuns: 8, delayMs: 0 });
    await engine.taskIds();
    let mostBootingAtOnce = 0;
    const sampler = setInterval(
      () => (mostBootingAtOnce = Math.max(mostBootingAtOnce, engine.stats().bootingWorkers)),
      2,
    );
    const chats = Array.from(
      { length: 5 },
      (_, i) => new NodeChat({ id: uniqueChatId(`burst${i}`), transport: makeTransport(engine).transport }),
    );
    await Promise.all(chats.map((chat, i) => chat.sendMessage({ text: `burst ${i}` })));
    clearInterval(sampler);
    chats.forEach((chat, i) => expect(textOf(chat.messages[1])).toBe(expectedReply(`burst ${i}`, 1)));
    expect(mostBootingAtOnce).toBe(1);
    await waitFor(() => engine.stats().warmWorkers === 1);
  });
});

describe("development reloads", () => {
  it("runs changed task code in the next run when watching", async () => {
    const taskDir = fs.mkdtempSync(path.join(os.tmpdir(), "local-trigger-tasks-"));
    const scriptedModel = path.resolve("app/local-trigger/testing/scripted-model.ts");
    const writeTask = (version: string) =>
      fs.writeFileSync(
        path.join(taskDir, "versioned.ts"),
        `import { chat } from "@trigger.dev/sdk/ai";
import { streamText } from "ai";
import { createScriptedModel } from ${JSON.stringify(scriptedModel)};
export const versioned = chat.agent({
  id: "echo",
  run: async ({ messages, signal }) =>
    streamText({ ...chat.toStreamTextOptions(), model: createScriptedModel({ delayMs: 0, prefix: "${version}: " }), messages, abortSignal: signal }),
});
`,
      );
    writeTask("v1");
    const engine = await start({ taskDirs: [taskDir], watch: true });
    const ask = async (label: string) => {
      const chatSession = new NodeChat({ id: uniqueChatId(label), transport: makeTransport(engine).transport });
      await chatSession.sendMessage({ text: "which version?" });
      return textOf(chatSession.messages[1]);
    };
    expect(await ask("before")).toBe(`v1: ${expectedReply("which version?", 1)}`);

    writeTask("v2");
    await waitFor(async () => (await ask("after")).startsWith("v2: "), { timeoutMs: 20_000, intervalMs: 300 });
  });
});
