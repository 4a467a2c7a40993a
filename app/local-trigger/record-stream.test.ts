import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { controlSubtype, isCommandRecord, RecordStream } from "./record-stream";

const tempFile = () => path.join(fs.mkdtempSync(path.join(os.tmpdir(), "record-stream-")), "out.jsonl");

describe("RecordStream", () => {
  it("numbers records densely and reads from any cursor", () => {
    const stream = new RecordStream(tempFile(), () => {});
    expect(stream.append([{ body: "a" }, { body: "b" }])).toEqual({ start: 0, end: 2 });
    expect(stream.append([{ body: "c", headers: [["trigger-control", "turn-complete"]] }])).toEqual({ start: 2, end: 3 });
    expect(stream.readFrom(1).map((r) => r.body)).toEqual(["b", "c"]);
    expect(stream.readFrom(1, 1).map((r) => r.body)).toEqual(["b"]);
    expect(stream.readFrom(9)).toEqual([]);
    expect(controlSubtype(stream.lastNonCommand())).toBe("turn-complete");
    expect(stream.tail.seq_num).toBe(3);
  });

  it("restores every record and the next seq from its file", () => {
    const file = tempFile();
    const first = new RecordStream(file, () => {});
    first.append([{ body: "one" }, { body: "two", headers: [["k", "v"]] }]);
    const reopened = new RecordStream(file, () => {});
    expect(reopened.readFrom(0).map((r) => [r.seq_num, r.body, r.headers])).toEqual([
      [0, "one", []],
      [1, "two", [["k", "v"]]],
    ]);
    expect(reopened.append([{ body: "three" }]).start).toBe(2);
  });

  it("drops a torn final line left by a crash and keeps appending cleanly", () => {
    const file = tempFile();
    new RecordStream(file, () => {}).append([{ body: "kept" }]);
    fs.appendFileSync(file, '{"seq_num":1,"timestamp":1,"bo');
    const reopened = new RecordStream(file, () => {});
    expect(reopened.readFrom(0).map((r) => r.body)).toEqual(["kept"]);
    reopened.append([{ body: "next" }]);
    expect(new RecordStream(file, () => {}).readFrom(0).map((r) => [r.seq_num, r.body])).toEqual([
      [0, "kept"],
      [1, "next"],
    ]);
  });

  it("trims below a mark, clamps reads forward, and keeps the mark across a reload", () => {
    const file = tempFile();
    const marks: number[] = [];
    const stream = new RecordStream(file, (mark) => marks.push(mark));
    stream.append([{ body: "0" }, { body: "1" }, { body: "", headers: [["", "trim"]] }, { body: "3" }]);
    expect(isCommandRecord(stream.readFrom(2)[0]!)).toBe(true);
    stream.trim(2);
    expect(marks).toEqual([2]);
    expect(stream.readFrom(0).map((r) => r.seq_num)).toEqual([2, 3]);
    stream.trim(1);
    expect(marks).toEqual([2]);
    expect(new RecordStream(file, () => {}, 2).readFrom(0).map((r) => r.seq_num)).toEqual([2, 3]);
  });

  it("tells listeners about appends after the record is on disk", () => {
    const file = tempFile();
    const stream = new RecordStream(file, () => {});
    const seenOnDisk: boolean[] = [];
    stream.onAppend(() => seenOnDisk.push(fs.readFileSync(file, "utf8").includes('"body":"x"')));
    stream.append([{ body: "x" }]);
    expect(seenOnDisk).toEqual([true]);
  });
});
