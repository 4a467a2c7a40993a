import fs from "node:fs";
import path from "node:path";

let tempCounter = 0;
const previousOf = (file: string) => `${file}.prev`;

/*
 * Writes and renames happen at once, so a file is replaced atomically as far
 * as any reader and a killed process are concerned (the page cache outlives
 * the process). Flushing them to the disk, which only a power cut needs, is
 * left to a background fsync in libuv's thread pool, a moment later: each
 * fsync commits the file system's journal, and while a commit runs, the
 * renames and links of the engine's thread wait for it (traces of a turn
 * showed up to 8 ms). Waiting lets a turn's saves land first and lets one
 * commit cover them all. A file torn by a power cut before its flush is what
 * `readWithFallback` falls back from.
 */
const FLUSH_DELAY_MS = 250;
const awaitingFlush = new Set<string>();
/** Versions set aside by `keepPrevious` (see writeFileAtomic), to delete in the background too. */
const awaitingRemoval = new Set<string>();
let flushing: Promise<void> | undefined;
let startFlushing: (() => void) | undefined;

function flushSoon() {
  flushing ??= new Promise<void>((resolve) => {
    const timer = setTimeout(() => startFlushing?.(), FLUSH_DELAY_MS);
    startFlushing = () => {
      clearTimeout(timer);
      startFlushing = undefined;
      resolve();
    };
  })
    .then(flushAll)
    .finally(() => (flushing = undefined));
}

function flushLater(...paths: string[]) {
  for (const each of paths) awaitingFlush.add(each);
  flushSoon();
}

function removeLater(file: string) {
  awaitingRemoval.add(file);
  flushSoon();
}

async function flushAll() {
  // One pass after another until nothing new arrived: writes made during a pass are flushed by the next.
  while (awaitingFlush.size > 0 || awaitingRemoval.size > 0) {
    const batch = [...awaitingFlush];
    awaitingFlush.clear();
    // One at a time: the pool has four threads, and crypto (every turn signs a token), compression and
    // file reads queue behind an fsync that holds one.
    for (const target of batch) await flushPath(target);
    const removals = [...awaitingRemoval];
    awaitingRemoval.clear();
    for (const target of removals) await fs.promises.rm(target, { force: true }).catch(() => {});
  }
}

async function flushPath(target: string) {
  let handle: fs.promises.FileHandle | undefined;
  try {
    handle = await fs.promises.open(target, "r");
    await handle.sync();
  } catch {
    // Replaced or removed since (its successor is flushed in its own turn), or a directory this platform cannot flush.
  } finally {
    await handle?.close().catch(() => {});
  }
}

/** Flushes every file written so far to disk now, and resolves once it is: for a clean shutdown, and for tests. */
export function flushWrites(): Promise<void> {
  startFlushing?.();
  return flushing ?? Promise.resolve();
}

function writeNow(file: string, data: string | Uint8Array, mode?: number) {
  const fd = fs.openSync(file, "w", mode);
  try {
    fs.writeFileSync(fd, data);
  } finally {
    fs.closeSync(fd);
  }
}

const tempFileFor = (file: string) => `${file}.${process.pid}.${++tempCounter}.tmp`;
const retiredFileFor = (file: string) => `${file}.${process.pid}.${++tempCounter}.retired`;

/** What a stopped process can leave beside the files it wrote: a write not yet renamed, a version not yet deleted. */
export const isLeftoverOfWrite = (name: string) => /\.\d+\.\d+\.(?:tmp|retired)$/.test(name);

/**
 * Replaces `file` so that a crash leaves either the old content or the new,
 * never a mix: written to a temporary file, then renamed over it (and flushed
 * to disk in the background, see above). With `keepPrevious`, the version
 * being replaced stays as `<file>.prev` (a hard link, so there is no moment
 * without `file`) for readers to fall back on if the new one is ever found
 * damaged. The version before that is renamed aside and deleted with the
 * background flush: deleting it here waited on journal commits (see above).
 */
export function writeFileAtomic(
  file: string,
  data: string | Uint8Array,
  options: { keepPrevious?: boolean; mode?: number } = {},
) {
  const temp = tempFileFor(file);
  try {
    writeNow(temp, data, options.mode);
    if (options.keepPrevious && fs.existsSync(file)) {
      const retired = retiredFileFor(file);
      try {
        fs.renameSync(previousOf(file), retired);
        removeLater(retired);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
      }
      fs.linkSync(file, previousOf(file));
    }
    fs.renameSync(temp, file);
  } catch (error) {
    fs.rmSync(temp, { force: true });
    throw error;
  }
  flushLater(file, path.dirname(file));
}

/**
 * Creates `file` only if it does not exist yet, atomically: `link` refuses to
 * replace an existing file, so of two processes racing, exactly one wins and
 * the other sees EEXIST. Returns whether this call created it.
 */
export function createFileExclusive(file: string, data: string, mode?: number): boolean {
  const temp = tempFileFor(file);
  try {
    writeNow(temp, data, mode);
    fs.linkSync(temp, file);
    flushLater(file, path.dirname(file));
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  } finally {
    fs.rmSync(temp, { force: true });
  }
}

export type FallbackRead<T> =
  | { value: T; from: "current" | "previous" | number; problem?: string }
  | { value: undefined; from: "none"; problem?: string };

/**
 * Reads a file written by `writeFileAtomic(…, { keepPrevious: true })`. When
 * the current version is missing or `parse` rejects it, the previous version
 * is used instead, and then each of `lastResorts` in turn (`from` is its
 * index); `problem` says what was wrong with the current one, to report.
 */
export function readWithFallback<T>(
  file: string,
  parse: (text: string) => T | undefined,
  lastResorts: string[] = [],
): FallbackRead<T> {
  const attempt = (candidate: string): { value?: T; problem?: string } => {
    let text: string;
    try {
      text = fs.readFileSync(candidate, "utf8");
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      return code === "ENOENT" ? {} : { problem: `cannot be read (${code ?? String(error)})` };
    }
    try {
      const value = parse(text);
      return value === undefined ? { problem: text.length === 0 ? "is empty" : "is damaged" } : { value };
    } catch {
      return { problem: text.length === 0 ? "is empty" : "is damaged" };
    }
  };
  const current = attempt(file);
  if (current.value !== undefined) return { value: current.value, from: "current" };
  const candidates: [FallbackRead<T>["from"], string][] = [
    ["previous", previousOf(file)],
    ...lastResorts.map((other, index): [number, string] => [index, other]),
  ];
  for (const [from, candidate] of candidates) {
    const found = attempt(candidate);
    if (found.value !== undefined)
      return { value: found.value, from, problem: current.problem ?? "is missing" } as FallbackRead<T>;
  }
  return { value: undefined, from: "none", problem: current.problem };
}
