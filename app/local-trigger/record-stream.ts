import fs from "node:fs";

export type RecordHeader = [string, string];

/** One record of a session channel, in S2's wire shape. */
export type StreamRecord = {
  seq_num: number;
  timestamp: number;
  body: string;
  headers: RecordHeader[];
};

export type NewRecord = { body: string; headers?: RecordHeader[] };

/** S2 command records (trim, fence) carry a single header with an empty name. */
export const isCommandRecord = (record: StreamRecord) => record.headers[0]?.[0] === "";

export const controlSubtype = (record: { headers?: RecordHeader[] } | undefined) =>
  record?.headers?.find(([name]) => name === "trigger-control")?.[1];

/**
 * A durable, append-only stand-in for one S2 stream (a session's `.in` or
 * `.out`, or a side channel). Sequence numbers are monotonic for the life of
 * the session, across runs and engine restarts, because the client matches
 * turn-completes against the `.in` seq it was given.
 *
 * Every append is written to the channel's JSONL file synchronously before
 * listeners hear of it, so a record a reader has seen is never lost by a
 * restart, and a single thread of appends keeps the file in seq order.
 */
export class RecordStream {
  private records: StreamRecord[] = [];
  private nextSeq = 0;
  private trimmedBelow = 0;
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly file: string,
    private readonly onTrim: (earliest: number) => void,
    initialTrim = 0,
  ) {
    this.trimmedBelow = initialTrim;
    this.load();
  }

  /** The seq the next record will get, as S2 reports a tail. */
  get tail() {
    return { seq_num: this.nextSeq, timestamp: this.records.at(-1)?.timestamp ?? Date.now() };
  }

  get size() {
    return this.records.length;
  }

  append(items: NewRecord[]): { start: number; end: number } {
    const start = this.nextSeq;
    if (items.length === 0) return { start, end: start };
    const timestamp = Date.now();
    const added = items.map((item) => ({
      seq_num: this.nextSeq++,
      timestamp,
      body: item.body,
      headers: item.headers ?? [],
    }));
    fs.appendFileSync(this.file, added.map((record) => `${JSON.stringify(record)}\n`).join(""));
    this.records.push(...added);
    for (const listener of [...this.listeners]) listener();
    return { start, end: this.nextSeq };
  }

  /** Records with `seq_num >= fromSeq`; a cursor inside a trimmed range clamps forward, as S2 reads with `clamp=true`. */
  readFrom(fromSeq: number, limit = Number.POSITIVE_INFINITY): StreamRecord[] {
    const index = this.indexOf(fromSeq);
    return this.records.slice(index, index + limit);
  }

  lastNonCommand(): StreamRecord | undefined {
    for (let i = this.records.length - 1; i >= 0; i--) {
      const record = this.records[i]!;
      if (!isCommandRecord(record)) return record;
    }
    return undefined;
  }

  /** Drops records below `earliest` now; callers delay this like S2 does (10–60 s). */
  trim(earliest: number) {
    const bound = Math.min(earliest, this.nextSeq);
    if (bound <= this.trimmedBelow) return;
    this.trimmedBelow = bound;
    this.records = this.records.slice(this.indexOf(bound));
    this.onTrim(bound);
  }

  onAppend(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private indexOf(seq: number) {
    // Records are dense in seq order above the trim mark, so this is usually exact.
    const first = this.records[0]?.seq_num ?? this.nextSeq;
    const guess = seq - first;
    if (guess <= 0) return 0;
    if (guess >= this.records.length) return this.records.length;
    return this.records[guess]!.seq_num === seq ? guess : this.records.findIndex((r) => r.seq_num >= seq);
  }

  private load() {
    let text: string;
    try {
      text = fs.readFileSync(this.file, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
      throw error;
    }
    const lines = text.split("\n");
    let validBytes = 0;
    for (const line of lines) {
      if (line === "") continue;
      let record: StreamRecord;
      try {
        record = JSON.parse(line) as StreamRecord;
      } catch {
        // A crash mid-write leaves at most one torn final line; drop it so the next append starts clean.
        fs.truncateSync(this.file, validBytes);
        break;
      }
      validBytes += Buffer.byteLength(line) + 1;
      this.nextSeq = record.seq_num + 1;
      if (record.seq_num >= this.trimmedBelow) this.records.push(record);
    }
  }
}
