import fs from "node:fs";
import path from "node:path";
import { sessions } from "@trigger.dev/sdk";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { LocalEngine } from "./engine.server";
import {
  expectedReply,
  makeTransport,
  mintChatToken,
  sleep,
  startChatSession,
  startTestEngine,
  tempDataDir,
  uniqueChatId,
  waitFor,
} from "./testing/harness";
import { NodeChat, textOf } from "./testing/node-chat";

/*
 * Deleting a session (`engine.deleteSession`, the engine-only call the app
 * makes in local mode) is for good: every token minted for it, earlier ones
 * included, gets 404 on every route, as for a session that never existed;
 * its streams, side channels, snapshots and title leave the data folder;
 * a tombstone keeps its id from being started again, across restarts; and
 * nothing else is touched.
 */

const engines: LocalEngine[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  await Promise.all(engines.splice(0).map((engine) => engine.close()));
});

async function start(options: Parameters<typeof startTestEngine>[0] = {}) {
  const lines: string[] = [];
  const engine = await startTestEngine({ delayMs: 0, ...options, log: (line) => lines.push(line) });
  engines.push(engine);
  return { engine, lines };
}

const uniquePhrase = (label: string) => `${label}-${Math.random().toString(36).slice(2, 10)}-marmalade`;

/** Every file under `dir`, as a path relative to it. */
function filesUnder(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((name) => fs.statSync(path.join(dir, name)).isFile());
}

/** Files of the data folder whose path or content mentions `needle`. */
const filesMentioning = (dataDir: string, needle: string) =>
  filesUnder(dataDir).filter(
    (name) => name.includes(needle) || fs.readFileSync(path.join(dataDir, name), "utf8").includes(needle),
  );

const secretGet = (engine: LocalEngine, route: string) =>
  fetch(`${engine.apiURL}${route}`, { headers: { Authorization: `Bearer ${engine.secretKey}` } });

/** What a session token gets from each route it could use on its chat. */
async function statusesFor(engine: LocalEngine, key: string, token: string) {
  const auth = { Authorization: `Bearer ${token}` };
  const message = { id: "u-after", role: "user", parts: [{ type: "text", text: "still there?" }] };
  const requests: [string, string, RequestInit?][] = [
    ["GET session", `/api/v1/sessions/${key}`],
    ["GET out", `/realtime/v1/sessions/${key}/out`, { headers: { ...auth, "Timeout-Seconds": "1" } }],
    ["HEAD out", `/realtime/v1/sessions/${key}/out`, { method: "HEAD" }],
    ["GET out records", `/realtime/v1/sessions/${key}/out/records`],
    // No token reads the reserved `.in` (the secret key's alone, engine.scopes.test.ts), so it is not listed here.
    ["PUT in", `/realtime/v1/sessions/${key}/in`, { method: "PUT" }],
    [
      "POST in append",
      `/realtime/v1/sessions/${key}/in/append`,
      {
        method: "POST",
        body: JSON.stringify({ kind: "message", payload: { message, chatId: key, trigger: "submit-message" } }),
      },
    ],
    ["GET channel", `/realtime/v1/sessions/${key}/channels/notes/in/records`],
    [
      "POST channel append",
      `/realtime/v1/sessions/${key}/channels/notes/in/append`,
      { method: "POST", body: "another note" },
    ],
  ];
  const statuses: Record<string, number> = {};
  for (const [name, route, init] of requests) {
    const response = await fetch(`${engine.apiURL}${route}`, {
      ...init,
      headers: { ...auth, "Content-Type": "application/json", ...init?.headers },
    });
    await response.body?.cancel();
    statuses[name] = response.status;
  }
  return statuses;
}

/** A chat of one turn whose every stored part carries `phrase`: messages, answer, title and a side-channel note. */
async function chatAbout(engine: LocalEngine, phrase: string) {
  const chatId = uniqueChatId("chat");
  const chat = new NodeChat({ id: chatId, transport: makeTransport(engine).transport });
  await chat.sendMessage({ text: `tell me about ${phrase}` });
  await sessions.update(chatId, { metadata: { title: `All about ${phrase}` } });
  const note = await fetch(`${engine.apiURL}/realtime/v1/sessions/${chatId}/channels/notes/in/append`, {
    method: "POST",
    headers: { Authorization: `Bearer ${await mintChatToken(chatId)}`, "Content-Type": "application/json" },
    body: JSON.stringify({ note: phrase }),
  });
  expect(note.status).toBe(200);
  // The turn-complete snapshot lands just after the answer.
  await waitFor(
    async () =>
      ((await (await secretGet(engine, `/api/v1/sessions/${chatId}/transcript`)).json()) as { messages: unknown[] })
        .messages.length === 2,
  );
  const { id: friendlyId, tags } = await sessions.retrieve(chatId);
  return { chatId, chat, friendlyId, tags };
}

describe("deleting a session", () => {
  it("cuts off tokens minted before it, ends its stream and run, erases its files but a tombstone, keeps others, and stays deleted after a restart", async () => {
    const dataDir = tempDataDir();
    const { engine, lines } = await start({ dataDir, delayMs: 30 });
    const port = Number(new URL(engine.apiURL).port);
    const keptPhrase = uniquePhrase("kept");
    const kept = await chatAbout(engine, keptPhrase);
    const phrase = uniquePhrase("doomed");
    const { chatId, chat, friendlyId, tags } = await chatAbout(engine, phrase);

    const token = await mintChatToken(chatId);
    const snapshotUrl = (
      (await (await secretGet(engine, `/api/v1/sessions/${chatId}/snapshot-url`)).json()) as { presignedUrl: string }
    ).presignedUrl;
    expect((await fetch(snapshotUrl)).status).toBe(200);
    const unknownChat = uniqueChatId("never-started");
    // A chat id with no session yet reads as an empty channel, as upstream serves it; a deleted chat reads as nothing.
    const neverStarted = await statusesFor(engine, unknownChat, await mintChatToken(unknownChat));
    expect(neverStarted).toEqual({
      "GET session": 404,
      "GET out": 200,
      "HEAD out": 200,
      "GET out records": 200,
      "PUT in": 404,
      "POST in append": 404,
      "GET channel": 200,
      "POST channel append": 404,
    });
    const asUnknown = Object.fromEntries(Object.keys(neverStarted).map((name) => [name, 404]));

    // Mid-answer: the run is writing, and a reader holding the old token is subscribed.
    const answering = chat.sendMessage({ text: `a long answer about ${phrase}` });
    await waitFor(() => textOf(chat.messages[3]).includes("w3"));
    const runId = engine.runFor(chatId)!.id;
    const reader = await fetch(`${engine.apiURL}/realtime/v1/sessions/${chatId}/out`, {
      headers: { Authorization: `Bearer ${token}`, "Timeout-Seconds": "60" },
    });
    expect(reader.status).toBe(200);
    const readerEnded = reader.text();

    expect(engine.deleteSession(chatId, { reason: "Deleted by its owner" })).toBe(true);

    expect(lines).toContain(`run ${runId} canceled: session deleted`);
    expect(engine.runFor(chatId)).toBeUndefined();
    await expect(Promise.race([readerEnded.then(() => "ended"), sleep(2_000).then(() => "still open")])).resolves.toBe(
      "ended",
    );
    await answering.catch(() => {});
    expect(textOf(chat.messages[3])).not.toMatch(/ w60$/);

    // To the token minted before, by either of its ids, the session is as unknown as one that never existed.
    expect(await statusesFor(engine, chatId, token)).toEqual(asUnknown);
    expect(await statusesFor(engine, friendlyId, token)).toEqual(asUnknown);
    // A token for another chat is refused as it was before the delete.
    expect(
      Object.values(await statusesFor(engine, chatId, await mintChatToken(kept.chatId))).every(
        (status) => status === 403,
      ),
    ).toBe(true);
    const retrieved = await fetch(`${engine.apiURL}/api/v1/sessions/${chatId}`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    expect(await retrieved.json()).toEqual({ error: `Session "${chatId}" not found` });

    // The secret key sees it closed, with nothing of its content; its data routes answer 404.
    const tombstone = await sessions.retrieve(chatId);
    expect(tombstone).toMatchObject({
      id: friendlyId,
      externalId: chatId,
      metadata: null,
      closedReason: "Deleted by its owner",
      currentRunId: null,
    });
    expect(tombstone.closedAt).toBeInstanceOf(Date);
    expect(tombstone.tags).toEqual(tags);
    for (const route of ["transcript", "snapshot-url"])
      expect((await secretGet(engine, `/api/v1/sessions/${chatId}/${route}`)).status).toBe(404);
    expect((await secretGet(engine, `/realtime/v1/sessions/${chatId}/out/records`)).status).toBe(404);
    expect((await fetch(snapshotUrl)).status).toBe(404);
    await expect(sessions.update(chatId, { externalId: uniqueChatId("freed") })).rejects.toThrow(/deleted/);
    await expect(startChatSession({ chatId })).rejects.toThrow(/closed/);

    // Gone from the disk, and the stopped run wrote nothing back; only the tombstone names it.
    await sleep(500);
    const tombstoneFiles = ["created.json", "session.json", "session.json.prev"].map((name) =>
      path.join("sessions", friendlyId, name),
    );
    expect(filesMentioning(dataDir, phrase)).toEqual([]);
    expect(filesMentioning(dataDir, friendlyId).sort()).toEqual(tombstoneFiles);
    expect(filesMentioning(dataDir, chatId).sort()).toEqual(tombstoneFiles);
    const onDisk = JSON.parse(fs.readFileSync(path.join(dataDir, tombstoneFiles[1]!), "utf8")) as Record<
      string,
      unknown
    >;
    expect(onDisk).toMatchObject({
      friendlyId,
      externalId: chatId,
      metadata: null,
      triggerConfig: { basePayload: {} },
      closedReason: "Deleted by its owner",
    });
    expect(onDisk.purgedAt).toEqual(expect.any(String));

    // The other chat is untouched, and goes on.
    expect(filesMentioning(dataDir, keptPhrase).length).toBeGreaterThan(0);
    expect((await sessions.retrieve(kept.chatId)).metadata).toEqual({ title: `All about ${keptPhrase}` });
    await kept.chat.sendMessage({ text: "still here?" });
    expect(textOf(kept.chat.messages[3])).toBe(expectedReply("still here?", 3));

    await engine.close();
    const { engine: restarted, lines: restartLines } = await start({ dataDir, port });
    expect(restartLines.filter((line) => /deleted|damaged|removed/.test(line))).toEqual([]);
    expect(await sessions.retrieve(chatId)).toMatchObject({ closedReason: "Deleted by its owner", metadata: null });
    expect(await statusesFor(restarted, chatId, token)).toEqual(asUnknown);
    await expect(startChatSession({ chatId })).rejects.toThrow(/closed/);
    expect(filesMentioning(dataDir, phrase)).toEqual([]);
    await kept.chat.sendMessage({ text: "after the restart" });
    expect(textOf(kept.chat.messages[5])).toBe(expectedReply("after the restart", 5));
  });

  it("finishes, on the next start, a delete the engine stopped in the middle of", async () => {
    const dataDir = tempDataDir();
    const { engine, lines } = await start({ dataDir });
    const port = Number(new URL(engine.apiURL).port);
    const keptPhrase = uniquePhrase("kept");
    const kept = await chatAbout(engine, keptPhrase);
    const phrase = uniquePhrase("doomed");
    const { chatId, friendlyId } = await chatAbout(engine, phrase);
    const token = await mintChatToken(chatId);

    // Stopped just after the tombstone was saved: nothing else in the session's folder is written or removed.
    const sessionDir = path.join(dataDir, "sessions", friendlyId);
    const { openSync, rmSync } = fs;
    vi.spyOn(fs, "openSync").mockImplementation((file, flags, ...rest) => {
      const name = String(file);
      if (name.startsWith(sessionDir) && flags === "w" && !/[/\\]session\.json\.\d+\.\d+\.tmp$/.test(name))
        throw new Error("stopped");
      return openSync(file, flags, ...rest);
    });
    vi.spyOn(fs, "rmSync").mockImplementation((file, options) => {
      if (String(file).startsWith(sessionDir)) throw new Error("stopped");
      return rmSync(file, options);
    });
    expect(engine.deleteSession(chatId, { reason: "Deleted by its owner" })).toBe(true);
    vi.restoreAllMocks();
    expect(lines).toContainEqual(
      expect.stringMatching(
        new RegExp(`could not remove every file of deleted session ${friendlyId} .*the next start removes the rest`),
      ),
    );
    // Deleted already, for every caller.
    expect((await statusesFor(engine, chatId, token))["GET out"]).toBe(404);
    expect(filesMentioning(dataDir, phrase).length).toBeGreaterThan(2);
    await engine.close();

    const { engine: restarted, lines: restartLines } = await start({ dataDir, port });
    expect(restartLines.filter((line) => /deleted|damaged|removed/.test(line))).toEqual([
      expect.stringMatching(
        new RegExp(
          `^session ${friendlyId} was deleted, but a stop mid-delete left \\d+ of its files; removed what they held$`,
        ),
      ),
    ]);
    expect(filesMentioning(dataDir, phrase)).toEqual([]);
    expect(filesUnder(path.join(dataDir, "sessions", friendlyId)).sort()).toEqual([
      "created.json",
      "session.json",
      "session.json.prev",
    ]);
    expect(await sessions.retrieve(chatId)).toMatchObject({ closedReason: "Deleted by its owner", metadata: null });
    expect((await statusesFor(restarted, chatId, token))["GET out"]).toBe(404);
    await expect(startChatSession({ chatId })).rejects.toThrow(/closed/);
    expect(filesMentioning(dataDir, keptPhrase).length).toBeGreaterThan(0);
    await kept.chat.sendMessage({ text: "still here?" });
    expect(textOf(kept.chat.messages[3])).toBe(expectedReply("still here?", 3));
  });

  it("answers an append still arriving when the session was deleted as for an unknown session, and stores none of it", async () => {
    const { engine } = await start({});
    const phrase = uniquePhrase("doomed");
    const { chatId } = await chatAbout(engine, phrase);
    const token = await mintChatToken(chatId);
    const late = uniquePhrase("late");
    const encoder = new TextEncoder();
    let finishBody!: () => void;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(encoder.encode('{"kind":"message","payload":{"chatId":"'));
        finishBody = () => {
          const message = { id: "u-late", role: "user", parts: [{ type: "text", text: late }] };
          controller.enqueue(
            encoder.encode(`${chatId}","trigger":"submit-message","message":${JSON.stringify(message)}}}`),
          );
          controller.close();
        };
      },
    });
    const appending = fetch(`${engine.apiURL}/realtime/v1/sessions/${chatId}/in/append`, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json", "X-Part-Id": "late-part" },
      body,
      duplex: "half",
    } as RequestInit);
    // The request is past its checks and reading its body.
    await sleep(300);
    engine.deleteSession(chatId, { reason: "Deleted by its owner" });
    finishBody();

    const refused = await appending;
    expect(refused.status).toBe(404);
    expect(await refused.json()).toEqual({ error: `Session "${chatId}" not found` });
    await sleep(300);
    expect(filesMentioning(engine.dataDir, late)).toEqual([]);
    expect(filesMentioning(engine.dataDir, phrase)).toEqual([]);
  });

  it("changes nothing on disk when its tombstone cannot be saved, and can be tried again", async () => {
    const { engine, lines } = await start({});
    const phrase = uniquePhrase("survivor");
    const { chatId, chat, friendlyId } = await chatAbout(engine, phrase);
    const token = await mintChatToken(chatId);
    const sessionDir = path.join(engine.dataDir, "sessions", friendlyId);
    const before = Object.fromEntries(
      filesUnder(sessionDir).map((name) => [name, fs.readFileSync(path.join(sessionDir, name), "utf8")]),
    );

    const { openSync } = fs;
    vi.spyOn(fs, "openSync").mockImplementation((file, flags, ...rest) => {
      if (String(file).startsWith(sessionDir) && flags === "w")
        throw Object.assign(new Error("ENOSPC: no space left on device, open"), { code: "ENOSPC" });
      return openSync(file, flags, ...rest);
    });
    expect(() => engine.deleteSession(chatId, { reason: "Deleted by its owner" })).toThrow(/ENOSPC/);
    vi.restoreAllMocks();

    expect(
      Object.fromEntries(
        filesUnder(sessionDir).map((name) => [name, fs.readFileSync(path.join(sessionDir, name), "utf8")]),
      ),
    ).toEqual(before);
    expect(
      (
        await fetch(`${engine.apiURL}/realtime/v1/sessions/${chatId}/out/records`, {
          headers: { Authorization: `Bearer ${token}` },
        })
      ).status,
    ).toBe(200);
    expect((await sessions.retrieve(chatId)).closedAt).toBeNull();
    await chat.sendMessage({ text: "and now?" });
    expect(textOf(chat.messages[3])).toBe(expectedReply("and now?", 3));
    expect(lines.filter((line) => line.startsWith(`session ${chatId} deleted`))).toEqual([]);

    expect(engine.deleteSession(chatId, { reason: "Deleted by its owner" })).toBe(true);
    expect(filesMentioning(engine.dataDir, phrase)).toEqual([]);
    expect(engine.deleteSession(chatId, { reason: "again" })).toBe(true);
    expect((await sessions.retrieve(chatId)).closedReason).toBe("Deleted by its owner");
    expect(engine.deleteSession(uniqueChatId("unknown"), { reason: "none" })).toBe(false);
  });
});
