import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { parseTranscriptBlob, parseTranscriptFooter, readTranscriptTrailer, TRANSCRIPT_TRAILER_BYTES } from "@trigger.dev/core/v3";
import { z } from "zod";
import { createFileExclusive, readWithFallback, writeFileAtomic } from "./atomic-file.server";
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
  trims: z.record(z.string(), z.number().int().min(0).max(MAX_SEQ + 1)),
  /** The next seq per channel as of the last save: sequence numbers continue above it even if the log is damaged. */
  seqFloors: z.record(z.string(), z.number().int().min(0).max(MAX_SEQ + 1)).optional(),
});

/** A session as the engine keeps it; serialised to `session.json`. */
export type SessionRow = z.infer<typeof SessionRowSchema>;

const SESSION_FILE = "session.json";
/** The row as first written; never rewritten. */
const CREATED_FILE = "created.json";
const SNAPSHOT_FILE = "snapshot.blob";
const LOCK_FILE = "engine.lock";
const SESSION_ID = /^session_[a-z0-9]+$/;

export const randomId = (bytes = 12) => randomBytes(bytes).toString("base64url").replace(/[-_]/g, "x").toLowerCase();

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
      if (fs.readFileSync(this.lockFile, "utf8").trim().split(/\s+/)[0] === String(process.pid)) fs.rmSync(this.lockFile, { force: true });
    } catch {
      // Already gone.
    }
  }

  loadSessions(): SessionRow[] {
    const rows: SessionRow[] = [];
    for (const entry of fs.readdirSync(this.sessionsDir, { withFileTypes: true })) {
      if (!entry.isDirectory() || !SESSION_ID.test(entry.name)) continue;
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
        if (read.problem) this.report(`${file} ${read.problem} and has no earlier version; skipped session ${entry.name}`);
        continue;
      }
      let row = read.value;
      if (read.from === "previous") {
        this.report(`${file} ${read.problem}; restored the previous version of session ${entry.name} (from ${row.updatedAt})`);
      } else if (read.from !== "current") {
        row = this.withCloseFromStream(row);
        this.report(
          `${file} and its previous version are damaged; restored session ${entry.name} as it was created, with its close from its stream (later title, metadata and tag changes are lost)`,
        );
      }
      if (read.from !== "current") this.repair(file, JSON.stringify(row));
      rows.push(row);
    }
    return rows;
  }

  /** Whether any session exists yet: what generated secrets guard. */
  hasSessions() {
    return countSessions(this.dataDir) > 0;
  }

  saveSession(row: SessionRow) {
    const dir = this.sessionDir(row.friendlyId);
    fs.mkdirSync(dir, { recursive: true });
    const text = JSON.stringify(row);
    // Written once and never again, so it cannot be torn by a later save: the last resort if both rows are.
    if (!fs.existsSync(path.join(dir, CREATED_FILE))) createFileExclusive(path.join(dir, CREATED_FILE), text);
    writeFileAtomic(path.join(dir, SESSION_FILE), text, { keepPrevious: true });
  }

  /** A row restored from its creation record is open; its `.out` says whether it was closed since. */
  private withCloseFromStream(row: SessionRow): SessionRow {
    const stream = this.openStream(row.friendlyId, "out", {});
    let closed: { at: string; reason: string | null } | undefined;
    for (let from = 0; ; ) {
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
    const dir = this.sessionDir(friendlyId);
    fs.mkdirSync(dir, { recursive: true });
    return new RecordStream({ ...options, file: path.join(dir, `${encodeURIComponent(channelKey)}.jsonl`), report: this.report });
  }

  /** The transcript snapshot; a damaged one falls back to the previous turn's, which the SDK's replay of `.out` completes. */
  readSnapshot(friendlyId: string): string | undefined {
    const file = path.join(this.sessionDir(friendlyId), SNAPSHOT_FILE);
    const read = readWithFallback(file, (text) => (isIntactSnapshot(text) ? text : undefined));
    if (read.from === "previous") {
      this.report(`${file} ${read.problem}; using the previous snapshot of session ${friendlyId}`);
      this.repair(file, read.value);
    } else if (read.from === "none" && read.problem) {
      this.report(`${file} ${read.problem} and has no previous version; session ${friendlyId} continues from its streams alone`);
      fs.renameSync(file, `${file}.damaged`);
    }
    return read.value;
  }

  writeSnapshot(friendlyId: string, blob: string) {
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
