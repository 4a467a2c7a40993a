import fs from "node:fs";
import path from "node:path";
import { sessions } from "@trigger.dev/sdk";
import type { UIMessage } from "ai";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { LocalEngine } from "./engine.server";
import { CRASHED_TURN_MESSAGE, FAILED_RUN_MESSAGE } from "./sessions/session-runs.server";
import {
  expectedReply,
  makeTransport,
  mintChatToken,
  sleep,
  startTestEngine,
  tempDataDir,
  uniqueChatId,
  waitFor,
} from "./testing/harness";
import { NodeChat, textOf } from "./testing/node-chat";

/*
 * A damaged data folder costs only what is damaged. Each case runs a real
 * conversation, stops the engine, damages one file the way a crash or a
 * failing disk would, starts the engine again on the folder, and checks
 * exactly what was kept, that sequence numbers go on from the highest ever
 * written, that one line reports the repair, and that the next turn works
 * with the whole conversation behind it.
 */

const engines: LocalEngine[] = [];
afterEach(async () => {
  await Promise.all(engines.splice(0).map((engine) => engine.close()));
});

type Seqs = { out: number[]; in: number[] };

async function seqsOf(engine: LocalEngine, chatId: string): Promise<Seqs> {
  const read = async (io: "in" | "out") => {
    const response = await fetch(`${engine.apiURL}/realtime/v1/sessions/${chatId}/${io}/records`, {
      headers: { Authorization: `Bearer ${engine.secretKey}` },
    });
    return ((await response.json()) as { records: { seqNum: number }[] }).records.map((record) => record.seqNum);
  };
  return { out: await read("out"), in: await read("in") };
}

/** A conversation of `turns` turns on a fresh data folder, then the engine stops; returns what a restart needs. */
async function conversationThenStop(turns: number) {
  const dataDir = tempDataDir();
  const first = await startTestEngine({ dataDir, delayMs: 0 });
  const port = Number(new URL(first.apiURL).port);
  const chatId = uniqueChatId("damage");
  const chat = new NodeChat({ id: chatId, transport: makeTransport(first).transport });
  for (let turn = 1; turn <= turns; turn++) await chat.sendMessage({ text: `turn ${turn}` });
  // The post-turn snapshot lands just after the answer.
  await waitFor(async () => {
    const transcript = await fetch(`${first.apiURL}/api/v1/sessions/${chatId}/transcript`, {
      headers: { Authorization: `Bearer ${first.secretKey}` },
    });
    return ((await transcript.json()) as { messages: unknown[] }).messages.length === turns * 2;
  });
  const friendlyId = (await sessions.retrieve(chatId)).id;
  const before = await seqsOf(first, chatId);
  await first.close();
  const sessionDir = path.join(dataDir, "sessions", friendlyId);
  return { dataDir, port, chatId, chat, before, file: (name: string) => path.join(sessionDir, name) };
}

async function restart(dataDir: string, port: number) {
  const repairs: string[] = [];
  const engine = await startTestEngine({ dataDir, port, delayMs: 0, log: (message) => repairs.push(message) });
  engines.push(engine);
  return {
    engine,
    repairs: () => repairs.filter((line) => /damaged|torn|not a valid record|is empty|restored|previous/.test(line)),
  };
}

/** Damages line `index` (0-based) of a JSONL file: its second half becomes garbage, or all of it becomes `replacement`. */
function damageLine(file: string, index: number, replacement?: string) {
  const lines = fs.readFileSync(file, "utf8").split("\n");
  const line = lines[index]!;
  lines[index] = replacement ?? `${line.slice(0, line.length / 2)}\u0000\u0000#`;
  fs.writeFileSync(file, lines.join("\n"));
}

const highest = (seqs: number[]) => Math.max(...seqs);

describe("a damaged data folder", () => {
  it("keeps every other record of .out when a line in the middle is damaged", async () => {
    const { dataDir, port, chatId, chat, before, file } = await conversationThenStop(2);
    const lines = fs.readFileSync(file("out.jsonl"), "utf8").trim().split("\n");
    const damagedSeq = (JSON.parse(lines[10]!) as { seq_num: number }).seq_num;
    damageLine(file("out.jsonl"), 10);

    const { engine, repairs } = await restart(dataDir, port);
    const after = await seqsOf(engine, chatId);
    expect(after.out).toEqual(before.out.filter((seq) => seq !== damagedSeq));
    expect(after.in).toEqual(before.in);
    expect(repairs()).toEqual([expect.stringMatching(/out\.jsonl: line 11 is not a valid record/)]);

    await chat.sendMessage({ text: "after the damage" });
    expect(textOf(chat.messages[5])).toBe(expectedReply("after the damage", 5));
    expect(Math.min(...(await seqsOf(engine, chatId)).out.filter((seq) => !before.out.includes(seq)))).toBeGreaterThan(
      highest(before.out),
    );
  });

  it("keeps every other record of .in when a line in the middle is damaged", async () => {
    const { dataDir, port, chatId, chat, before, file } = await conversationThenStop(3);
    expect(before.in).toEqual([0, 1, 2]);
    damageLine(file("in.jsonl"), 1);

    const { engine, repairs } = await restart(dataDir, port);
    expect((await seqsOf(engine, chatId)).in).toEqual([0, 2]);
    expect(repairs()).toEqual([expect.stringMatching(/in\.jsonl: line 2 is not a valid record/)]);

    await chat.sendMessage({ text: "after the damage" });
    expect(textOf(chat.messages[7])).toBe(expectedReply("after the damage", 7));
    expect((await seqsOf(engine, chatId)).in).toEqual([0, 2, 3]);
  });

  it("answers the next message when the first line of .in is damaged, instead of losing it", async () => {
    const { dataDir, port, chatId, chat, before, file } = await conversationThenStop(2);
    damageLine(file("in.jsonl"), 0, "not json at all");

    const { engine, repairs } = await restart(dataDir, port);
    expect((await seqsOf(engine, chatId)).in).toEqual(before.in.slice(1));
    expect(repairs()).toHaveLength(1);

    await chat.sendMessage({ text: "still heard?" });
    expect(textOf(chat.messages[5])).toBe(expectedReply("still heard?", 5));
    // Numbered above every seq the agent has already consumed, so it is not skipped as old.
    expect((await seqsOf(engine, chatId)).in.at(-1)).toBe(highest(before.in) + 1);
  });

  it("drops a torn final line of .out and numbers on above it", async () => {
    const { dataDir, port, chatId, chat, before, file } = await conversationThenStop(2);
    const lastLine = fs.readFileSync(file("out.jsonl"), "utf8").trim().split("\n").at(-1)!;
    const tornSeq = (JSON.parse(lastLine) as { seq_num: number }).seq_num + 1;
    fs.appendFileSync(file("out.jsonl"), `{"seq_num":${tornSeq},"timestamp":1,"body":"{\\"da`);

    const { engine, repairs } = await restart(dataDir, port);
    expect((await seqsOf(engine, chatId)).out).toEqual(before.out);
    expect(repairs()).toEqual([expect.stringMatching(/torn final line/)]);

    await chat.sendMessage({ text: "after the tear" });
    expect(textOf(chat.messages[5])).toBe(expectedReply("after the tear", 5));
    const added = (await seqsOf(engine, chatId)).out.filter((seq) => !before.out.includes(seq));
    expect(Math.min(...added)).toBeGreaterThan(tornSeq);
  });

  it("falls back to the previous session row when session.json is torn", async () => {
    const { dataDir, port, chatId, chat, file } = await conversationThenStop(2);
    const previous = JSON.parse(fs.readFileSync(file("session.json.prev"), "utf8")) as Record<string, unknown>;
    const current = fs.readFileSync(file("session.json"), "utf8");
    fs.writeFileSync(file("session.json"), current.slice(0, current.length / 2));

    const { engine, repairs } = await restart(dataDir, port);
    const session = await sessions.retrieve(chatId);
    expect(session).toMatchObject({
      id: previous.friendlyId,
      externalId: chatId,
      tags: previous.tags,
      createdAt: new Date(previous.createdAt as string),
    });
    expect(repairs()).toEqual([expect.stringMatching(/session\.json is damaged; restored the previous version/)]);
    expect(fs.existsSync(file("session.json.damaged"))).toBe(true);

    await chat.sendMessage({ text: "still mine?" });
    expect(textOf(chat.messages[5])).toBe(expectedReply("still mine?", 5));
    expect(engine.stats().sessions).toBe(1);
  });

  it("falls back to the previous snapshot when snapshot.blob is torn, and the next turn makes the history whole again", async () => {
    const { dataDir, port, chatId, chat, file } = await conversationThenStop(2);
    const blob = fs.readFileSync(file("snapshot.blob"), "utf8");
    fs.writeFileSync(file("snapshot.blob"), blob.slice(0, Math.floor(blob.length * 0.7)));

    const { engine, repairs } = await restart(dataDir, port);
    const transcript = async () => {
      const response = await fetch(`${engine.apiURL}/api/v1/sessions/${chatId}/transcript`, {
        headers: { Authorization: `Bearer ${engine.secretKey}` },
      });
      return ((await response.json()) as { messages: { id: string }[] }).messages.map((message) => message.id);
    };
    // The previous snapshot is the one saved as turn 2 began: the first three messages.
    expect(await transcript()).toEqual(chat.messages.slice(0, 3).map((message) => message.id));
    expect(repairs()).toEqual([expect.stringMatching(/snapshot\.blob is damaged; using the previous snapshot/)]);

    // The continuation replays the rest of turn 2 from .out: nothing is lost for good.
    await chat.sendMessage({ text: "what do you remember?" });
    expect(textOf(chat.messages[5])).toBe(expectedReply("what do you remember?", 5));
    await waitFor(async () => (await transcript()).length === 6);
    expect(await transcript()).toEqual(chat.messages.map((message) => message.id));
  });

  it("ends, with an error, a turn whose stored message makes the agent fail, instead of retrying forever", async () => {
    const { dataDir, port, chatId, chat, file } = await conversationThenStop(1);
    // A message that made it to disk but kills the agent (the engine refuses such messages at the door today).
    const lastIn = JSON.parse(fs.readFileSync(file("in.jsonl"), "utf8").trim().split("\n").at(-1)!) as {
      seq_num: number;
    };
    const poison = {
      kind: "message",
      payload: { chatId, trigger: "submit-message", message: { id: "poison", role: "user", parts: [null] } },
    };
    const seq = lastIn.seq_num + 1;
    fs.appendFileSync(
      file("in.jsonl"),
      `${JSON.stringify({ seq_num: seq, timestamp: Date.now(), body: JSON.stringify({ data: JSON.stringify(poison), id: "poison" }), headers: [] })}\n`,
    );
    const row = JSON.parse(fs.readFileSync(file("session.json"), "utf8")) as Record<string, unknown>;
    fs.writeFileSync(file("session.json"), JSON.stringify({ ...row, turnInProgress: true, lastMessageSeq: seq }));

    const lines: string[] = [];
    const engine = await startTestEngine({ dataDir, port, delayMs: 0, log: (line) => lines.push(line) });
    engines.push(engine);
    const runsStarted = () => lines.filter((line) => /^run \S+ started for/.test(line)).length;
    await waitFor(() => lines.some((line) => /ending the turn of .* with an error/.test(line)), { timeoutMs: 20_000 });
    await sleep(1_500);
    // The agent throws on it (a chat.agent has one attempt), so the first run that reads it fails for good.
    expect(runsStarted()).toBe(1);
    const out = await fetch(`${engine.apiURL}/realtime/v1/sessions/${chatId}/out/records`, {
      headers: { Authorization: `Bearer ${engine.secretKey}` },
    });
    const records = ((await out.json()) as { records: { data: { type?: string; errorText?: string } }[] }).records;
    expect(records.some((record) => record.data.type === "error" && record.data.errorText === FAILED_RUN_MESSAGE)).toBe(
      true,
    );

    // A page opened now picks the chat up from its transcript, past the failed turn, and goes on.
    const transcript = await fetch(`${engine.apiURL}/api/v1/sessions/${chatId}/transcript`, {
      headers: { Authorization: `Bearer ${engine.secretKey}` },
    });
    const { messages, cursors } = (await transcript.json()) as {
      messages: UIMessage[];
      cursors: { lastOutEventId: string };
    };
    expect(messages.map((message) => message.id)).toEqual(chat.messages.map((message) => message.id));
    const reloaded = new NodeChat({
      id: chatId,
      messages,
      transport: makeTransport(engine, {
        sessions: { [chatId]: { publicAccessToken: await mintChatToken(chatId), lastEventId: cursors.lastOutEventId } },
      }).transport,
    });
    await reloaded.sendMessage({ text: "and now?" });
    expect(reloaded.status).toBe("ready");
    expect(textOf(reloaded.messages.at(-1))).toBe(expectedReply("and now?", 3));
  });

  it("refuses to start on an empty secret key that chats depend on, naming the file", async () => {
    const { dataDir } = await conversationThenStop(1);
    fs.writeFileSync(path.join(dataDir, "secret-key"), "");
    await expect(startTestEngine({ dataDir })).rejects.toThrow(
      new RegExp(`^The secret file ${path.join(dataDir, "secret-key")} is empty, and 1 chat uses it\\.`),
    );
    // Nothing was changed: the operator decides.
    expect(fs.readFileSync(path.join(dataDir, "secret-key"), "utf8")).toBe("");
  });

  it("generates a new secret key when the file is empty and nothing depends on it yet", async () => {
    const dataDir = tempDataDir();
    fs.writeFileSync(path.join(dataDir, "secret-key"), "\n");
    const { engine, repairs } = await restart(dataDir, 0);
    expect(engine.secretKey).toMatch(/^tr_dev_local_[0-9a-f]{48}$/);
    expect(fs.readFileSync(path.join(dataDir, "secret-key"), "utf8").trim()).toBe(engine.secretKey);
    expect(repairs()).toEqual([expect.stringMatching(/secret-key is empty; nothing depended on it yet/)]);
    const chat = new NodeChat({ id: uniqueChatId("fresh"), transport: makeTransport(engine).transport });
    await chat.sendMessage({ text: "hello" });
    expect(textOf(chat.messages[1])).toBe(expectedReply("hello", 1));
  });
});

describe("a full disk", () => {
  /** Makes every write under `dir` fail as a full disk does, until the returned function is called. */
  function fillDisk(dir: string) {
    const full = () =>
      Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC", syscall: "write" });
    const { appendFileSync, openSync } = fs;
    const append = vi.spyOn(fs, "appendFileSync").mockImplementation((file, ...rest) => {
      if (String(file).startsWith(dir)) throw full();
      return appendFileSync(file, ...rest);
    });
    const open = vi.spyOn(fs, "openSync").mockImplementation((file, flags, ...rest) => {
      if (String(file).startsWith(dir) && flags !== "r" && flags !== undefined) throw full();
      return openSync(file, flags, ...rest);
    });
    return () => {
      append.mockRestore();
      open.mockRestore();
    };
  }

  it("answers 503 while nothing can be saved, keeps running through failed turns, and goes on once there is room", async () => {
    const dataDir = tempDataDir();
    const lines: string[] = [];
    const engine = await startTestEngine({ dataDir, delayMs: 20, log: (line) => lines.push(line) });
    engines.push(engine);
    const chatId = uniqueChatId("full");
    const chat = new NodeChat({ id: chatId, transport: makeTransport(engine).transport });
    await chat.sendMessage({ text: "before" });

    // Full in the middle of an answer: the run cannot write, fails, and so does its continuation.
    const cutOff = new NodeChat({ id: uniqueChatId("cut"), transport: makeTransport(engine).transport });
    const cutOffSending = cutOff.sendMessage({ text: "a long answer when the disk fills" });
    await waitFor(() => textOf(cutOff.messages[1]).includes("w2"));
    const makeRoom = fillDisk(dataDir);
    try {
      const token = await mintChatToken(chatId);
      const message = { id: "u-full", role: "user", parts: [{ type: "text", text: "while full" }] };
      const refused = await fetch(`${engine.apiURL}/realtime/v1/sessions/${chatId}/in/append`, {
        method: "POST",
        headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
        body: JSON.stringify({ kind: "message", payload: { message, chatId, trigger: "submit-message" } }),
      });
      expect(refused.status).toBe(503);
      expect(refused.headers.get("retry-after")).toBe("30");
      expect(((await refused.json()) as { error: string }).error).toMatch(/disk is full/);
      await waitFor(() => lines.some((line) => /could not end the turn .* retrying/.test(line)), { timeoutMs: 15_000 });
    } finally {
      makeRoom();
    }
    // The turn the disk cut off ends with an error once it can be saved, rather than leaving its client waiting.
    await cutOffSending;
    expect(cutOff.status).toBe("error");
    expect(cutOff.error?.message).toBe(CRASHED_TURN_MESSAGE);

    await chat.sendMessage({ text: "after" });
    expect(textOf(chat.messages.at(-1))).toBe(expectedReply("after", 3));
  });

  it("refuses to start on a full disk with one line naming the folder", async () => {
    const dataDir = tempDataDir();
    const makeRoom = fillDisk(dataDir);
    try {
      await expect(startTestEngine({ dataDir })).rejects.toThrow(
        new RegExp(`^The data folder ${dataDir} cannot be used: ENOSPC: no space left on device`),
      );
    } finally {
      makeRoom();
    }
  });
});
