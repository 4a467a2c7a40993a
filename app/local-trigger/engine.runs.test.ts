import { auth, batch, runs, tasks, wait } from "@trigger.dev/sdk";
import { chat } from "@trigger.dev/sdk/ai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LocalEngine } from "./engine.server";
import { makeTransport, startTestEngine, tempDataDir, uniqueChatId, useEngine, waitFor } from "./testing/harness";
import { NodeChat, textOf } from "./testing/node-chat";
import type {
  approvalTask,
  childTask,
  fanOutTask,
  flakyTask,
  parentTask,
  sleeperTask,
  subAgentChat,
} from "./testing/tasks/run-api-tasks";

/*
 * The run-level API through the unmodified SDK clients: `tasks.trigger`,
 * `runs.retrieve` and `runs.cancel` from a backend, `triggerAndWait` from a
 * chat agent's tool, batches, run metadata, and waitpoint tokens, with the scopes the
 * SDK's reference gives public tokens.
 */

const CHILD = "run-api-child";
const APPROVAL = "run-api-approval";
const PARENT = "run-api-parent";
const SUB_AGENT_CHAT = "run-api-sub-agent-chat";

let engine: LocalEngine;
let dataDir: string;

beforeAll(async () => {
  dataDir = tempDataDir();
  engine = await startTestEngine({ dataDir, warmWorkers: 1 });
});

afterAll(async () => {
  await engine?.close();
});

const finished = (id: string, timeoutMs = 20_000) =>
  waitFor(
    async () => {
      const run = await runs.retrieve(id);
      return run.isCompleted ? run : undefined;
    },
    { timeoutMs, intervalMs: 50 },
  );

/** The status an `ApiError` from the SDK carries. */
const statusOf = (promise: Promise<unknown>) =>
  promise.then(
    () => "resolved",
    (error: { status?: number }) => error.status,
  );

describe("tasks.trigger and runs.retrieve", () => {
  it("runs a triggered task in a worker and reports its output, timestamps and attempt", async () => {
    useEngine(engine);
    const handle = await tasks.trigger<typeof childTask>(CHILD, { text: "hello" }, { tags: ["t-one"] });
    expect(handle.id).toMatch(/^run_/);

    const run = await finished(handle.id);
    expect(run.status).toBe("COMPLETED");
    expect(run.isSuccess).toBe(true);
    expect(run.taskIdentifier).toBe(CHILD);
    expect(run.payload).toEqual({ text: "hello" });
    // SuperJSON output: the date comes back as the JSON API returns it.
    expect(run.output).toEqual({ echo: "hello", upper: "HELLO", at: "2026-01-02T03:04:05.000Z" });
    expect(run.attemptCount).toBe(1);
    expect(run.tags).toEqual(["t-one"]);
    expect(run.startedAt).toBeInstanceOf(Date);
    expect(run.finishedAt!.getTime()).toBeGreaterThanOrEqual(run.startedAt!.getTime());
    // `metadata.parent` of a run with no parent is the run itself, as on Trigger.dev.
    expect(run.metadata).toEqual({ progress: 1, steps: ["started", "done"], children: ["hello"] });
  });

  it("reports a task's error as FAILED", async () => {
    useEngine(engine);
    const handle = await tasks.trigger<typeof childTask>(CHILD, { text: "nope", fail: true });
    const run = await finished(handle.id);
    expect(run.status).toBe("FAILED");
    expect(run.isFailed).toBe(true);
    expect(run.error?.message).toBe('child refused "nope"');
    expect(run.output).toBeUndefined();
  });

  it("retries a failed run as its task's retry config asks, and counts the attempts", async () => {
    useEngine(engine);
    const handle = await tasks.trigger<typeof flakyTask>("run-api-flaky", undefined);
    const run = await finished(handle.id);
    expect(run.status).toBe("COMPLETED");
    expect(run.output).toEqual({ attempt: 2 });
    expect(run.attemptCount).toBe(2);
  });

  it("returns the same run for the same idempotency key", async () => {
    useEngine(engine);
    const key = uniqueChatId("key");
    const first = await tasks.trigger<typeof childTask>(CHILD, { text: "once" }, { idempotencyKey: key });
    const second = await tasks.trigger<typeof childTask>(CHILD, { text: "twice" }, { idempotencyKey: key });
    expect(second.id).toBe(first.id);
    expect((await finished(first.id)).payload).toEqual({ text: "once" });
  });

  it("cancels a running run", async () => {
    useEngine(engine);
    const handle = await tasks.trigger<typeof childTask>(CHILD, { text: "slow", holdMs: 60_000 });
    // Metadata is flushed while the run works, and shows in retrieve.
    const running = await waitFor(
      async () => {
        const run = await runs.retrieve(handle.id);
        return run.metadata?.progress === 0.5 ? run : undefined;
      },
      { timeoutMs: 20_000 },
    );
    expect(running.status).toBe("EXECUTING");
    expect(running.isExecuting).toBe(true);
    expect(running.metadata).toEqual({ progress: 0.5, steps: ["started"], children: ["slow"] });

    await runs.cancel(handle.id);
    const run = await finished(handle.id);
    expect(run.status).toBe("CANCELED");
    expect(run.isCancelled).toBe(true);
    expect(run.metadata).toEqual({ progress: 0.5, steps: ["started"], children: ["slow"] });
  });

  it("keeps a finished run's final state across a restart", async () => {
    useEngine(engine);
    const handle = await tasks.trigger<typeof childTask>(CHILD, { text: "durable" });
    await finished(handle.id);
    await engine.close();
    engine = await startTestEngine({ dataDir, warmWorkers: 1 });
    const run = await runs.retrieve(handle.id);
    expect(run.status).toBe("COMPLETED");
    expect(run.output).toMatchObject({ upper: "DURABLE" });
  });
});

describe("triggerAndWait from a task", () => {
  it("resumes the parent with the child's output", async () => {
    useEngine(engine);
    const handle = await tasks.trigger<typeof parentTask>(PARENT, { text: "from a parent" });
    const run = await finished(handle.id);
    expect(run.output).toEqual({ child: "FROM A PARENT" });
    expect(run.relatedRuns.children).toHaveLength(1);
    expect(run.relatedRuns.children![0]).toMatchObject({ status: "COMPLETED", triggerFunction: "triggerAndWait" });
    // The child's `metadata.parent` operations land on its parent.
    expect(run.metadata).toEqual({ children: ["from a parent"] });
  });

  it("cancels the child a canceled parent is waiting on", async () => {
    useEngine(engine);
    const handle = await tasks.trigger<typeof parentTask>(PARENT, { text: "hold", holdMs: 60_000 });
    const childId = await waitFor(
      async () => {
        const run = await runs.retrieve(handle.id);
        const child = run.relatedRuns.children?.[0];
        return run.status === "WAITING" && child?.status === "EXECUTING" ? child.id : undefined;
      },
      { timeoutMs: 20_000 },
    );
    await runs.cancel(handle.id);
    expect((await finished(handle.id)).status).toBe("CANCELED");
    expect((await finished(childId)).status).toBe("CANCELED");
  });
});

describe("batches", () => {
  it("runs a batch triggered from a backend", async () => {
    useEngine(engine);
    const handle = await tasks.batchTrigger<typeof childTask>(CHILD, [
      { payload: { text: "one" } },
      { payload: { text: "two" } },
    ]);
    expect(handle.runCount).toBe(2);
    const retrieved = await batch.retrieve(handle.batchId);
    expect(retrieved.status).toBe("COMPLETED");
    expect(retrieved.runs).toHaveLength(2);
    const outputs = await Promise.all(retrieved.runs.map(async (id) => (await finished(id)).output));
    expect(outputs).toMatchObject([{ upper: "ONE" }, { upper: "TWO" }]);
    const run = await runs.retrieve(retrieved.runs[0]!);
    expect(run).toMatchObject({ batchId: handle.batchId, triggerFunction: "batchTrigger" });
    // The batch's public token reads its runs.
    await auth.withAuth({ accessToken: handle.publicAccessToken }, async () => {
      expect((await runs.retrieve(retrieved.runs[1]!)).output).toMatchObject({ upper: "TWO" });
    });
  });

  it("resumes batchTriggerAndWait with every item's result, in order", async () => {
    useEngine(engine);
    const handle = await tasks.trigger<typeof fanOutTask>("run-api-fan-out", { texts: ["a", "please fail", "c"] });
    const run = await finished(handle.id);
    expect(run.output).toEqual(["A", 'error: Error: child refused "please fail"', "C"]);
    expect(run.relatedRuns.children).toHaveLength(3);
    expect(run.relatedRuns.children![0]).toMatchObject({ triggerFunction: "batchTriggerAndWait" });
  });
});

describe("triggerAndWait from a chat agent's tool", () => {
  it("gives the tool the child's output, and the answer includes it", async () => {
    useEngine(engine);
    const { transport } = makeTransport(engine, {
      task: SUB_AGENT_CHAT,
      startSession: ({ chatId, clientData }) =>
        chat.createStartSessionAction<typeof subAgentChat>(SUB_AGENT_CHAT)({ chatId, clientData }),
    });
    const chatSession = new NodeChat({ id: uniqueChatId("sub-agent"), transport });
    await chatSession.sendMessage({ text: "ask the child" });

    const answer = textOf(chatSession.messages[1]);
    expect(answer).toContain('"upper":"ASK THE CHILD"');
    const childRunId = /"childRunId":"(run_[^"]+)"/.exec(answer)?.[1];
    expect(childRunId).toBeDefined();
    const child = await runs.retrieve(childRunId!);
    expect(child.status).toBe("COMPLETED");
    expect(child.triggerFunction).toBe("triggerAndWait");
    expect(child.depth).toBe(1);
    expect(child.relatedRuns.parent?.id).toBeDefined();
    const parent = await runs.retrieve(child.relatedRuns.parent!.id);
    expect(parent.taskIdentifier).toBe(SUB_AGENT_CHAT);
    // The child's `metadata.parent` operations reached the chat's run.
    expect(parent.metadata).toEqual({ children: ["ask the child"] });
  });

  it("gives the tool the child's error when the child fails", async () => {
    useEngine(engine);
    const { transport } = makeTransport(engine, {
      task: SUB_AGENT_CHAT,
      startSession: ({ chatId, clientData }) =>
        chat.createStartSessionAction<typeof subAgentChat>(SUB_AGENT_CHAT)({ chatId, clientData }),
    });
    const chatSession = new NodeChat({ id: uniqueChatId("sub-agent-fail"), transport });
    await chatSession.sendMessage({ text: "please fail" });
    expect(textOf(chatSession.messages[1])).toContain('child refused \\"please fail\\"');
  });
});

describe("waitpoint tokens", () => {
  it("resumes wait.forToken with the data a backend completes the token with", async () => {
    useEngine(engine);
    const handle = await tasks.trigger<typeof approvalTask>(APPROVAL, {});
    const tokenId = await waitFor(async () => {
      const run = await runs.retrieve(handle.id);
      return run.status === "WAITING" ? (run.metadata?.tokenId as string | undefined) : undefined;
    });
    expect((await wait.retrieveToken(tokenId)).status).toBe("WAITING");

    await wait.completeToken(tokenId, { approved: true, note: "fine" });
    const run = await finished(handle.id);
    expect(run.output).toEqual({ ok: true, output: { approved: true, note: "fine" } });
    const token = await wait.retrieveToken(tokenId);
    expect(token.status).toBe("COMPLETED");
    expect(token.output).toEqual({ approved: true, note: "fine" });
    // Completing it again changes nothing.
    await wait.completeToken(tokenId, { approved: false });
    expect((await wait.retrieveToken(tokenId)).output).toEqual({ approved: true, note: "fine" });
  });

  it("completes a token created by a backend through its callback URL and through its public token", async () => {
    useEngine(engine);
    const byUrl = await wait.createToken({ timeout: "10m", tags: ["approval"] });
    const handle = await tasks.trigger<typeof approvalTask>(APPROVAL, { tokenId: byUrl.id });
    await waitFor(async () => (await runs.retrieve(handle.id)).status === "WAITING");
    const response = await fetch(byUrl.url, { method: "POST", body: JSON.stringify({ approved: true }) });
    expect(response.status).toBe(200);
    expect((await finished(handle.id)).output).toEqual({ ok: true, output: { approved: true } });

    const byToken = await wait.createToken({});
    await auth.withAuth({ accessToken: byToken.publicAccessToken }, () =>
      wait.completeToken(byToken.id, { approved: false }),
    );
    expect((await wait.retrieveToken(byToken.id)).output).toEqual({ approved: false });

    // A tampered callback URL completes nothing.
    const other = await wait.createToken({});
    const forged = other.url.replace(/[0-9a-f]{8}$/, "00000000");
    expect((await fetch(forged, { method: "POST", body: "{}" })).status).toBe(401);
    expect((await wait.retrieveToken(other.id)).status).toBe("WAITING");
  });

  it("times a token out: wait.forToken returns an error and the token reads TIMED_OUT", async () => {
    useEngine(engine);
    const handle = await tasks.trigger<typeof approvalTask>(APPROVAL, { timeout: "1s" });
    const run = await finished(handle.id);
    expect(run.output).toMatchObject({ ok: false, error: expect.stringContaining("timed out") });
    const token = await wait.retrieveToken(run.metadata!.tokenId as string);
    expect(token.status).toBe("TIMED_OUT");
    expect(token.error?.message).toContain("timed out");
  });
});

describe("wait.for", () => {
  it("resumes a run after a wait longer than the SDK waits in place", async () => {
    useEngine(engine);
    const handle = await tasks.trigger<typeof sleeperTask>("run-api-sleeper", undefined);
    expect((await finished(handle.id)).output).toEqual({ woke: true });
  });
});

describe("waits that cannot be served", () => {
  it("fails a run that waits on a token that does not exist", async () => {
    useEngine(engine);
    const handle = await tasks.trigger<typeof approvalTask>(APPROVAL, { tokenId: "waitpoint_doesnotexist" });
    const run = await finished(handle.id);
    expect(run.status).toBe("FAILED");
    expect(run.error?.message).toContain('Waitpoint token "waitpoint_doesnotexist" not found');
  });
});

describe("authorization", () => {
  it("lets a run's public token read that run and nothing else", async () => {
    useEngine(engine);
    const mine = await tasks.trigger<typeof childTask>(CHILD, { text: "mine" });
    const other = await tasks.trigger<typeof childTask>(CHILD, { text: "other" });
    await finished(mine.id);
    await auth.withAuth({ accessToken: mine.publicAccessToken }, async () => {
      expect((await runs.retrieve(mine.id)).output).toMatchObject({ upper: "MINE" });
      expect(await statusOf(runs.retrieve(other.id))).toBe(403);
      expect(await statusOf(runs.cancel(other.id))).toBe(403);
      expect(await statusOf(tasks.trigger(CHILD, { text: "x" }))).toBe(403);
      expect(await statusOf(wait.createToken({}))).toBe(403);
    });
  });

  it("refuses a wrong key, a token for another task, a spent one-time trigger token, and another token's completion", async () => {
    useEngine(engine);
    await auth.withAuth({ accessToken: "tr_dev_wrong_key_0123456789abcdef0123" }, async () => {
      expect(await statusOf(runs.retrieve("run_whatever"))).toBe(401);
    });
    const oneTime = await auth.createTriggerPublicToken(CHILD);
    const otherTask = await auth.createTriggerPublicToken(APPROVAL, { multipleUse: true });
    await auth.withAuth({ accessToken: oneTime }, async () => {
      const handle = await tasks.trigger(CHILD, { text: "from the browser" });
      expect(handle.id).toMatch(/^run_/);
      expect(await statusOf(tasks.trigger(CHILD, { text: "again" }))).toBe(422);
    });
    await auth.withAuth({ accessToken: otherTask }, async () => {
      expect(await statusOf(tasks.trigger(CHILD, { text: "x" }))).toBe(403);
    });

    const first = await wait.createToken({});
    const second = await wait.createToken({});
    await auth.withAuth({ accessToken: first.publicAccessToken }, async () => {
      expect(await statusOf(wait.completeToken(second.id, {}))).toBe(403);
      expect(await statusOf(runs.retrieve("run_anything"))).toBe(403);
    });
    expect((await wait.retrieveToken(second.id)).status).toBe("WAITING");
    expect(await statusOf(runs.retrieve("run_missing"))).toBe(404);
    expect(await statusOf(tasks.trigger("no-such-task", {}))).toBe(404);
  });
});
