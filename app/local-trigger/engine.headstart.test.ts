import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { chat as chatServer } from "@trigger.dev/sdk/chat-server";
import { chat, defaultStorage } from "@trigger.dev/sdk/ai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LocalEngine } from "./engine.server";
import {
  expectedReply,
  freePort,
  makeTransport,
  startChatSession,
  startTestEngine,
  TASK_ID,
  tempDataDir,
  uniqueChatId,
  useEngine,
  waitFor,
} from "./testing/harness";
import { NodeChat, textOf } from "./testing/node-chat";
import { createScriptedModel } from "./testing/scripted-model";

/*
 * `chat.headStart` against the engine, through the unmodified SDK: the warm
 * server creates the session (which starts a `handover-prepare` run), streams
 * step 1 to the browser while it tees it into `.out` through the S2
 * emulation, then hands the turn over on `.in`. The agent's worker boots
 * behind a gate the test opens, so the first answer provably streams before
 * the agent could have written a word.
 */

const WARM_PREFIX = "warm: ";

let engine: LocalEngine;
let gate: string;
let server: http.Server;
let headStartURL: string;

beforeAll(async () => {
  gate = path.join(tempDataDir(), "boot-gate");
  fs.writeFileSync(gate, "open");
  engine = await startTestEngine({ warmWorkers: 0, workerEnv: { ECHO_AGENT_BOOT_GATE: gate } });
  // The engine boots one worker to learn the task ids; a session takes it, and no worker is left booted.
  await engine.taskIds();
  await startChatSession({ chatId: uniqueChatId("takes-the-booted-worker") });
  fs.rmSync(gate);
  const handler = chatServer.headStart({
    agentId: TASK_ID,
    run: async ({ streamText }) => streamText({ model: createScriptedModel({ delayMs: 0, prefix: WARM_PREFIX }) }),
  });
  const port = await freePort();
  server = http.createServer(chatServer.toNodeListener(handler));
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  headStartURL = `http://127.0.0.1:${port}/api/chat`;
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  await engine?.close();
});

describe("chat.headStart on the engine", () => {
  it("streams the first answer from the warm server before the agent boots, and the agent answers the next turn with the whole history", async () => {
    useEngine(engine);
    const chatId = uniqueChatId("head-start");
    const { transport, calls } = makeTransport(engine, { headStart: headStartURL });
    const chatSession = new NodeChat({ id: chatId, transport });

    const firstTurn = chatSession.sendMessage({ text: "hello" });
    const warmAnswer = `${WARM_PREFIX}${expectedReply("hello", 1)}`;
    await waitFor(() => textOf(chatSession.messages[1]) === warmAnswer);
    // The whole first answer is on screen while the agent's only worker is still booting.
    expect(fs.existsSync(gate)).toBe(false);
    const run = engine.runFor(chatId);
    expect(run?.status).toBe("EXECUTING");
    expect(chatSession.status).toBe("streaming");

    fs.writeFileSync(gate, "open");
    await firstTurn;
    expect(chatSession.status).toBe("ready");
    expect(chatSession.error).toBeUndefined();
    // The first turn went through the warm server only: no session start, no token refresh.
    expect(calls).toEqual({ accessToken: 0, startSession: 0 });

    await chatSession.sendMessage({ text: "again" });
    expect(chatSession.messages.map((message) => message.role)).toEqual(["user", "assistant", "user", "assistant"]);
    // The agent answered, with the head start's turn in its history, and the first answer was not replayed.
    expect(textOf(chatSession.messages[1])).toBe(warmAnswer);
    expect(textOf(chatSession.messages[3])).toBe(expectedReply("again", 3));
    expect(engine.runFor(chatId)?.id).toBe(run?.id);

    const saved = await chat.createLoadTranscriptAction(defaultStorage)({ chatId });
    expect(saved.messages.map((message) => [message.role, textOf(message)])).toEqual([
      ["user", "hello"],
      ["assistant", warmAnswer],
      ["user", "again"],
      ["assistant", expectedReply("again", 3)],
    ]);
  });
});
