import fs from "node:fs";
import path from "node:path";
import { serializeTranscriptSnapshot } from "@trigger.dev/core/v3";
import { describe, expect, it } from "vitest";
import { tempDataDir } from "../testing/harness";
import { DataFolder, isIntactSnapshot, type SessionRow, tombstoneOf } from "./data-folder.server";
import { StartupError } from "./secrets.server";

const row = (overrides: Partial<SessionRow> = {}): SessionRow => ({
  friendlyId: "session_abc123",
  externalId: "chat-1",
  type: "chat.agent",
  taskIdentifier: "echo",
  triggerConfig: {},
  tags: ["guest:1"],
  metadata: null,
  closedAt: null,
  closedReason: null,
  expiresAt: null,
  createdAt: "2026-01-01T00:00:00.000Z",
  updatedAt: "2026-01-01T00:00:00.000Z",
  currentRunId: null,
  trims: {},
  ...overrides,
});

const snapshot = (ids: string[]) =>
  serializeTranscriptSnapshot({
    version: 2,
    savedAt: 1,
    lastOutEventId: "9",
    messages: ids.map((id) => ({
      id,
      final: true,
      message: { id, role: "user", parts: [{ type: "text", text: `message ${id}` }] },
    })),
  } as Parameters<typeof serializeTranscriptSnapshot>[0]);

describe("DataFolder", () => {
  it("lets one engine at a time own a folder, and takes over a lock left by a process that is gone", () => {
    const dir = tempDataDir();
    const lock = path.join(dir, "engine.lock");
    const first = new DataFolder(dir, () => {});
    expect(() => new DataFolder(dir, () => {})).toThrow(/already in use by another engine in this process/);
    first.release();
    new DataFolder(dir, () => {}).release();

    // Another live process holds it: refused, even while that process is paused.
    const parentStart = fs.readFileSync(`/proc/${process.ppid}/stat`, "utf8").split(") ")[1]!.split(" ")[19];
    fs.writeFileSync(lock, `${process.ppid} ${parentStart}\n`);
    expect(() => new DataFolder(dir, () => {})).toThrow(StartupError);
    expect(() => new DataFolder(dir, () => {})).toThrow(`in use by another engine (process ${process.ppid})`);

    // The same pid with another start time is a later process that reused the pid: the lock is stale.
    fs.writeFileSync(lock, `${process.ppid} 1\n`);
    new DataFolder(dir, () => {}).release();

    fs.writeFileSync(lock, "999999999\n");
    const afterCrash = new DataFolder(dir, () => {});
    expect(fs.readFileSync(lock, "utf8").split(" ")[0]).toBe(String(process.pid));
    afterCrash.release();
    expect(fs.existsSync(lock)).toBe(false);
  });

  it("falls back to the previous session row when the current one is torn or not a row, and repairs it", () => {
    const dir = tempDataDir();
    const reports: string[] = [];
    const data = new DataFolder(dir, (message) => reports.push(message));
    data.saveSession(row({ updatedAt: "2026-01-01T00:00:01.000Z" }));
    data.saveSession(row({ updatedAt: "2026-01-01T00:00:02.000Z", tags: ["guest:1", "newer"] }));
    const file = path.join(dir, "sessions", "session_abc123", "session.json");

    for (const damage of ['{"friendlyId":"session_abc1', JSON.stringify({ friendlyId: "session_abc123" }), ""]) {
      fs.writeFileSync(file, damage);
      reports.length = 0;
      expect(data.loadSessions()).toEqual([row({ updatedAt: "2026-01-01T00:00:01.000Z" })]);
      expect(reports).toEqual([
        expect.stringMatching(
          /session\.json is (damaged|empty); restored the previous version of session session_abc123/,
        ),
      ]);
      expect(fs.readFileSync(`${file}.damaged`, "utf8")).toBe(damage);
      // Repaired: the next load has nothing to report.
      reports.length = 0;
      expect(data.loadSessions()).toHaveLength(1);
      expect(reports).toEqual([]);
      data.saveSession(row({ updatedAt: "2026-01-01T00:00:02.000Z" }));
    }
    data.release();
  });

  it("clears the unfinished writes and undeleted old versions a stopped process left, without a word", () => {
    const dir = tempDataDir();
    const reports: string[] = [];
    const data = new DataFolder(dir, (message) => reports.push(message));
    data.saveSession(row({ updatedAt: "2026-01-01T00:00:01.000Z" }));
    data.saveSession(row({ updatedAt: "2026-01-01T00:00:02.000Z" }));
    data.release();
    const sessionDir = path.join(dir, "sessions", "session_abc123");
    const leftovers = ["session.json.4242.7.tmp", "session.json.4242.8.retired", "snapshot.blob.4242.9.retired"];
    for (const name of leftovers) fs.writeFileSync(path.join(sessionDir, name), "{}");

    const next = new DataFolder(dir, (message) => reports.push(message));
    expect(next.loadSessions()).toEqual([row({ updatedAt: "2026-01-01T00:00:02.000Z" })]);
    expect(fs.readdirSync(sessionDir).sort()).toEqual(["created.json", "session.json", "session.json.prev"]);
    expect(reports).toEqual([]);
    next.release();
  });

  it("restores a session from its creation record when both versions of its row are damaged, closed if its stream says so", () => {
    const dir = tempDataDir();
    const reports: string[] = [];
    const data = new DataFolder(dir, (message) => reports.push(message));
    const sessionDir = path.join(dir, "sessions", "session_abc123");
    data.saveSession(row());
    data.saveSession(row({ metadata: { title: "Later" }, updatedAt: "2026-01-02T00:00:00.000Z" }));
    data.saveSession(row({ metadata: { title: "Latest" }, updatedAt: "2026-01-03T00:00:00.000Z" }));
    fs.writeFileSync(path.join(sessionDir, "session.json"), "{");
    fs.writeFileSync(path.join(sessionDir, "session.json.prev"), "");
    expect(data.loadSessions()).toEqual([row()]);
    expect(reports).toEqual([
      expect.stringMatching(/and its previous version are damaged; restored session session_abc123 as it was created/),
    ]);

    // Deleted (closed) after it was created: the close is on its stream, and stays.
    data.openStream("session_abc123", "out", {}).append([
      {
        body: "",
        headers: [
          ["trigger-control", "session-closed"],
          ["session-closed-reason", "Deleted by its owner"],
        ],
      },
    ]);
    fs.writeFileSync(path.join(sessionDir, "session.json"), "{");
    fs.writeFileSync(path.join(sessionDir, "session.json.prev"), "{");
    expect(data.loadSessions()).toEqual([row({ closedAt: expect.any(String), closedReason: "Deleted by its owner" })]);

    fs.rmSync(path.join(sessionDir, "created.json"));
    fs.writeFileSync(path.join(sessionDir, "session.json"), "{");
    fs.writeFileSync(path.join(sessionDir, "session.json.prev"), "{");
    reports.length = 0;
    expect(data.loadSessions()).toEqual([]);
    expect(reports).toEqual([
      expect.stringMatching(/session\.json is damaged and has no earlier version; skipped session session_abc123/),
    ]);
    data.release();
  });

  it("deletes every file of a session but its tombstone, which refuses writes and outlives damage to its row", () => {
    const dir = tempDataDir();
    const reports: string[] = [];
    const data = new DataFolder(dir, (message) => reports.push(message));
    const other = row({ friendlyId: "session_other1", externalId: "chat-2", metadata: { title: "Kept secret" } });
    for (const session of [
      row({ metadata: { title: "A secret" } }),
      row({ metadata: { title: "Another secret" }, triggerConfig: { basePayload: { metadata: "secret" } } }),
      other,
    ]) {
      data.saveSession(session);
      data.openStream(session.friendlyId, "out", {}).append([{ body: "secret words" }]);
      data.openStream(session.friendlyId, "channel:notes:in", {}).append([{ body: "secret note" }]);
      data.writeSnapshot(session.friendlyId, snapshot(["secret-1"]));
      data.writeSnapshot(session.friendlyId, snapshot(["secret-1", "secret-2"]));
    }
    const sessionDir = path.join(dir, "sessions", "session_abc123");
    fs.writeFileSync(path.join(sessionDir, "out.jsonl.damaged"), "secret damaged line\n");
    const otherFiles = () =>
      Object.fromEntries(
        fs
          .readdirSync(path.join(dir, "sessions", "session_other1"))
          .map((name) => [name, fs.readFileSync(path.join(dir, "sessions", "session_other1", name), "utf8")]),
      );
    const otherBefore = otherFiles();

    const tombstone = tombstoneOf(row({ metadata: { title: "Another secret" } }), {
      at: "2026-02-01T00:00:00.000Z",
      reason: "Deleted by its owner",
    });
    expect(tombstone).toEqual(
      row({
        triggerConfig: { basePayload: {} },
        closedAt: "2026-02-01T00:00:00.000Z",
        closedReason: "Deleted by its owner",
        updatedAt: "2026-02-01T00:00:00.000Z",
        purgedAt: "2026-02-01T00:00:00.000Z",
      }),
    );
    data.purgeSession(tombstone);
    const tombstoneFiles = ["created.json", "session.json", "session.json.prev"];
    expect(fs.readdirSync(sessionDir).sort()).toEqual(tombstoneFiles);
    for (const name of tombstoneFiles)
      expect(JSON.parse(fs.readFileSync(path.join(sessionDir, name), "utf8"))).toEqual(tombstone);
    expect(otherFiles()).toEqual(otherBefore);

    // Nothing of its content can be written for it again.
    expect(() => data.openStream("session_abc123", "out", {})).toThrow(/deleted/);
    expect(() => data.writeSnapshot("session_abc123", snapshot(["secret-3"]))).toThrow(/deleted/);
    expect(data.readSnapshot("session_abc123")).toBeUndefined();
    data.saveSession({ ...tombstone, metadata: { title: "A secret again" }, turnInProgress: true });
    expect(fs.readFileSync(path.join(sessionDir, "session.json"), "utf8")).not.toMatch(/secret|turnInProgress/);
    expect(reports).toEqual([]);
    data.release();

    const next = new DataFolder(dir, (message) => reports.push(message));
    expect(next.loadSessions()).toEqual([tombstone, other]);
    expect(reports).toEqual([]);
    fs.writeFileSync(path.join(sessionDir, "session.json"), "{");
    fs.writeFileSync(path.join(sessionDir, "session.json.prev"), "");
    expect(next.loadSessions()).toEqual([tombstone, other]);
    expect(reports).toEqual([
      expect.stringMatching(
        /session\.json and its previous version are damaged; restored the tombstone of deleted session session_abc123/,
      ),
    ]);
    for (const name of tombstoneFiles)
      expect(JSON.parse(fs.readFileSync(path.join(sessionDir, name), "utf8"))).toEqual(tombstone);
    expect(() => next.openStream("session_abc123", "in", {})).toThrow(/deleted/);
    next.release();
  });

  it("serves the previous snapshot when the current one was cut short", () => {
    const dir = tempDataDir();
    const reports: string[] = [];
    const data = new DataFolder(dir, (message) => reports.push(message));
    data.writeSnapshot("session_abc123", snapshot(["a"]));
    data.writeSnapshot("session_abc123", snapshot(["a", "b"]));
    expect(data.readSnapshot("session_abc123")).toBe(snapshot(["a", "b"]));
    const file = path.join(dir, "sessions", "session_abc123", "snapshot.blob");
    fs.writeFileSync(file, snapshot(["a", "b"]).slice(0, -10));
    expect(data.readSnapshot("session_abc123")).toBe(snapshot(["a"]));
    expect(reports).toEqual([expect.stringMatching(/snapshot\.blob is damaged; using the previous snapshot/)]);
    data.release();
  });
});

describe("isIntactSnapshot", () => {
  it("accepts whole snapshots of either version and refuses cut-off or foreign ones", () => {
    const whole = snapshot(["a", "b", "c"]);
    expect(isIntactSnapshot(whole)).toBe(true);
    for (let cut = 1; cut < whole.length; cut += 7)
      expect(isIntactSnapshot(whole.slice(0, cut)), `cut at ${cut}`).toBe(false);
    expect(isIntactSnapshot(JSON.stringify({ version: 1, savedAt: 1, messages: [] }))).toBe(true);
    expect(isIntactSnapshot("not a snapshot")).toBe(false);
  });
});
