import fs from "node:fs";
import { writeFileAtomic } from "./atomic-file.server";

export type RecordHeader = [string, string];

/** One record of a session channel, in S2's wire shape. */
export type StreamRecord = {
  seq_num: number;
  timestamp: number;
  body: string;
  headers: RecordHeader[];
};

export type NewRecord = { body: string; headers?: RecordHeader[] };

/** The highest seq a record may carry: clients send cursors back as at most 15 digits. */
export const MAX_SEQ = 10 ** 15 - 1;
/** Far more seqs than the engine ever leaves unused in a row (it only skips the seqs of damaged lines). */
const MAX_SEQ_GAP = 100_000;

/** S2 command records (trim, fence) carry a single header with an empty name. */
export const isCommandRecord = (record: StreamRecord) => record.headers[0]?.[0] === "";

export const controlSubtype = (record: { headers?: RecordHeader[] } | undefined) =>
  record?.headers?.find(([name]) => name === "trigger-control")?.[1];

export type RecordStreamOptions = {
  file: string;
  /** Records below this seq were trimmed; they are never served again. */
  trimmedBelow?: number;
  /** The next seq is at least this: a persisted high-water mark that outlives damage to the file. */
  seqFloor?: number;
  onTrim?: (earliest: number) => void;
  /** One line per thing the load had to skip or repair. */
  report?: (message: string) => void;
  /** How much of the newest data stays in memory; older records are read from disk. */
  memory?: { records: number; bytes: number };
};

/** Records between two index points; a read from disk starts at most this many lines early. */
const INDEX_EVERY = 64;
const READ_CHUNK_BYTES = 64 * 1024;
/** Trimmed bytes at the head of the file are reclaimed once there are this many and they are over half the file. */
const COMPACT_AFTER_BYTES = 1024 * 1024;
const DEFAULT_MEMORY = { records: 256, bytes: 256 * 1024 };
/** Damaged lines named one by one in the log; the rest are counted in one more line. */
const DAMAGE_LINES_REPORTED = 10;

/**
 * A durable, append-only stand-in for one S2 stream (a session's `.in` or
 * `.out`, or a side channel), kept as one JSON line per record.
 *
 * - **Durable before visible.** An append is written to the file before
 *   listeners hear of it, so a record a reader has seen survives a restart.
 * - **Monotonic.** Sequence numbers never go backwards or repeat, across runs,
 *   restarts and damage: the client matches turn-completes against the `.in`
 *   seq it was given, and resumes `.out` from the last seq it saw.
 * - **Bounded memory.** Only the newest records stay in memory; older ones are
 *   read from disk through a sparse index of line offsets.
 * - **Damage costs only what is damaged.** On load a torn final line (a crash
 *   mid-write; never acknowledged) is cut off, a damaged line elsewhere is
 *   moved to `<file>.damaged` and the records after it are kept.
 */
export class RecordStream {
  private readonly file: string;
  private readonly memory: { records: number; bytes: number };
  private readonly onTrim: (earliest: number) => void;
  private readonly listeners = new Set<() => void>();
  private readonly closeListeners = new Set<() => void>();
  /** Set when the session was deleted: the file is gone, and this object must never write it again. */
  private deleted = false;
  /** The newest records, oldest first, each with its line's byte offset and length. */
  private recent: { record: StreamRecord; offset: number; bytes: number }[] = [];
  private recentBytes = 0;
  /** Every INDEX_EVERY-th live record's seq and line offset, ascending. */
  private index: { seq: number; offset: number }[] = [];
  private sinceIndexed = 0;
  private fileSize = 0;
  private nextSeq = 0;
  private trimmedBelow = 0;
  /** Byte offset of the first record at or above the trim mark. */
  private liveStart = 0;
  private liveRecords = 0;

  constructor(options: RecordStreamOptions) {
    this.file = options.file;
    this.memory = options.memory ?? DEFAULT_MEMORY;
    this.onTrim = options.onTrim ?? (() => {});
    this.trimmedBelow = options.trimmedBelow ?? 0;
    this.load(options.report ?? (() => {}));
    this.nextSeq = Math.max(this.nextSeq, options.seqFloor ?? 0, this.trimmedBelow);
  }

  /** The seq the next record will get, as S2 reports a tail. */
  get tail() {
    return { seq_num: this.nextSeq, timestamp: this.recent.at(-1)?.record.timestamp ?? Date.now() };
  }

  /** How many records are held in memory (the rest are read from disk). */
  get inMemory() {
    return this.recent.length;
  }

  /** Records and bytes above the trim mark: what quotas count. */
  get usage() {
    return { records: this.liveRecords, bytes: this.fileSize - this.liveStart };
  }

  append(items: NewRecord[]): { start: number; end: number } {
    this.refuseIfDeleted();
    const start = this.nextSeq;
    if (items.length === 0) return { start, end: start };
    if (start + items.length - 1 > MAX_SEQ) throw new Error(`${this.file} has used every sequence number`);
    const timestamp = Date.now();
    const lines = items.map((item, i) => {
      const record: StreamRecord = { seq_num: start + i, timestamp, body: item.body, headers: item.headers ?? [] };
      const text = `${JSON.stringify(record)}\n`;
      return { record, text, bytes: Buffer.byteLength(text) };
    });
    try {
      fs.appendFileSync(this.file, lines.map((line) => line.text).join(""));
    } catch (error) {
      // A partial write (a full disk) would merge with the next line; cut it off so the file stays clean.
      try {
        fs.truncateSync(this.file, this.fileSize);
      } catch {
        // The next load drops a torn final line anyway.
      }
      throw error;
    }
    for (const line of lines) {
      this.remember(line.record, this.fileSize, line.bytes);
      this.fileSize += line.bytes;
    }
    this.nextSeq = start + items.length;
    for (const listener of [...this.listeners]) listener();
    return { start, end: this.nextSeq };
  }

  /** Records with `seq_num >= fromSeq`; a cursor inside a trimmed range clamps forward, as S2 reads with `clamp=true`. */
  readFrom(fromSeq: number, limit = Number.POSITIVE_INFINITY): StreamRecord[] {
    this.refuseIfDeleted();
    const from = Math.max(fromSeq, this.trimmedBelow);
    if (from >= this.nextSeq || limit <= 0) return [];
    const oldestInMemory = this.recent[0]?.record.seq_num;
    if (oldestInMemory !== undefined && from >= oldestInMemory) {
      const index = this.recentIndexOf(from);
      return this.recent.slice(index, index + limit).map((entry) => entry.record);
    }
    return this.readFromDisk(from, limit);
  }

  lastNonCommand(): StreamRecord | undefined {
    for (let i = this.recent.length - 1; i >= 0; i--) {
      const record = this.recent[i]!.record;
      if (!isCommandRecord(record)) return record;
    }
    if (this.recent.length === this.liveRecords) return undefined;
    // Only command records in memory: look further back on disk (rare).
    let last: StreamRecord | undefined;
    for (const record of this.readFromDisk(this.trimmedBelow, Number.POSITIVE_INFINITY)) {
      if (!isCommandRecord(record)) last = record;
    }
    return last;
  }

  /** Drops records below `earliest` now; callers delay this like S2 does (10–60 s). */
  trim(earliest: number) {
    this.refuseIfDeleted();
    const bound = Math.min(earliest, this.nextSeq);
    if (bound <= this.trimmedBelow) return;
    let dropped = 0;
    let newLiveStart = this.fileSize;
    for (const line of this.lines(this.liveStart, this.fileSize)) {
      const record = parseRecord(line.text);
      if (record && record.seq_num >= bound) {
        newLiveStart = line.offset;
        break;
      }
      if (record) dropped++;
    }
    this.trimmedBelow = bound;
    this.liveStart = newLiveStart;
    this.liveRecords = Math.max(0, this.liveRecords - dropped);
    while (this.recent.length > 0 && this.recent[0]!.record.seq_num < bound) this.forgetOldest();
    this.index = this.index.filter((point) => point.seq >= bound);
    if (this.liveStart < this.fileSize && this.index[0]?.offset !== this.liveStart) {
      this.index.unshift({ seq: bound, offset: this.liveStart });
    }
    this.onTrim(bound);
    if (this.liveStart >= COMPACT_AFTER_BYTES && this.liveStart * 2 > this.fileSize) this.compact();
  }

  onAppend(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get hasListeners() {
    return this.listeners.size > 0;
  }

  /** Called once if the log is deleted, so its readers can end. */
  onDeleted(listener: () => void): () => void {
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  /**
   * The session was deleted and its file is going: memory is let go, every
   * later use throws, and readers are told, so nothing writes the file back
   * or serves what was in it.
   */
  markDeleted() {
    if (this.deleted) return;
    this.deleted = true;
    this.recent = [];
    this.recentBytes = 0;
    this.index = [];
    this.listeners.clear();
    for (const listener of [...this.closeListeners]) listener();
    this.closeListeners.clear();
  }

  private refuseIfDeleted() {
    if (this.deleted) throw new Error(`${this.file} was deleted with its session`);
  }

  /** Rewrites the file without its trimmed head, so disk use follows what is live. */
  private compact() {
    const live = Buffer.alloc(this.fileSize - this.liveStart);
    const fd = fs.openSync(this.file, "r");
    try {
      fs.readSync(fd, live, 0, live.length, this.liveStart);
    } finally {
      fs.closeSync(fd);
    }
    writeFileAtomic(this.file, live);
    const shift = this.liveStart;
    this.fileSize -= shift;
    this.liveStart = 0;
    for (const point of this.index) point.offset -= shift;
    for (const entry of this.recent) entry.offset -= shift;
  }

  private remember(record: StreamRecord, offset: number, bytes: number) {
    if (record.seq_num < this.trimmedBelow) {
      this.liveStart = offset + bytes;
      return;
    }
    if (this.liveRecords === 0 || this.sinceIndexed >= INDEX_EVERY) {
      this.index.push({ seq: record.seq_num, offset });
      this.sinceIndexed = 0;
    }
    this.sinceIndexed++;
    this.liveRecords++;
    this.recent.push({ record, offset, bytes });
    this.recentBytes += bytes;
    while (this.recent.length > 1 && (this.recent.length > this.memory.records || this.recentBytes > this.memory.bytes))
      this.forgetOldest();
  }

  private forgetOldest() {
    const oldest = this.recent.shift();
    if (oldest) this.recentBytes -= oldest.bytes;
  }

  private recentIndexOf(seq: number) {
    let low = 0;
    let high = this.recent.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (this.recent[mid]!.record.seq_num < seq) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  private readFromDisk(from: number, limit: number): StreamRecord[] {
    let startOffset = this.liveStart;
    for (const point of this.index) {
      if (point.seq > from) break;
      startOffset = point.offset;
    }
    const records: StreamRecord[] = [];
    for (const line of this.lines(startOffset, this.fileSize)) {
      const record = parseRecord(line.text);
      if (!record || record.seq_num < from) continue;
      records.push(record);
      if (records.length >= limit) break;
    }
    return records;
  }

  /** The lines of the file between two byte offsets, read in chunks. */
  private *lines(
    from: number,
    to: number,
  ): Generator<{ text: string; offset: number; bytes: number; terminated: boolean }> {
    if (from >= to) return;
    const fd = fs.openSync(this.file, "r");
    try {
      const chunk = Buffer.alloc(READ_CHUNK_BYTES);
      let pending = Buffer.alloc(0);
      let pendingOffset = from;
      let position = from;
      while (position < to) {
        const read = fs.readSync(fd, chunk, 0, Math.min(chunk.length, to - position), position);
        if (read === 0) break;
        position += read;
        let buffer = pending.length > 0 ? Buffer.concat([pending, chunk.subarray(0, read)]) : chunk.subarray(0, read);
        let lineStart = 0;
        for (let newline = buffer.indexOf(10); newline !== -1; newline = buffer.indexOf(10, lineStart)) {
          yield {
            text: buffer.toString("utf8", lineStart, newline),
            offset: pendingOffset + lineStart,
            bytes: newline + 1 - lineStart,
            terminated: true,
          };
          lineStart = newline + 1;
        }
        buffer = buffer.subarray(lineStart);
        pendingOffset += lineStart;
        // Copy: `chunk` is reused for the next read.
        pending = Buffer.from(buffer);
      }
      if (pending.length > 0)
        yield { text: pending.toString("utf8"), offset: pendingOffset, bytes: pending.length, terminated: false };
    } finally {
      fs.closeSync(fd);
    }
  }

  private load(report: (message: string) => void) {
    try {
      this.fileSize = fs.statSync(this.file).size;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
      throw error;
    }
    type Line = { offset: number; bytes: number; line: number; seq?: number; farAbove?: number; blank: boolean };
    const lines: Line[] = [];
    let inOrder = true;
    let lastSeq = -1;
    // Every plausible seq the file shows, damaged lines' included: the next seq goes above all of them.
    let highestSeen = -1;
    // The engine never skips more than a few seqs, so one far above the records before it is damage.
    let plausibleTop = this.trimmedBelow - 1;
    let tornAt: number | undefined;
    for (const line of this.lines(0, this.fileSize)) {
      let record = parseRecord(line.text);
      const farAbove = record && record.seq_num > plausibleTop + MAX_SEQ_GAP ? record.seq_num : undefined;
      if (farAbove !== undefined) record = undefined;
      const seen = record?.seq_num ?? seqOfDamagedLine(line.text);
      if (seen !== undefined && seen <= plausibleTop + MAX_SEQ_GAP) highestSeen = Math.max(highestSeen, seen);
      if (record) plausibleTop = Math.max(plausibleTop, record.seq_num);
      if (!line.terminated && !record) {
        tornAt = line.offset;
        break;
      }
      if (!line.terminated) {
        // Whole but for its newline: end it, or the next append would run on from it.
        fs.appendFileSync(this.file, "\n");
        this.fileSize += 1;
      }
      lines.push({
        offset: line.offset,
        bytes: line.bytes,
        line: lines.length + 1,
        seq: record?.seq_num,
        farAbove,
        blank: !record && line.text.trim() === "",
      });
      if (!record) continue;
      if (inOrder && record.seq_num > lastSeq) this.remember(record, line.offset, line.bytes);
      else inOrder = false;
      lastSeq = record.seq_num;
    }

    // Keep the most records whose seqs rise in file order; anything else is damage.
    const records = lines.filter((line) => line.seq !== undefined);
    const kept = new Set(longestRising(records.map((line) => line.seq!)).map((index) => records[index]!));
    const damaged = lines.filter((line) => !kept.has(line) && !line.blank);
    // A line past the last kept record that says nothing of its seq still took one.
    const lastKept = lines.findLastIndex((line) => kept.has(line));
    const unreadableAfter =
      lines.slice(lastKept + 1).filter((line) => line.seq === undefined && !line.blank).length +
      (tornAt === undefined ? 0 : 1);
    const keptTop = lastKept === -1 ? -1 : lines[lastKept]!.seq!;
    this.nextSeq = Math.max(highestSeen + 1, keptTop + 1 + unreadableAfter);

    if (tornAt !== undefined) {
      fs.truncateSync(this.file, tornAt);
      this.fileSize = tornAt;
      report(`${this.file}: dropped a torn final line (a write cut off by a crash, never acknowledged)`);
    }
    if (damaged.length > 0) this.quarantine(damaged, report);
  }

  /** Moves damaged lines to `<file>.damaged` and rewrites the log without them, keeping every record. */
  private quarantine(
    damaged: { offset: number; bytes: number; line: number; seq?: number; farAbove?: number }[],
    report: (message: string) => void,
  ) {
    const whole = fs.readFileSync(this.file).subarray(0, this.fileSize);
    const kept: Buffer[] = [];
    const removed: Buffer[] = [];
    let cursor = 0;
    for (const bad of damaged) {
      kept.push(whole.subarray(cursor, bad.offset));
      removed.push(whole.subarray(bad.offset, bad.offset + bad.bytes));
      cursor = bad.offset + bad.bytes;
    }
    kept.push(whole.subarray(cursor));
    fs.appendFileSync(`${this.file}.damaged`, Buffer.concat(removed));
    writeFileAtomic(this.file, Buffer.concat(kept));
    for (const bad of damaged.slice(0, DAMAGE_LINES_REPORTED)) {
      const seq = bad.seq ?? bad.farAbove;
      const what =
        seq === undefined ? "is not a valid record" : `holds seq ${seq}, out of order with the records around it`;
      report(`${this.file}: line ${bad.line} ${what}; moved it to ${this.file}.damaged and kept the records around it`);
    }
    if (damaged.length > DAMAGE_LINES_REPORTED) {
      report(
        `${this.file}: ${damaged.length - DAMAGE_LINES_REPORTED} more damaged lines moved to ${this.file}.damaged`,
      );
    }
    // Offsets moved: index the clean file again.
    this.recent = [];
    this.recentBytes = 0;
    this.index = [];
    this.sinceIndexed = 0;
    this.liveRecords = 0;
    this.liveStart = 0;
    const nextSeq = this.nextSeq;
    this.load(report);
    this.nextSeq = Math.max(this.nextSeq, nextSeq);
  }
}

function parseRecord(text: string): StreamRecord | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  const { seq_num, timestamp, body, headers } = value as Record<string, unknown>;
  if (!Number.isSafeInteger(seq_num) || (seq_num as number) < 0 || (seq_num as number) > MAX_SEQ) return undefined;
  if (typeof timestamp !== "number" || typeof body !== "string") return undefined;
  if (
    !Array.isArray(headers) ||
    !headers.every((h) => Array.isArray(h) && h.length === 2 && typeof h[0] === "string" && typeof h[1] === "string")
  ) {
    return undefined;
  }
  return { seq_num: seq_num as number, timestamp, body, headers: headers as RecordHeader[] };
}

/** Records are written with `seq_num` first, so even a damaged line usually still says which seq it held. */
function seqOfDamagedLine(text: string): number | undefined {
  const match = /^\{"seq_num":(\d{1,15})[,}]/.exec(text);
  return match ? Number(match[1]) : undefined;
}

/** Positions of a longest strictly rising run (not necessarily contiguous) of `values`. */
function longestRising(values: number[]): number[] {
  const tails: number[] = [];
  const previous: number[] = new Array(values.length).fill(-1);
  for (let i = 0; i < values.length; i++) {
    let low = 0;
    let high = tails.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (values[tails[mid]!]! < values[i]!) low = mid + 1;
      else high = mid;
    }
    if (low > 0) previous[i] = tails[low - 1]!;
    tails[low] = i;
  }
  const result: number[] = [];
  for (let i = tails.at(-1) ?? -1; i !== -1; i = previous[i]!) result.push(i);
  return result.reverse();
}
