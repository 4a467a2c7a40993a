import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { RecordStream } from "./record-stream";

/** A session as the engine keeps it; serialised to `session.json`. */
export type SessionRow = {
  friendlyId: string;
  externalId: string | null;
  type: string;
  taskIdentifier: string;
  triggerConfig: Record<string, unknown>;
  tags: string[];
  metadata: Record<string, unknown> | null;
  closedAt: string | null;
  closedReason: string | null;
  expiresAt: string | null;
  createdAt: string;
  updatedAt: string;
  currentRunId: string | null;
  /** Output of a turn has started and its turn-complete has not been written: a crash here leaves a client waiting. */
  turnInProgress?: boolean;
  /** Trim marks per channel, so a restart does not resurrect trimmed records. */
  trims: Record<string, number>;
};

const SESSION_FILE = "session.json";
const SNAPSHOT_FILE = "snapshot.blob";

/**
 * Reads a secret from the data folder, creating it on first use. Secrets are
 * generated, never defaulted, and the file is readable by its owner only.
 */
export function loadOrCreateSecret(dataDir: string, name: string, generate: () => string): string {
  const file = path.join(dataDir, name);
  try {
    const existing = fs.readFileSync(file, "utf8").trim();
    if (existing) return existing;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  fs.mkdirSync(dataDir, { recursive: true });
  const secret = generate();
  try {
    // `wx`: if two processes race on first start, the loser reads the winner's key.
    fs.writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: "wx" });
    return secret;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return fs.readFileSync(file, "utf8").trim();
    throw error;
  }
}

export const randomId = (bytes = 12) => randomBytes(bytes).toString("base64url").replace(/[-_]/g, "x").toLowerCase();

/** The data folder: one directory per session holding its row, channel logs and transcript snapshot. */
export class EngineStorage {
  private readonly sessionsDir: string;

  constructor(readonly dataDir: string) {
    this.sessionsDir = path.join(dataDir, "sessions");
    fs.mkdirSync(this.sessionsDir, { recursive: true });
  }

  loadSessions(): SessionRow[] {
    const rows: SessionRow[] = [];
    for (const entry of fs.readdirSync(this.sessionsDir, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      const file = path.join(this.sessionsDir, entry.name, SESSION_FILE);
      try {
        rows.push(JSON.parse(fs.readFileSync(file, "utf8")) as SessionRow);
      } catch (error) {
        // A directory without a readable row was never acknowledged to any client.
        if ((error as NodeJS.ErrnoException).code !== "ENOENT") console.warn(`[local-trigger] skipping unreadable ${file}: ${String(error)}`);
      }
    }
    return rows;
  }

  /** Atomic replace: a crash leaves either the old row or the new one, never a torn file. */
  saveSession(row: SessionRow) {
    const dir = this.sessionDir(row.friendlyId);
    fs.mkdirSync(dir, { recursive: true });
    const target = path.join(dir, SESSION_FILE);
    const temp = `${target}.${process.pid}.tmp`;
    fs.writeFileSync(temp, JSON.stringify(row));
    fs.renameSync(temp, target);
  }

  openStream(row: SessionRow, channelKey: string, onTrim: (earliest: number) => void) {
    const dir = this.sessionDir(row.friendlyId);
    fs.mkdirSync(dir, { recursive: true });
    return new RecordStream(path.join(dir, `${encodeURIComponent(channelKey)}.jsonl`), onTrim, row.trims[channelKey] ?? 0);
  }

  readSnapshot(friendlyId: string): string | undefined {
    try {
      return fs.readFileSync(path.join(this.sessionDir(friendlyId), SNAPSHOT_FILE), "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw error;
    }
  }

  writeSnapshot(friendlyId: string, blob: string) {
    const target = path.join(this.sessionDir(friendlyId), SNAPSHOT_FILE);
    const temp = `${target}.${process.pid}.tmp`;
    fs.writeFileSync(temp, blob);
    fs.renameSync(temp, target);
  }

  private sessionDir(friendlyId: string) {
    if (!/^session_[a-z0-9]+$/.test(friendlyId)) throw new Error(`Refusing unexpected session id ${JSON.stringify(friendlyId)}`);
    return path.join(this.sessionsDir, friendlyId);
  }
}
