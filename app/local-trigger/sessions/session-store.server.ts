import fs from "node:fs";
import path from "node:path";
import { notFound } from "../http/errors.server";
import { type DataFolder, type SessionRow, tombstoneOf } from "../storage/data-folder.server";
import type { RecordStream } from "../storage/record-stream.server";

export type Session = SessionRow;

export type SessionStoreOptions = {
  /** Channel logs kept open at once; the least recently used one without readers is closed past it. */
  maxOpenStreams: number;
  /** How much of each open log stays in memory. */
  streamMemory: { records: number; bytes: number };
  /** Readers that may wait, all sessions together, for a session to be created. */
  maxWaitingForCreation: number;
};

/** Retried appends are recognised by their X-Part-Id within this many recent appends per channel. */
const PART_IDS_REMEMBERED = 1_024;

/**
 * Sessions as the engine knows them: every row in memory (rows are small),
 * persisted on each change, addressable by friendly id (`session_*`) or by
 * external id (the chat id); and their channel logs, opened on demand and
 * closed again when many are open, so memory follows what is in use rather
 * than everything that ever was.
 */
export class SessionStore {
  private readonly sessions = new Map<string, Session>();
  private readonly byExternalId = new Map<string, string>();
  /** Creation order; the list endpoint pages newest first. */
  private readonly ordered: Session[] = [];
  /** Open channel logs by `${friendlyId}/${channelKey}`, least recently used first. */
  private readonly streams = new Map<string, RecordStream>();
  private readonly partIds = new Map<string, Map<string, number>>();
  /** Readers waiting for a session with this external id to be created. */
  private readonly creationListeners = new Map<string, Set<(session: Session) => void>>();
  private waitingForCreation = 0;

  constructor(
    private readonly data: DataFolder,
    private readonly options: SessionStoreOptions,
  ) {
    const rows = data
      .loadSessions()
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.friendlyId.localeCompare(b.friendlyId));
    for (const row of rows) this.add(row);
  }

  get size() {
    return this.sessions.size;
  }

  /** A new session: on disk first, so a failed write leaves nothing half-made in memory. */
  create(row: SessionRow): Session {
    this.data.saveSession(row);
    const session = this.add(row);
    const listeners = session.externalId ? this.creationListeners.get(session.externalId) : undefined;
    if (listeners) {
      this.creationListeners.delete(session.externalId!);
      const waiting = [...listeners];
      listeners.clear();
      this.waitingForCreation -= waiting.length;
      for (const listener of waiting) listener(session);
    }
    return session;
  }

  /**
   * Deletes a session's data for good, on disk and in memory, and keeps its
   * tombstone, so its ids stay taken and read as closed. Then its open logs
   * are ended: their readers end, and nothing can append to the files again.
   * Stop its run before calling this. If the tombstone cannot be saved, this
   * throws and nothing has changed.
   */
  purge(session: Session, reason: string) {
    const tombstone = tombstoneOf(session, { at: new Date().toISOString(), reason });
    this.data.purgeSession(tombstone);
    for (const [key, stream] of this.streams) {
      if (splitKey(key)[0] !== session.friendlyId) continue;
      this.streams.delete(key);
      this.partIds.delete(key);
      stream.markDeleted();
    }
    // In place: requests that were waiting (for a body, for a run slot) hold this object and check it when they go on.
    for (const key of Object.keys(session) as (keyof Session)[])
      if (!(key in tombstone)) delete (session as Partial<Session>)[key];
    Object.assign(session, tombstone);
  }

  isPurged(session: Session) {
    return !!session.purgedAt;
  }

  /** Changes a session on disk, then in memory; a failed write changes nothing. */
  change(session: Session, changes: Partial<Omit<Session, "friendlyId">>) {
    const next: Session = { ...session, ...changes, updatedAt: new Date().toISOString() };
    this.persist(next);
    if (next.externalId !== session.externalId) {
      if (session.externalId) this.byExternalId.delete(session.externalId);
      if (next.externalId) this.byExternalId.set(next.externalId, session.friendlyId);
    }
    Object.assign(session, next);
  }

  private add(row: SessionRow): Session {
    const session: Session = { ...row };
    this.sessions.set(session.friendlyId, session);
    if (session.externalId) this.byExternalId.set(session.externalId, session.friendlyId);
    this.ordered.push(session);
    return session;
  }

  /** Stream URLs and session routes accept the friendly id (`session_*`) or the external id (the chat id). */
  resolve(key: string): Session | undefined {
    return this.sessions.get(key) ?? this.sessions.get(this.byExternalId.get(key) ?? "");
  }

  require(key: string): Session {
    const session = this.resolve(key);
    if (!session) throw notFound(`Session "${key}" not found`);
    return session;
  }

  /** The session behind a key, unless it was deleted: a deleted session has no streams or snapshots to serve. */
  requireWithData(key: string): Session {
    const session = this.require(key);
    if (session.purgedAt) throw notFound(`Session "${key}" was deleted`);
    return session;
  }

  /**
   * Calls `listener` once when a session with this external id is created, as
   * upstream's subscribe waits on a chat id before its session exists. Returns
   * the way to stop waiting, or undefined when `maxWaiting` readers already
   * wait, so waiting on ids that never come cannot grow without bound.
   */
  awaitCreation(externalId: string, listener: (session: Session) => void): (() => void) | undefined {
    if (this.waitingForCreation >= this.options.maxWaitingForCreation) return undefined;
    let listeners = this.creationListeners.get(externalId);
    if (!listeners) this.creationListeners.set(externalId, (listeners = new Set()));
    listeners.add(listener);
    this.waitingForCreation++;
    return () => {
      if (!listeners.delete(listener)) return;
      this.waitingForCreation--;
      if (listeners.size === 0 && this.creationListeners.get(externalId) === listeners) {
        this.creationListeners.delete(externalId);
      }
    };
  }

  /** How many readers wait for a session to be created. */
  get awaitingCreationCount() {
    return this.waitingForCreation;
  }

  /** Newest first. */
  newestFirst(): Session[] {
    return [...this.ordered].reverse();
  }

  all(): Iterable<Session> {
    return this.ordered;
  }

  /** Saves the row, with the next seq of each open log as a floor that damage to the log cannot lower. */
  persist(session: Session) {
    for (const [key, stream] of this.streams) {
      const [friendlyId, channelKey] = splitKey(key);
      if (friendlyId === session.friendlyId) (session.seqFloors ??= {})[channelKey] = stream.tail.seq_num;
    }
    this.data.saveSession(session);
  }

  touch(session: Session) {
    session.updatedAt = new Date().toISOString();
  }

  isExpired(session: Session) {
    return !!session.expiresAt && Date.parse(session.expiresAt) <= Date.now();
  }

  isOpen(session: Session) {
    return !session.closedAt && !this.isExpired(session);
  }

  /** The session's log for one channel: "in", "out", or "channel:<name>:<io>". A deleted session has none. */
  stream(session: Session, channelKey: string): RecordStream {
    if (session.purgedAt) throw notFound(`Session "${session.externalId ?? session.friendlyId}" was deleted`);
    const key = `${session.friendlyId}/${channelKey}`;
    let stream = this.streams.get(key);
    if (stream) {
      // Most recently used last.
      this.streams.delete(key);
    } else {
      stream = this.data.openStream(session.friendlyId, channelKey, {
        trimmedBelow: session.trims[channelKey] ?? 0,
        seqFloor: session.seqFloors?.[channelKey] ?? 0,
        memory: this.options.streamMemory,
        onTrim: (earliest) => {
          session.trims[channelKey] = earliest;
          this.persist(session);
        },
      });
      this.closeIdleStreams();
    }
    this.streams.set(key, stream);
    return stream;
  }

  /** Side channels that hold records, by name. */
  channelNames(session: Session): Set<string> {
    const names = new Set<string>();
    let files: string[] = [];
    try {
      files = fs.readdirSync(path.join(this.data.sessionsDir, session.friendlyId));
    } catch {
      // No directory yet: no channels.
    }
    for (const file of files) {
      const match = /^channel:(.+):(?:in|out)\.jsonl$/.exec(decodeURIComponent(file));
      if (match) names.add(match[1]!);
    }
    return names;
  }

  /** X-Part-Id → seq of the channel's recent appends, so a retried append is acknowledged, not stored twice. */
  recentPartIds(session: Session, channelKey: string): Map<string, number> {
    const key = `${session.friendlyId}/${channelKey}`;
    let index = this.partIds.get(key);
    if (!index) {
      index = new Map();
      const stream = this.stream(session, channelKey);
      for (const record of stream.readFrom(Math.max(0, stream.tail.seq_num - PART_IDS_REMEMBERED))) {
        const id = envelopeOf(record.body)?.id;
        if (typeof id === "string") index.set(id, record.seq_num);
      }
      this.partIds.set(key, index);
    }
    return index;
  }

  rememberPartId(session: Session, channelKey: string, partId: string, seq: number) {
    const index = this.recentPartIds(session, channelKey);
    index.set(partId, seq);
    if (index.size > PART_IDS_REMEMBERED) index.delete(index.keys().next().value!);
  }

  get openStreamCount() {
    return this.streams.size;
  }

  private closeIdleStreams() {
    if (this.streams.size < this.options.maxOpenStreams) return;
    for (const [key, stream] of this.streams) {
      if (this.streams.size < this.options.maxOpenStreams) break;
      // A stream with live readers stays: they hold it, and a second copy of one file must never exist.
      if (stream.hasListeners) continue;
      this.streams.delete(key);
      this.partIds.delete(key);
    }
  }
}

const splitKey = (key: string): [string, string] => {
  const slash = key.indexOf("/");
  return [key.slice(0, slash), key.slice(slash + 1)];
};

/** The `{ data, id }` envelope of a data record, or undefined for a control or command record. */
export function envelopeOf(body: string): { data?: unknown; id?: unknown } | undefined {
  if (!body) return undefined;
  try {
    const parsed = JSON.parse(body) as unknown;
    return typeof parsed === "object" && parsed !== null ? (parsed as { data?: unknown; id?: unknown }) : undefined;
  } catch {
    return undefined;
  }
}
