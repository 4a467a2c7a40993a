import http2 from "node:http2";
import { auth, sessions } from "@trigger.dev/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LocalEngine } from "./engine.server";
import { startChatSession, startTestEngine, uniqueChatId } from "./testing/harness";

/*
 * Writing `.out` from a backend through the unmodified SDK, as the 4.8.3 docs
 * show (`sessions.open(id).out.append`, side channels "from your own
 * backend"): the SDK initializes the stream, gets S2 credentials, and appends
 * to the engine's S2 emulation, over HTTP/2 for piped output and HTTP/1 for
 * control records and trims.
 */

let engine: LocalEngine;

beforeAll(async () => {
  engine = await startTestEngine({ warmWorkers: 0 });
});

afterAll(async () => {
  await engine?.close();
});

type WireRecord = { seq_num: number; body: string; headers: [string, string][] };

/** Reads a stream over the v2 SSE endpoint, as the transport does, resuming after `lastEventId`. */
async function readSse(path: string, token: string, lastEventId?: number) {
  const response = await fetch(`${engine.apiURL}${path}`, {
    headers: {
      Authorization: `Bearer ${token}`,
      "Timeout-Seconds": "1",
      ...(lastEventId === undefined ? {} : { "Last-Event-ID": String(lastEventId) }),
    },
  });
  expect(response.status).toBe(200);
  const records: WireRecord[] = [];
  for (const line of (await response.text()).split("\n")) {
    if (!line.startsWith("data: {")) continue;
    const event = JSON.parse(line.slice("data: ".length)) as { records?: WireRecord[] };
    records.push(...(event.records ?? []));
  }
  return records;
}

const dataOf = (record: WireRecord) => (record.body ? (JSON.parse(record.body) as { data: unknown }).data : undefined);
const readToken = (scope: string) =>
  auth.createPublicToken({ scopes: { read: { sessions: scope } }, expirationTime: "1h" });

async function newSession(label: string) {
  const chatId = uniqueChatId(label);
  await startChatSession({ chatId });
  return chatId;
}

describe("a backend writing .out through the SDK", () => {
  it("appends, pipes and writes control records that a subscriber reads in order, and resumes from", async () => {
    const chatId = await newSession("s2-out");
    const token = await readToken(chatId);
    const before = (await readSse(`/realtime/v1/sessions/${chatId}/out`, token)).at(-1)?.seq_num ?? -1;
    const out = sessions.open(chatId).out;

    await out.append({ type: "data-note", data: { n: 1 } });
    const piped = out.pipe(
      new ReadableStream({
        start(controller) {
          for (const n of [2, 3, 4]) controller.enqueue({ type: "data-note", data: { n } });
          controller.close();
        },
      }),
    );
    const { lastEventId } = await piped.waitUntilComplete();
    const control = await out.writeControl("turn-complete", [["session-in-event-id", "7"]]);

    const records = (
      await readSse(`/realtime/v1/sessions/${chatId}/out`, token, before < 0 ? undefined : before)
    ).filter((r) => r.seq_num > before);
    expect(records.map(dataOf).slice(0, 4)).toEqual([1, 2, 3, 4].map((n) => ({ type: "data-note", data: { n } })));
    expect(records.map((r) => r.seq_num)).toEqual([1, 2, 3, 4, 5].map((i) => before + i));
    expect(Number(lastEventId)).toBe(before + 4);
    expect(Number(control.lastEventId)).toBe(before + 5);
    expect(records[4]!.headers).toEqual([
      ["trigger-control", "turn-complete"],
      ["session-in-event-id", "7"],
    ]);

    const resumed = await readSse(`/realtime/v1/sessions/${chatId}/out`, token, before + 2);
    expect(resumed.map((r) => r.seq_num)).toEqual([before + 3, before + 4, before + 5]);
  });

  it("trims with a command record that takes a seq, as S2 does", async () => {
    const chatId = await newSession("s2-trim");
    const out = sessions.open(chatId).out;
    await out.append({ type: "data-note", data: { n: 1 } });
    await out.trimTo(0);
    await out.append({ type: "data-note", data: { n: 2 } });
    const records = await readSse(`/realtime/v1/sessions/${chatId}/out`, await readToken(chatId));
    const tail = records.slice(-3);
    expect(tail.map((r) => r.headers)).toEqual([[], [["", "trim"]], []]);
    expect(tail[2]!.seq_num - tail[0]!.seq_num).toBe(2);
  });

  it("writes a side channel's .out that a channel-scoped subscriber reads", async () => {
    const chatId = await newSession("s2-channel");
    const frames = sessions.open(chatId).channel("frames").out;
    for (const step of [1, 2, 3]) await frames.append({ url: `https://example.test/${step}.png`, step });
    const token = await readToken(`${chatId}:channels:frames`);
    const records = await readSse(`/realtime/v1/sessions/${chatId}/channels/frames/out`, token);
    expect(records.map(dataOf)).toEqual([1, 2, 3].map((step) => ({ url: `https://example.test/${step}.png`, step })));
    expect(records.map((r) => r.seq_num)).toEqual([0, 1, 2]);
    // The chat's own .out got none of it.
    const chat = await readSse(`/realtime/v1/sessions/${chatId}/out`, await readToken(chatId));
    expect(chat.map(dataOf)).not.toContainEqual(expect.objectContaining({ step: 1 }));
  });
});

describe("S2 credentials", () => {
  async function credentials(chatId: string, channel?: string) {
    const path = channel ? `channels/${channel}/out` : "out";
    const response = await fetch(`${engine.apiURL}/realtime/v1/sessions/${chatId}/${path}`, {
      method: "PUT",
      headers: { Authorization: `Bearer ${engine.secretKey}` },
    });
    expect(response.status).toBe(202);
    return {
      token: response.headers.get("x-s2-access-token")!,
      stream: response.headers.get("x-s2-stream-name")!,
      endpoint: response.headers.get("x-s2-endpoint")!,
      basin: response.headers.get("x-s2-basin")!,
    };
  }

  const appendJson = (endpoint: string, stream: string, token: string | null, body = { records: [{ body: "{}" }] }) =>
    fetch(`${endpoint}/streams/${encodeURIComponent(stream)}/records`, {
      method: "POST",
      headers: { "Content-Type": "application/json", ...(token === null ? {} : { Authorization: `Bearer ${token}` }) },
      body: JSON.stringify(body),
    });

  /** An s2s append session as `@s2-dev/streamstore` opens it; answers the response status. */
  function openAppendSession(endpoint: string, stream: string, token: string) {
    const url = new URL(endpoint);
    const client = http2.connect(url.origin);
    return new Promise<number>((resolve, reject) => {
      const request = client.request({
        ":method": "POST",
        ":path": `${url.pathname}/streams/${encodeURIComponent(stream)}/records`,
        authorization: `Bearer ${token}`,
        "content-type": "s2s/proto",
      });
      request.on("response", (headers) => {
        resolve(Number(headers[":status"]));
        request.close();
        client.close();
      });
      request.on("error", reject);
      request.end();
    });
  }

  it("are handed out for the secret key only, for one stream", async () => {
    const chatId = await newSession("s2-creds");
    const { token, stream, endpoint, basin } = await credentials(chatId);
    expect({ stream, basin, endpoint }).toEqual({
      stream: expect.stringMatching(/^sessions\/session_[^/]+\/out$/),
      basin: "local-trigger",
      endpoint: `${engine.apiURL}/s2`,
    });
    expect(token).toBeTruthy();
    const sessionToken = await auth.createPublicToken({ scopes: { write: { sessions: chatId } } });
    const refused = await fetch(`${engine.apiURL}/realtime/v1/sessions/${chatId}/out`, {
      method: "PUT",
      headers: { Authorization: `Bearer ${sessionToken}` },
    });
    expect(refused.status).toBe(403);
    expect(refused.headers.get("x-s2-access-token")).toBeNull();
  });

  it("refuses missing, forged, expired-looking and other streams' tokens, over HTTP/1 and HTTP/2, and stores nothing", async () => {
    const chatId = await newSession("s2-refuse");
    const other = await newSession("s2-other");
    const mine = await credentials(chatId);
    const theirs = await credentials(other);
    const channel = await credentials(chatId, "frames");
    const forged = mine.token.replace(/.$/, (last) => (last === "A" ? "B" : "A"));
    const stale = mine.token.replace(/^s2local\.\d+/, "s2local.1000");
    const secretKeyItself = engine.secretKey;

    expect((await appendJson(mine.endpoint, mine.stream, null)).status).toBe(401);
    for (const token of [forged, stale, secretKeyItself, "not-a-token"]) {
      expect((await appendJson(mine.endpoint, mine.stream, token)).status).toBe(401);
      expect(await openAppendSession(mine.endpoint, mine.stream, token)).toBe(401);
    }
    for (const token of [theirs.token, channel.token]) {
      const refused = await appendJson(mine.endpoint, mine.stream, token);
      expect(refused.status).toBe(403);
      expect(await refused.json()).toMatchObject({ code: "permission_denied" });
      expect(await openAppendSession(mine.endpoint, mine.stream, token)).toBe(403);
    }
    expect(await readSse(`/realtime/v1/sessions/${chatId}/out`, await readToken(chatId))).toEqual([]);

    // The right token works, on both transports.
    expect((await appendJson(mine.endpoint, mine.stream, mine.token)).status).toBe(200);
    expect(await openAppendSession(mine.endpoint, mine.stream, mine.token)).toBe(200);
  });

  it("answers malformed appends with a clear 4xx", async () => {
    const chatId = await newSession("s2-bad");
    const { token, stream, endpoint } = await credentials(chatId);
    const cases: unknown[] = [
      { records: [] },
      { records: [{ body: 5 }] },
      { records: [{ body: "x" }], fencing_token: "f" },
    ];
    for (const body of cases) {
      const response = await appendJson(endpoint, stream, token, body as { records: { body: string }[] });
      expect(response.status, JSON.stringify(body)).toBe(422);
      expect(((await response.json()) as { message: string }).message).toBeTruthy();
    }
    const fence = await appendJson(endpoint, stream, token, {
      records: [{ body: "f", headers: [["", "fence"]] }],
    } as never);
    expect(fence.status).toBe(422);
    expect(await readSse(`/realtime/v1/sessions/${chatId}/out`, await readToken(chatId))).toEqual([]);
  });
});
