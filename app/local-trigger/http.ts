/** An expected failure with the status and body a Trigger.dev client understands. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: Record<string, unknown>,
    readonly headers: Record<string, string> = {},
  ) {
    super(typeof body.error === "string" ? body.error : `HTTP ${status}`);
  }
}

export const badRequest = (error: string, details?: unknown) =>
  new HttpError(400, details === undefined ? { error } : { error, details });

export const notFound = (error: string) => new HttpError(404, { error });

/**
 * Reads a body with a hard cap, answering 413 past it without buffering the
 * rest. Checked against Content-Length first, then while streaming, because a
 * chunked upload has no declared length.
 */
export async function readBody(request: Request, limitBytes: number): Promise<string> {
  const tooLarge = async () => {
    // Read and discard the rest (within reason): resetting the connection mid-upload would hide the 413 from the client.
    await discard(request, limitBytes * 8);
    return new HttpError(413, { error: `Request body is larger than the ${formatBytes(limitBytes)} limit` }, { "x-should-retry": "false" });
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

export function json(status: number, body: unknown, headers: Record<string, string> = {}) {
  return Response.json(body, { status, headers });
}

const formatBytes = (bytes: number) => (bytes >= 1024 * 1024 ? `${bytes / (1024 * 1024)} MiB` : `${bytes / 1024} KiB`);
