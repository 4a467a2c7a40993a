import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createFileExclusive, flushWrites, readWithFallback, writeFileAtomic } from "./atomic-file.server";

const dirs: string[] = [];
const tempDir = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "atomic-file-"));
  dirs.push(dir);
  return dir;
};

afterEach(async () => {
  await flushWrites();
  vi.restoreAllMocks();
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

/** The paths the background flush opened, to sync them. */
function watchFlushes() {
  const opened: string[] = [];
  const open = fs.promises.open.bind(fs.promises);
  vi.spyOn(fs.promises, "open").mockImplementation((target, ...rest) => {
    opened.push(String(target));
    return open(target, ...rest);
  });
  return opened;
}

describe("writeFileAtomic", () => {
  it("replaces the file at once and leaves flushing it to disk off the calling thread", async () => {
    const dir = tempDir();
    const file = path.join(dir, "row.json");
    const blocking = vi.spyOn(fs, "fsyncSync");
    const flushed = watchFlushes();

    writeFileAtomic(file, "first");
    writeFileAtomic(file, "second", { keepPrevious: true });

    expect(fs.readFileSync(file, "utf8")).toBe("second");
    expect(fs.readFileSync(`${file}.prev`, "utf8")).toBe("first");
    expect(blocking).not.toHaveBeenCalled();
    await flushWrites();
    expect(flushed).toEqual(expect.arrayContaining([file, dir]));
    expect(fs.readdirSync(dir).sort()).toEqual(["row.json", "row.json.prev"]);
  });

  it("keeps one previous version, deleting the one before it off the calling thread", async () => {
    const dir = tempDir();
    const file = path.join(dir, "row.json");
    writeFileAtomic(file, "first");
    writeFileAtomic(file, "second", { keepPrevious: true });
    const deletions = [vi.spyOn(fs, "rmSync"), vi.spyOn(fs, "unlinkSync")];

    writeFileAtomic(file, "third", { keepPrevious: true });
    writeFileAtomic(file, "fourth", { keepPrevious: true });

    for (const deletion of deletions) expect(deletion).not.toHaveBeenCalled();
    expect(fs.readFileSync(file, "utf8")).toBe("fourth");
    expect(fs.readFileSync(`${file}.prev`, "utf8")).toBe("third");
    await flushWrites();
    expect(fs.readdirSync(dir).sort()).toEqual(["row.json", "row.json.prev"]);
  });

  it("flushes a moment later, so a burst of saves shares the journal commits, and at once when asked", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    try {
      const dir = tempDir();
      const flushed = watchFlushes();
      writeFileAtomic(path.join(dir, "a.json"), "a");
      await vi.advanceTimersByTimeAsync(200);
      writeFileAtomic(path.join(dir, "b.json"), "b", { keepPrevious: true });
      await vi.advanceTimersByTimeAsync(40);
      expect(flushed).toEqual([]);
      await vi.advanceTimersByTimeAsync(10);
      await flushWrites();
      expect(flushed).toEqual(expect.arrayContaining([path.join(dir, "a.json"), path.join(dir, "b.json"), dir]));

      flushed.length = 0;
      writeFileAtomic(path.join(dir, "c.json"), "c");
      await flushWrites();
      expect(flushed).toContain(path.join(dir, "c.json"));
    } finally {
      vi.useRealTimers();
    }
  });

  it("flushes what is written while a flush is under way", async () => {
    const dir = tempDir();
    const flushed = watchFlushes();
    writeFileAtomic(path.join(dir, "a.json"), "a");
    // The first pass has started; this one lands in the next.
    await Promise.resolve();
    writeFileAtomic(path.join(dir, "b.json"), "b");
    await flushWrites();
    expect(flushed).toEqual(expect.arrayContaining([path.join(dir, "a.json"), path.join(dir, "b.json")]));
  });

  it("flushes one file at a time, leaving the rest of libuv's pool to crypto, compression and reads", async () => {
    const dir = tempDir();
    let open = 0;
    let mostAtOnce = 0;
    const realOpen = fs.promises.open.bind(fs.promises);
    vi.spyOn(fs.promises, "open").mockImplementation(async (...args) => {
      open++;
      mostAtOnce = Math.max(mostAtOnce, open);
      const handle = await realOpen(...args);
      const close = handle.close.bind(handle);
      handle.close = () => close().finally(() => open--);
      return handle;
    });
    for (const name of ["a", "b", "c", "d"]) writeFileAtomic(path.join(dir, `${name}.json`), name);
    await flushWrites();
    expect(open).toBe(0);
    expect(mostAtOnce).toBe(1);
  });

  it("throws at once when the file cannot be written, leaving the old content and no temporary file", () => {
    const dir = tempDir();
    const file = path.join(dir, "row.json");
    writeFileAtomic(file, "kept");
    const { openSync } = fs;
    vi.spyOn(fs, "openSync").mockImplementation((target, flags, ...rest) => {
      if (String(target).startsWith(dir) && flags === "w")
        throw Object.assign(new Error("ENOSPC: no space left on device, open"), { code: "ENOSPC" });
      return openSync(target, flags, ...rest);
    });
    expect(() => writeFileAtomic(file, "lost")).toThrow(/ENOSPC/);
    expect(fs.readFileSync(file, "utf8")).toBe("kept");
    expect(fs.readdirSync(dir)).toEqual(["row.json"]);
  });
});

describe("createFileExclusive", () => {
  it("creates a file once, and the second caller sees that it exists", async () => {
    const dir = tempDir();
    const file = path.join(dir, "created.json");
    const flushed = watchFlushes();
    expect(createFileExclusive(file, "one")).toBe(true);
    expect(createFileExclusive(file, "two")).toBe(false);
    expect(fs.readFileSync(file, "utf8")).toBe("one");
    await flushWrites();
    expect(flushed).toContain(file);
  });
});

describe("readWithFallback", () => {
  it("falls back to the previous version when the current one is torn", () => {
    const dir = tempDir();
    const file = path.join(dir, "row.json");
    writeFileAtomic(file, JSON.stringify({ n: 1 }));
    writeFileAtomic(file, JSON.stringify({ n: 2 }), { keepPrevious: true });
    fs.writeFileSync(file, "");
    const read = readWithFallback(file, (text) => JSON.parse(text) as { n: number });
    expect(read).toEqual({ value: { n: 1 }, from: "previous", problem: "is empty" });
  });
});
