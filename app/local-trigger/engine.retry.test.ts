import { chat } from "@trigger.dev/sdk/ai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LocalEngine } from "./engine.server";
import { FAILED_RUN_MESSAGE } from "./sessions/session-runs.server";
import { makeTransport, startTestEngine, uniqueChatId } from "./testing/harness";
import { NodeChat, textOf } from "./testing/node-chat";

/*
 * Runs are retried as Trigger.dev retries them: a failed attempt starts again
 * in a fresh worker, after the backoff of the task's `retry` config, with
 * `ctx.attempt.number` one higher; a run that fails on its last attempt ends
 * the turn with an error the client sees. Driven through the unmodified
 * transport inside the AI SDK's AbstractChat (what useChat wraps), against the
 * agents in testing/tasks/retrying-agent.ts. `retrying` has
 * `retry: { maxAttempts: 3, factor: 2, minTimeoutInMs: 20, maxTimeoutInMs: 100, randomize: false }`.
 */

let engine: LocalEngine;
const logLines: string[] = [];

beforeAll(async () => {
  engine = await startTestEngine({ warmWorkers: 1, log: (line) => logLines.push(line) });
});

afterAll(async () => {
  await engine?.close();
});

function chatWith(task: "retrying" | "strict", clientData: Record<string, unknown>) {
  const start = chat.createStartSessionAction(task);
  const { transport } = makeTransport(engine, {
    task,
    clientData,
    startSession: async ({ chatId, clientData: data }) => start({ chatId, clientData: data }),
  });
  return new NodeChat({ id: uniqueChatId(task), transport });
}

const transcript = (chatSession: NodeChat) => chatSession.messages.map((message) => [message.role, textOf(message)]);

/** The engine's log lines about the runs of one session. */
function runLog(sessionId: string) {
  const runIds = new Set(
    logLines.flatMap((line) => {
      const match = /^run (\S+) started for (\S+)/.exec(line);
      return match && match[2] === sessionId ? [match[1]!] : [];
    }),
  );
  return logLines.filter((line) => [...runIds].some((runId) => line.startsWith(`run ${runId} `)));
}

async function sessionIdOf(chatSession: NodeChat) {
  const response = await fetch(`${engine.apiURL}/api/v1/sessions/${chatSession.id}`, {
    headers: { Authorization: `Bearer ${engine.secretKey}` },
  });
  return ((await response.json()) as { id: string }).id;
}

describe("retries (Trigger.dev: a failed attempt is retried per the task's retry config)", () => {
  it("retries a run that fails at boot with the config's backoff and a higher ctx.attempt.number, and attempt 3 answers normally", async () => {
    const chatSession = chatWith("retrying", { failAttempts: 2 });
    await chatSession.sendMessage({ text: "hello" });
    expect(chatSession.error).toBeUndefined();
    expect(transcript(chatSession)).toEqual([
      ["user", "hello"],
      ["assistant", '[attempt 3] Reply to "hello" after 1 prompt messages. w1 w2 w3 w4 w5 w6 w7 w8'],
    ]);
    const lines = runLog(await sessionIdOf(chatSession));
    // minTimeoutInMs 20, factor 2: 20 ms before attempt 2, 40 ms before attempt 3; one run throughout.
    expect(lines.filter((line) => / retries in /.test(line)).map((line) => line.replace(/^run \S+ /, ""))).toEqual([
      "retries in 20 ms as attempt 2",
      "retries in 40 ms as attempt 3",
    ]);
    expect(lines.filter((line) => / started for /.test(line))).toHaveLength(1);
  });

  it("retries a run that fails mid-turn, and the next attempt answers that message with the history", async () => {
    const chatSession = chatWith("retrying", { failTurnAttempts: 1 });
    await chatSession.sendMessage({ text: "first" });
    await chatSession.sendMessage({ text: "second" });
    expect(chatSession.error).toBeUndefined();
    expect(transcript(chatSession)).toEqual([
      ["user", "first"],
      ["assistant", '[attempt 2] Reply to "first" after 1 prompt messages. w1 w2 w3 w4 w5 w6 w7 w8'],
      ["user", "second"],
      ["assistant", '[attempt 2] Reply to "second" after 3 prompt messages. w1 w2 w3 w4 w5 w6 w7 w8'],
    ]);
  });

  it("ends the turn with an error the client sees when every attempt fails, and the next message gets one too", async () => {
    const chatSession = chatWith("retrying", { failAttempts: 99 });
    await chatSession.sendMessage({ text: "hello" });
    expect(chatSession.status).toBe("error");
    expect(chatSession.error?.message).toBe(FAILED_RUN_MESSAGE);
    await chatSession.sendMessage({ text: "again" });
    expect(chatSession.status).toBe("error");
    expect(chatSession.error?.message).toBe(FAILED_RUN_MESSAGE);
    expect(transcript(chatSession)).toEqual([
      ["user", "hello"],
      ["user", "again"],
    ]);
    const lines = runLog(await sessionIdOf(chatSession));
    // Each run stops at maxAttempts (3): attempt 3 fails for good, with no fourth.
    expect(lines.filter((line) => / attempt 3 failed: /.test(line)).length).toBeGreaterThanOrEqual(2);
    expect(lines.some((line) => / attempt 4 /.test(line))).toBe(false);
    expect(lines.some((line) => /failed for good; ending the turn/.test(line))).toBe(true);
  });

  it("does not retry an AbortTaskRunError, as the SDK's task executor does not", async () => {
    const chatSession = chatWith("retrying", { abort: true });
    await chatSession.sendMessage({ text: "hello" });
    expect(chatSession.error?.message).toBe(FAILED_RUN_MESSAGE);
    const lines = runLog(await sessionIdOf(chatSession));
    expect(lines.some((line) => / attempt 1 failed: AbortTaskRunError/.test(line))).toBe(true);
    expect(lines.some((line) => / retries in /.test(line))).toBe(false);
  });

  it("gives a chat.agent (one attempt, as the SDK sets) that fails on a clientDataSchema mismatch an error at once", async () => {
    const chatSession = chatWith("strict", { userId: 42 });
    await chatSession.sendMessage({ text: "hello" });
    expect(chatSession.status).toBe("error");
    expect(chatSession.error?.message).toBe(FAILED_RUN_MESSAGE);
    const lines = runLog(await sessionIdOf(chatSession));
    expect(lines.some((line) => / retries in /.test(line))).toBe(false);
    expect(lines.some((line) => /continuing .* in a new run/.test(line))).toBe(false);
    // It was not the engine's "stopped unexpectedly" crash handling: the task threw.
    expect(lines.some((line) => /attempt 1 failed: .*userId/s.test(line))).toBe(true);
  });
});
