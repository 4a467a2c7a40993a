import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { controlSubtype, isCommandRecord, RecordStream, type RecordStreamOptions } from "./record-stream.server";

const tempFile = () => path.join(fs.mkdtempSync(path.join(os.tmpdir(), "record-stream-")), "out.jsonl");
const open = (file: string, options: Omit<RecordStreamOptions, "file"> = {}) => new RecordStream({ file, ...options });
const seqs = (stream: RecordStream, from = 0) => stream.readFrom(from).map((r) => r.seq_num);
const bodies = (stream: RecordStream, from = 0) => stream.readFrom(from).map((r) => r.body);

function withRecords(count: number) {
  const file = tempFile();
  open(file).append(Array.from({ length: count }, (_, i) => ({ body: `r${i}` })));
  return file;
}

/** Replaces line `index` (0-based) of a JSONL file. */
function damageLine(file: string, index: number, replacement: string) {
  const lines = fs.readFileSync(file, "utf8").split("\n");
  lines[index] = replacement;
  fs.writeFileSync(file, lines.join("\n"));
}

describe("RecordStream", () => {
  it("numbers records densely and reads from any cursor", () => {
    const stream = open(tempFile());
    expect(stream.append([{ body: "a" }, { body: "b" }])).toEqual({ start: 0, end: 2 });
    expect(stream.append([{ body: "c", headers: [["trigger-control", "turn-complete"]] }])).toEqual({
      start: 2,
      end: 3,
    });
    expect(bodies(stream, 1)).toEqual(["b", "c"]);
    expect(stream.readFrom(1, 1).map((r) => r.body)).toEqual(["b"]);
    expect(stream.readFrom(9)).toEqual([]);
    expect(controlSubtype(stream.lastNonCommand())).toBe("turn-complete");
    expect(stream.tail.seq_num).toBe(3);
  });

  it("restores every record and the next seq from its file", () => {
    const file = tempFile();
    open(file).append([{ body: "one" }, { body: "two", headers: [["k", "v"]] }]);
    const reopened = open(file);
    expect(reopened.readFrom(0).map((r) => [r.seq_num, r.body, r.headers])).toEqual([
      [0, "one", []],
      [1, "two", [["k", "v"]]],
    ]);
    expect(reopened.append([{ body: "three" }]).start).toBe(2);
  });

  it("tells listeners about appends after the record is on disk", () => {
    const file = tempFile();
    const stream = open(file);
    const seenOnDisk: boolean[] = [];
    stream.onAppend(() => seenOnDisk.push(fs.readFileSync(file, "utf8").includes('"body":"x"')));
    stream.append([{ body: "x" }]);
    expect(seenOnDisk).toEqual([true]);
  });
});

describe("RecordStream memory", () => {
  it("keeps only the newest records in memory and reads older ones from disk", () => {
    const file = tempFile();
    const stream = open(file, { memory: { records: 8, bytes: 64 * 1024 } });
    for (let i = 0; i < 1000; i++) stream.append([{ body: `r${i}` }]);
    expect(stream.inMemory).toBe(8);
    expect(bodies(stream)).toEqual(Array.from({ length: 1000 }, (_, i) => `r${i}`));
    expect(stream.readFrom(500, 3).map((r) => r.body)).toEqual(["r500", "r501", "r502"]);
    expect(stream.readFrom(995).map((r) => r.body)).toEqual(["r995", "r996", "r997", "r998", "r999"]);

    const reopened = open(file, { memory: { records: 8, bytes: 64 * 1024 } });
    expect(reopened.inMemory).toBe(8);
    expect(reopened.readFrom(130, 2).map((r) => r.body)).toEqual(["r130", "r131"]);
  });

  it("bounds memory by bytes too", () => {
    const stream = open(tempFile(), { memory: { records: 1000, bytes: 10 * 1024 } });
    for (let i = 0; i < 100; i++) stream.append([{ body: "x".repeat(1024) }]);
    expect(stream.inMemory).toBeLessThanOrEqual(10);
    expect(stream.readFrom(0)).toHaveLength(100);
  });
});

describe("RecordStream trims", () => {
  it("trims below a mark, clamps reads forward, and keeps the mark across a reload", () => {
    const file = tempFile();
    const marks: number[] = [];
    const stream = open(file, { onTrim: (mark) => marks.push(mark) });
    stream.append([{ body: "0" }, { body: "1" }, { body: "", headers: [["", "trim"]] }, { body: "3" }]);
    expect(isCommandRecord(stream.readFrom(2)[0]!)).toBe(true);
    stream.trim(2);
    expect(marks).toEqual([2]);
    expect(seqs(stream)).toEqual([2, 3]);
    stream.trim(1);
    expect(marks).toEqual([2]);
    expect(seqs(open(file, { trimmedBelow: 2 }))).toEqual([2, 3]);
  });

  it("counts only live records toward usage, and reclaims the disk of trimmed ones", () => {
    const file = tempFile();
    const stream = open(file, { memory: { records: 16, bytes: 64 * 1024 } });
    const body = "y".repeat(1000);
    for (let i = 0; i < 3000; i++) stream.append([{ body }]);
    expect(stream.usage.records).toBe(3000);
    const sizeBefore = fs.statSync(file).size;
    expect(stream.usage.bytes).toBe(sizeBefore);

    stream.trim(2500);
    expect(stream.usage.records).toBe(500);
    expect(fs.statSync(file).size).toBeLessThan(sizeBefore / 4);
    expect(stream.usage.bytes).toBe(fs.statSync(file).size);
    expect(seqs(stream)).toEqual(Array.from({ length: 500 }, (_, i) => 2500 + i));
    expect(stream.readFrom(2600, 1)[0]!.seq_num).toBe(2600);
    expect(stream.append([{ body: "after" }]).start).toBe(3000);
    expect(seqs(open(file, { trimmedBelow: 2500 })).at(-1)).toBe(3000);
  });
});

describe("RecordStream damage", () => {
  it("drops a torn final line and continues numbering above it", () => {
    const file = tempFile();
    open(file).append([{ body: "kept" }]);
    fs.appendFileSync(file, '{"seq_num":1,"timestamp":1,"bo');
    const reports: string[] = [];
    const reopened = open(file, { report: (message) => reports.push(message) });
    expect(bodies(reopened)).toEqual(["kept"]);
    expect(reports).toEqual([expect.stringMatching(/torn final line/)]);
    // Seq 1 may have reached nobody, but it was written: it is not handed out again.
    expect(reopened.append([{ body: "next" }]).start).toBe(2);
    expect(
      open(file)
        .readFrom(0)
        .map((r) => [r.seq_num, r.body]),
    ).toEqual([
      [0, "kept"],
      [2, "next"],
    ]);
  });

  it("skips a damaged line in the middle, keeps every record after it, and sets the line aside", () => {
    const file = withRecords(128);
    damageLine(file, 40, '{"seq_num":40,"timest#mp":');
    const reports: string[] = [];
    const stream = open(file, { report: (message) => reports.push(message) });
    expect(seqs(stream)).toEqual(Array.from({ length: 128 }, (_, i) => i).filter((i) => i !== 40));
    expect(reports).toEqual([expect.stringMatching(/line 41 is not a valid record/)]);
    expect(fs.readFileSync(`${file}.damaged`, "utf8")).toContain("timest#mp");
    expect(stream.append([{ body: "next" }]).start).toBe(128);

    // Repaired once: the next start has nothing to report.
    const again: string[] = [];
    expect(seqs(open(file, { report: (message) => again.push(message) }))).toHaveLength(128);
    expect(again).toEqual([]);
  });

  it("keeps the rest of the log when its first line is damaged", () => {
    const file = withRecords(10);
    damageLine(file, 0, "garbage");
    const stream = open(file, { report: () => {} });
    expect(seqs(stream)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(stream.append([{ body: "next" }]).start).toBe(10);
  });

  it("never reuses a seq, even when the last record is damaged beyond reading", () => {
    const file = withRecords(5);
    damageLine(file, 4, "%%%");
    const stream = open(file, { report: () => {} });
    expect(seqs(stream)).toEqual([0, 1, 2, 3]);
    expect(stream.append([{ body: "next" }]).start).toBe(5);
  });

  it("goes on from a persisted floor above everything the file shows", () => {
    const stream = open(withRecords(3), { seqFloor: 40 });
    expect(stream.append([{ body: "next" }]).start).toBe(40);
  });

  it("sets aside a valid-looking record whose seq is out of order, keeping every record around it", () => {
    const file = withRecords(33);
    const lines = fs.readFileSync(file, "utf8").split("\n");
    lines[9] = lines[9]!.replace('"seq_num":9,', '"seq_num":900000,');
    fs.writeFileSync(file, lines.join("\n"));
    const reports: string[] = [];
    const stream = open(file, { report: (message) => reports.push(message) });
    expect(seqs(stream)).toEqual(Array.from({ length: 33 }, (_, i) => i).filter((i) => i !== 9));
    expect(reports).toEqual([expect.stringMatching(/line 10 holds seq 900000, out of order/)]);
  });

  it("sets aside a record or a damaged line whose seq is far above the records before it, and numbers on normally", () => {
    for (const bad of [
      JSON.stringify({ seq_num: 999_999_999_999_999, timestamp: 1, body: "x", headers: [] }),
      '{"seq_num":999999999999999,"garb',
      JSON.stringify({ seq_num: 999_999_999_999_990, timestamp: 1, body: "x", headers: [] }),
    ]) {
      for (const at of [2, 5]) {
        const file = withRecords(6);
        damageLine(file, at, bad);
        const stream = open(file, { report: () => {} });
        expect(seqs(stream)).toEqual([0, 1, 2, 3, 4, 5].filter((seq) => seq !== at));
        expect(stream.append([{ body: "next" }]).start).toBe(6);
      }
    }
  });

  it("sets aside a record whose seq is past any a client could send back, and numbers on normally", () => {
    const file = withRecords(6);
    damageLine(file, 4, JSON.stringify({ seq_num: Number.MAX_SAFE_INTEGER, timestamp: 1, body: "x", headers: [] }));
    const stream = open(file, { report: () => {} });
    expect(seqs(stream)).toEqual([0, 1, 2, 3, 5]);
    expect(stream.append([{ body: "next" }]).start).toBe(6);
  });

  it("ends a whole last record that lost its newline, so the next append starts a line of its own", () => {
    const file = withRecords(2);
    fs.writeFileSync(file, fs.readFileSync(file, "utf8").trimEnd());
    const stream = open(file);
    stream.append([{ body: "next" }]);
    expect(bodies(open(file))).toEqual(["r0", "r1", "next"]);
  });

  it("sets aside records whose seq goes backwards", () => {
    const file = withRecords(4);
    const lines = fs.readFileSync(file, "utf8").split("\n");
    fs.writeFileSync(file, [lines[0], lines[1], lines[0], lines[2], lines[3], ""].join("\n"));
    const stream = open(file, { report: () => {} });
    expect(seqs(stream)).toEqual([0, 1, 2, 3]);
  });
});
