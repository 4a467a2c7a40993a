import type { z } from "zod";
import { MAX_JSON_DEPTH } from "../limits.server";
import { badRequest, HttpError, NO_RETRY } from "./errors.server";

/** Past its limit, a body is read and thrown away (never kept) up to this much, then the connection is cut. */
const discardBudget = (limitBytes: number) => Math.max(limitBytes * 8, 4 * 1024 * 1024);
/** How long a refused body may take to arrive before the connection is cut. */
const DISCARD_TIMEOUT_MS = 3_000;

/**
 * Reads a body with a hard cap, answering 413 past it without keeping the
 * rest: checked against Content-Length before reading anything, then while
 * streaming, because a chunked upload has no declared length. A refused body
 * is drained briefly so the client can read the 413 (a connection reset
 * mid-upload would hide it), unless it declared more than is worth draining.
 */
export async function readBody(request: Request, limitBytes: number): Promise<string> {
  return (await readBodyBytes(request, limitBytes)).toString("utf8");
}

/** `readBody`, for a binary body. */
export async function readBodyBytes(request: Request, limitBytes: number): Promise<Buffer> {
  const tooLarge = (closeNow = false) =>
    new HttpError(
      413,
      { error: `Request body is larger than the ${formatBytes(limitBytes)} limit` },
      closeNow ? { ...NO_RETRY, Connection: "close" } : NO_RETRY,
    );
  const declared = Number(request.headers.get("content-length") ?? Number.NaN);
  if (Number.isFinite(declared) && declared > limitBytes) {
    if (declared > discardBudget(limitBytes)) throw tooLarge(true);
    await discard(request, discardBudget(limitBytes));
    throw tooLarge();
  }
  if (!request.body) return Buffer.alloc(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    let chunk: ReadableStreamReadResult<Uint8Array>;
    try {
      chunk = await reader.read();
    } catch {
      // The client went away mid-upload: nobody is left to answer, so no more than a line in the log.
      throw badRequest("The request body was cut off before it ended");
    }
    if (chunk.done) break;
    size += chunk.value.byteLength;
    if (size > limitBytes) {
      reader.releaseLock();
      await discard(request, discardBudget(limitBytes));
      throw tooLarge();
    }
    chunks.push(chunk.value);
  }
  return Buffer.concat(chunks);
}

async function discard(request: Request, maxBytes: number) {
  if (!request.body || request.body.locked) return;
  const reader = request.body.getReader();
  const deadline = Date.now() + DISCARD_TIMEOUT_MS;
  let size = 0;
  let timer: NodeJS.Timeout | undefined;
  try {
    while (size <= maxBytes) {
      const timedOut = new Promise<"timeout">(
        (resolve) => (timer = setTimeout(() => resolve("timeout"), Math.max(0, deadline - Date.now()))),
      );
      const next = await Promise.race([reader.read(), timedOut]);
      clearTimeout(timer);
      if (next === "timeout") break;
      if (next.done) return;
      size += next.value.byteLength;
    }
  } catch {
    return;
  }
  await reader.cancel().catch(() => {});
}

export function parseJson(text: string): unknown {
  if (text.trim() === "") throw badRequest("Request body is empty; expected JSON");
  try {
    return JSON.parse(text);
  } catch (error) {
    throw badRequest(`Request body is not valid JSON: ${(error as Error).message}`);
  }
}

/** Reads a JSON body within `limitBytes` and validates it, answering 400 with every problem found. */
export async function readJson<T extends z.ZodType>(
  request: Request,
  schema: T,
  limitBytes: number,
): Promise<z.infer<T>> {
  const value = parseJson(await readBody(request, limitBytes));
  if (nestingDepth(value) > MAX_JSON_DEPTH)
    throw badRequest(`Request body is nested more than ${MAX_JSON_DEPTH} levels deep`);
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => `${issue.path.join(".") || "body"}: ${issue.message}`);
    throw badRequest(`Invalid request body: ${issues.join("; ")}`, parsed.error.issues);
  }
  return parsed.data;
}

/** How deeply objects and arrays nest in a parsed JSON value, measured without recursion (it stops counting past the limit). */
export function nestingDepth(value: unknown): number {
  let deepest = 0;
  const pending: [unknown, number][] = [[value, 0]];
  while (pending.length > 0) {
    const [item, depth] = pending.pop()!;
    if (typeof item !== "object" || item === null) continue;
    deepest = Math.max(deepest, depth + 1);
    if (deepest > MAX_JSON_DEPTH) return deepest;
    for (const child of Array.isArray(item) ? item : Object.values(item)) pending.push([child, depth + 1]);
  }
  return deepest;
}

export const formatBytes = (bytes: number) =>
  bytes >= 1024 * 1024 ? `${bytes / (1024 * 1024)} MiB` : `${bytes / 1024} KiB`;
