import type { z } from "zod";
import { badRequest, HttpError, NO_RETRY } from "./errors.server";

/** Past its limit, a body is read and thrown away (never kept) up to this much, then the connection is cut. */
const discardBudget = (limitBytes: number) => Math.max(limitBytes * 8, 4 * 1024 * 1024);

/**
 * Reads a body with a hard cap, answering 413 past it without keeping the
 * rest: checked against Content-Length before reading anything, then while
 * streaming, because a chunked upload has no declared length.
 */
export async function readBody(request: Request, limitBytes: number): Promise<string> {
  const tooLarge = async () => {
    // Drain (within reason) rather than reset: a connection cut mid-upload would hide the 413 from the client.
    await discard(request, discardBudget(limitBytes));
    return new HttpError(413, { error: `Request body is larger than the ${formatBytes(limitBytes)} limit` }, NO_RETRY);
  };
  const declared = Number(request.headers.get("content-length") ?? Number.NaN);
  if (Number.isFinite(declared) && declared > limitBytes) throw await tooLarge();
  if (!request.body) return "";
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limitBytes) {
      reader.releaseLock();
      throw await tooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

async function discard(request: Request, maxBytes: number) {
  if (!request.body || request.body.locked) return;
  const reader = request.body.getReader();
  let size = 0;
  while (size <= maxBytes) {
    const { done, value } = await reader.read();
    if (done) return;
    size += value.byteLength;
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
export async function readJson<T extends z.ZodType>(request: Request, schema: T, limitBytes: number): Promise<z.infer<T>> {
  const parsed = schema.safeParse(parseJson(await readBody(request, limitBytes)));
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => `${issue.path.join(".") || "body"}: ${issue.message}`);
    throw badRequest(`Invalid request body: ${issues.join("; ")}`, parsed.error.issues);
  }
  return parsed.data;
}

export const formatBytes = (bytes: number) => (bytes >= 1024 * 1024 ? `${bytes / (1024 * 1024)} MiB` : `${bytes / 1024} KiB`);
