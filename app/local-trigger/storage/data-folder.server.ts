import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import {
  parseTranscriptBlob,
  parseTranscriptFooter,
  readTranscriptTrailer,
  TRANSCRIPT_TRAILER_BYTES,
} from "@trigger.dev/core/v3";
import { z } from "zod";
import { createFileExclusive, isLeftoverOfWrite, readWithFallback, writeFileAtomic } from "./atomic-file.server";
import { controlSubtype, MAX_SEQ, RecordStream, type RecordStreamOptions } from "./record-stream.server";
import { StartupError } from "./secrets.server";

const SessionRowSchema = z.object({
  friendlyId: z.string().regex(/^session_[a-z0-9]+$/),
  externalId: z.string().nullable(),
  type: z.string(),
  taskIdentifier: z.string(),
  triggerConfig: z.record(z.string(), z.unknown()),
  tags: z.array(z.string()),
  metadata: z.record(z.string(), z.unknown()).nullable(),
  closedAt: z.string().nullable(),
  closedReason: z.string().nullable(),
  expiresAt: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
  currentRunId: z.string().nullable(),
  /** A turn was asked for (a message reached `.in`) and its turn-complete is not written yet: a crash here leaves a client waiting. */
  turnInProgress: z.boolean().optional(),
  /** The `.in` seq of the newest message, so the engine can tell whether a run still owes an answer. */
  lastMessageSeq: z.number().int().min(0).max(MAX_SEQ).optional(),
  /** Trim marks per channel, so a restart does not resurrect trimmed records. */
  trims: z.record(
    z.string(),
    z
      .number()
      .int()
      .min(0)
      .max(MAX_SEQ + 1),
  ),
  /** The next seq per channel as of the last save: sequence numbers continue above it even if the log is damaged. */
  seqFloors: z
    .record(
      z.string(),
      z
        .number()
        .int()
        .min(0)
        .max(MAX_SEQ + 1),
    )
    .optional(),
  /** When the session was deleted: the row is a tombstone, and the folder holds nothing else of the session. */
  purgedAt: z.string().optional(),
});

/** A session as the engine keeps it; serialised to `session.json`. */
export type SessionRow = z.infer<typeof SessionRowSchema>;

const SESSION_FILE = "session.json";
/** The row as first written; never rewritten, except by a tombstone when the session is deleted. */
const CREATED_FILE = "created.json";
/** What a deleted session's directory keeps: its tombstone, in each place a row is read from. */
const TOMBSTONE_FILES = new Set([SESSION_FILE, `${SESSION_FILE}.prev`, CREATED_FILE]);
const SNAPSHOT_FILE = "snapshot.blob";
const LOCK_FILE = "engine.lock";
const SESSION_ID = /^session_[a-z0-9]+$/;

export const randomId = (bytes = 12) => randomBytes(bytes).toString("base64url").replace(/[-_]/g, "x").toLowerCase();

/**
 * What is kept of a deleted session: enough to answer for its ids (closed,
 * and why) and to refuse them to anyone who tries to start them again. No
 * metadata (the chat's title), no trigger config (the first message's client
 * data), no stream bookkeeping.
 */
export function tombstoneOf(row: SessionRow, deletion: { at: string; reason: string }): SessionRow {
  return {
    friendlyId: row.friendlyId,
    externalId: row.externalId,
    type: row.type,
    taskIdentifier: row.taskIdentifier,
    // Empty, but still the shape the SDK validates a session against.
    triggerConfig: { basePayload: {} },
    tags: row.tags,
    metadata: null,
    closedAt: row.closedAt ?? deletion.at,
    closedReason: deletion.reason,
    expiresAt: row.expiresAt,
    createdAt: row.createdAt,
    updatedAt: deletion.at,
    currentRunId: null,
    trims: {},
    purgedAt: row.purgedAt ?? deletion.at,
  };
}

/** Data folders held by engines in this process, which the pid in a lock file cannot tell apart. */
const heldInThisProcess = new Set<string>();

/**
 * The engine's data folder: one directory per session holding its row, its
 * channel logs and its transcript snapshot, plus the generated secrets. Rows
 * and snapshots are replaced atomically with the previous version kept, so a
 * damaged one falls back to the last good one; one line is reported for each
 * thing that had to be skipped or repaired. One engine at a time owns a folder.
 */
export class DataFolder {
  readonly sessionsDir: string;
  private readonly lockFile: string;
  /** Deleted sessions: nothing but their tombstone may be written for them again. */
  private readonly purged = new Set<string>();

  constructor(
    readonly dataDir: string,
    private readonly report: (message: string) => void,
  ) {
    this.sessionsDir = path.join(dataDir, "sessions");
    this.lockFile = path.join(dataDir, LOCK_FILE);
    fs.mkdirSync(this.sessionsDir, { recursive: true });
    this.lock();
  }

  /** Gives the folder up for the next engine. */
  release() {
    heldInThisProcess.delete(this.dataDir);
    try {
      if (fs.readFileSync(this.lockFile, "utf8").trim().split(/\s+/)[0] === String(process.pid))
        fs.rmSync(this.lockFile, { force: true });
    } catch {
      // Already gone.
    }
  }

  loadSessions(): SessionRow[] {
    const rows: SessionRow[] = [];
    for (const entry of fs.readdirSync(this.sessionsDir, { withFileTypes: true })) {
      if (!entry.isDirectory() || !SESSION_ID.test(entry.name)) continue;
      this.removeLeftoversOfWrites(path.join(this.sessionsDir, entry.name));
      const file = path.join(this.sessionsDir, entry.name, SESSION_FILE);
      const read = readWithFallback(
        file,
        (text) => {
          const parsed = SessionRowSchema.safeParse(JSON.parse(text));
          return parsed.success && parsed.data.friendlyId === entry.name ? parsed.data : undefined;
        },
        [path.join(this.sessionsDir, entry.name, CREATED_FILE)],
      );
      if (read.from === "none") {
        // A directory whose row was never written was never acknowledged to any client.
        if (read.problem)
          this.report(`${file} ${read.problem} and has no earlier version; skipped session ${entry.name}`);
        continue;
      }
      let row = read.value;
      if (read.from === "previous") {
        this.report(
          `${file} ${read.problem}; restored the previous version of session ${entry.name} (from ${row.updatedAt})`,
        );
      } else if (read.from !== "current" && row.purgedAt) {
        this.report(
          `${file} and its previous version are damaged; restored the tombstone of deleted session ${entry.name} from its copy`,
        );
      } else if (read.from !== "current") {
        row = this.withCloseFromStream(row);
        this.report(
          `${file} and its previous version are damaged; restored session ${entry.name} as it was created, with its close from its stream (later title, metadata and tag changes are lost)`,
        );
      }
      if (row.purgedAt) {
        // A stop mid-delete leaves some of the session's files beside its tombstone; this also rewrites a damaged copy of it.
        const leftovers = this.removeAllButTombstone(row);
        if (leftovers > 0)
          this.report(
            `session ${entry.name} was deleted, but a stop mid-delete left ${leftovers} of its files; removed what they held`,
          );
      } else if (read.from !== "current") {
        this.repair(file, JSON.stringify(row));
      }
      rows.push(row);
    }
    return rows;
  }

  /** A stopped process's unfinished writes and old versions it had not deleted yet (see writeFileAtomic). */
  private removeLeftoversOfWrites(dir: string) {
    try {
      for (const name of fs.readdirSync(dir))
        if (isLeftoverOfWrite(name)) fs.rmSync(path.join(dir, name), { force: true });
    } catch (error) {
      this.report(
        `could not clear unfinished writes in ${dir} (${error instanceof Error ? error.message : String(error)})`,
      );
    }
  }

  /** Whether any session exists yet: what generated secrets guard. */
  hasSessions() {
    return countSessions(this.dataDir) > 0;
  }

  saveSession(row: SessionRow) {
    // Whatever a caller still holds of a deleted session, only its tombstone goes to disk.
    if (this.purged.has(row.friendlyId)) row = tombstoneOf(row, { at: row.updatedAt, reason: row.closedReason ?? "" });
    const dir = this.sessionDir(row.friendlyId);
    fs.mkdirSync(dir, { recursive: true });
    const text = JSON.stringify(row);
    // Written once and never again, so it cannot be torn by a later save: the last resort if both rows are.
    if (!fs.existsSync(path.join(dir, CREATED_FILE))) createFileExclusive(path.join(dir, CREATED_FILE), text);
    writeFileAtomic(path.join(dir, SESSION_FILE), text, { keepPrevious: true });
  }

  /**
   * Deletes a session's data for good and leaves `tombstone` (see
   * `tombstoneOf`) in its place. The tombstone replaces the row first, so a
   * crash at any later point leaves a deleted session whose remaining files
   * the next load removes; a crash before it leaves the session as it was.
   * Then the tombstone replaces the row's previous version and its creation
   * record, which hold the title, and every other file goes: streams, side
   * channels, snapshots, and anything set aside as damaged.
   */
  purgeSession(tombstone: SessionRow) {
    if (!tombstone.purgedAt) throw new Error(`Not a tombstone: session ${tombstone.friendlyId}`);
    const dir = this.sessionDir(tombstone.friendlyId);
    fs.mkdirSync(dir, { recursive: true });
    writeFileAtomic(path.join(dir, SESSION_FILE), JSON.stringify(tombstone));
    this.removeAllButTombstone(tombstone);
  }

  /**
   * Makes every copy of the row the tombstone and removes everything else in
   * the session's directory; returns how many files held more than the
   * tombstone (a stop mid-delete leaves some). Once the tombstone is saved
   * the delete has happened, so a failure here is reported, not thrown: what
   * is left cannot be reached, and the next load removes it.
   */
  private removeAllButTombstone(tombstone: SessionRow): number {
    this.purged.add(tombstone.friendlyId);
    const dir = this.sessionDir(tombstone.friendlyId);
    const text = JSON.stringify(tombstone);
    let leftovers = 0;
    try {
      for (const name of TOMBSTONE_FILES) {
        const file = path.join(dir, name);
        const found = readText(file);
        if (found === text) continue;
        const foundRow = found === undefined ? undefined : parseRow(found);
        // A row that is no tombstone held the session's metadata; a damaged copy is rewritten without being counted.
        if (foundRow && !foundRow.purgedAt) leftovers++;
        writeFileAtomic(file, text);
      }
      for (const name of fs.readdirSync(dir)) {
        if (TOMBSTONE_FILES.has(name)) continue;
        fs.rmSync(path.join(dir, name), { recursive: true, force: true });
        // An old version a save set aside to delete held nothing a delete left behind.
        if (!isLeftoverOfWrite(name)) leftovers++;
      }
    } catch (error) {
      this.report(
        `could not remove every file of deleted session ${tombstone.friendlyId} (${error instanceof Error ? error.message : String(error)}); the next start removes the rest`,
      );
    }
    return leftovers;
  }

  /** A row restored from its creation record is open; its `.out` says whether it was closed since. */
  private withCloseFromStream(row: SessionRow): SessionRow {
    const stream = this.openStream(row.friendlyId, "out", {});
    let closed: { at: string; reason: string | null } | undefined;
    for (let from = 0; ;) {
      const batch = stream.readFrom(from, 1_000);
      if (batch.length === 0) break;
      for (const record of batch) {
        if (controlSubtype(record) !== "session-closed") continue;
        closed ??= {
          at: new Date(record.timestamp).toISOString(),
          reason: record.headers.find(([name]) => name === "session-closed-reason")?.[1] ?? null,
        };
      }
      from = batch.at(-1)!.seq_num + 1;
    }
    return closed ? { ...row, closedAt: closed.at, closedReason: closed.reason } : row;
  }

  openStream(friendlyId: string, channelKey: string, options: Omit<RecordStreamOptions, "file" | "report">) {
    this.refuseIfPurged(friendlyId);
    const dir = this.sessionDir(friendlyId);
    fs.mkdirSync(dir, { recursive: true });
    return new RecordStream({
      ...options,
      file: path.join(dir, `${encodeURIComponent(channelKey)}.jsonl`),
      report: this.report,
    });
  }

  /** The transcript snapshot; a damaged one falls back to the previous turn's, which the SDK's replay of `.out` completes. */
  readSnapshot(friendlyId: string): string | undefined {
    if (this.purged.has(friendlyId)) return undefined;
    const file = path.join(this.sessionDir(friendlyId), SNAPSHOT_FILE);
    const read = readWithFallback(file, (text) => (isIntactSnapshot(text) ? text : undefined));
    if (read.from === "previous") {
      this.report(`${file} ${read.problem}; using the previous snapshot of session ${friendlyId}`);
      this.repair(file, read.value);
    } else if (read.from === "none" && read.problem) {
      this.report(
        `${file} ${read.problem} and has no previous version; session ${friendlyId} continues from its streams alone`,
      );
      fs.renameSync(file, `${file}.damaged`);
    }
    return read.value;
  }

  writeSnapshot(friendlyId: string, blob: string) {
    this.refuseIfPurged(friendlyId);
    const dir = this.sessionDir(friendlyId);
    fs.mkdirSync(dir, { recursive: true });
    writeFileAtomic(path.join(dir, SNAPSHOT_FILE), blob, { keepPrevious: true });
  }

  /** Sets a damaged file aside as `<file>.damaged` and puts the good version back in its place. */
  private repair(file: string, goodContent: string) {
    try {
      fs.renameSync(file, `${file}.damaged`);
    } catch {
      // It was missing rather than damaged.
    }
    writeFileAtomic(file, goodContent, { keepPrevious: false });
  }

  /** The last line of defence: a write that reached a deleted session would put its content back on disk. */
  private refuseIfPurged(friendlyId: string) {
    if (this.purged.has(friendlyId))
      throw new Error(`Session ${friendlyId} was deleted; its data cannot be written again`);
  }

  private sessionDir(friendlyId: string) {
    if (!SESSION_ID.test(friendlyId)) throw new Error(`Refusing unexpected session id ${JSON.stringify(friendlyId)}`);
    return path.join(this.sessionsDir, friendlyId);
  }

  /**
   * The lock file names the holder by pid and process start time. It counts
   * as held only while that very process is alive: after a crash a new
   * process may reuse the old pid (containers restart with the same pids),
   * and a process that is merely paused still holds it.
   */
  private lock() {
    if (heldInThisProcess.has(this.dataDir)) {
      throw new StartupError(`The data folder ${this.dataDir} is already in use by another engine in this process.`);
    }
    const mine = `${process.pid} ${processStartTime(process.pid) ?? ""}`.trim();
    if (!createFileExclusive(this.lockFile, `${mine}\n`)) {
      const [pid, startTime] = (readText(this.lockFile) ?? "").trim().split(/\s+/);
      const holder = Number(pid);
      if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && isSameProcess(holder, startTime)) {
        throw new StartupError(
          `The data folder ${this.dataDir} is in use by another engine (process ${holder}). Stop that process, or give this one its own folder with LOCAL_TRIGGER_DATA_DIR.`,
        );
      }
      // Left behind by a process that is gone.
      writeFileAtomic(this.lockFile, `${mine}\n`);
    }
    heldInThisProcess.add(this.dataDir);
  }
}

/** How many sessions a data folder holds, without opening it as an engine (the app's cookie secret asks this). */
export function countSessions(dataDir: string): number {
  try {
    return fs.readdirSync(path.join(dataDir, "sessions")).filter((name) => SESSION_ID.test(name)).length;
  } catch {
    return 0;
  }
}

function parseRow(text: string): SessionRow | undefined {
  try {
    return SessionRowSchema.safeParse(JSON.parse(text)).data;
  } catch {
    return undefined;
  }
}

/** A snapshot blob that was written whole: version 2 ends in a trailer and an entry index that match its entries. */
export function isIntactSnapshot(text: string): boolean {
  const parsed = parseTranscriptBlob(text);
  if (!parsed) return false;
  // Version 1 is one JSON document, whole if it parsed; version 2 is line-based and ends in a trailer.
  if (!text.startsWith('{"v":2')) return true;
  const trailerStart = text.length - TRANSCRIPT_TRAILER_BYTES;
  if (trailerStart < 0 || !readTranscriptTrailer(text.slice(trailerStart))) return false;
  const footerStart = text.lastIndexOf("\n", trailerStart - 2) + 1;
  const footer = parseTranscriptFooter(text.slice(footerStart, trailerStart - 1));
  return !!footer && footer.ids.length === parsed.messages.length;
}

function readText(file: string) {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}

/** The kernel's start time of a process, which tells a process apart from a later one with its pid; undefined without /proc. */
function processStartTime(pid: number): string | undefined {
  return procStat(pid)?.startTime;
}

/** Fields of /proc/<pid>/stat: the state letter and the start time, read after the parenthesised command name. */
function procStat(pid: number): { state: string; startTime: string } | undefined {
  const stat = readText(`/proc/${pid}/stat`);
  const fields = stat?.slice(stat.lastIndexOf(")") + 2).split(" ");
  return fields && fields.length > 19 ? { state: fields[0]!, startTime: fields[19]! } : undefined;
}

/** Whether `pid` is still the process that wrote the lock: alive, not a zombie, and started when the lock says. */
function isSameProcess(pid: number, startTime: string | undefined) {
  if (!isProcessAlive(pid)) return false;
  const stat = procStat(pid);
  if (!stat) return true;
  if (stat.state === "Z" || stat.state === "X") return false;
  return !startTime || stat.startTime === startTime;
}

/** Whether a process with this pid exists (one we may not signal counts). */
export function isProcessAlive(pid: number) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
