/**
 * Reads a chat's `.out` from `fromSeq` as a browser would (v2 SSE batches) and
 * resolves when the first text delta arrives; with `untilTurnComplete` it keeps
 * reading and counts text deltas to the end of the turn. Shared by the engine
 * benches.
 */
export async function readOut(
  apiURL: string,
  chatId: string,
  token: string,
  fromSeq: number,
  untilTurnComplete = false,
  timeoutSeconds = 60,
) {
  const abort = new AbortController();
  const response = await fetch(`${apiURL}/realtime/v1/sessions/${chatId}/out`, {
    headers: {
      Authorization: `Bearer ${token}`,
      ...(fromSeq > 0 ? { "Last-Event-ID": String(fromSeq - 1) } : {}),
      "Timeout-Seconds": String(timeoutSeconds),
    },
    signal: abort.signal,
  });
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let firstTextAt: number | undefined;
  let deltas = 0;
  let lastSeq = fromSeq - 1;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) throw new Error("stream ended before the turn did");
      buffer += value;
      let boundary: number;
      while ((boundary = buffer.indexOf("\n\n")) !== -1) {
        const event = buffer.slice(0, boundary);
        buffer = buffer.slice(boundary + 2);
        const data = event
          .split("\n")
          .find((line) => line.startsWith("data: "))
          ?.slice(6);
        if (!event.startsWith("event: batch") || !data) continue;
        const { records } = JSON.parse(data) as {
          records: { seq_num: number; body: string; headers: [string, string][] }[];
        };
        for (const record of records) {
          lastSeq = record.seq_num;
          if (record.body.includes('"type":"text-delta"')) {
            firstTextAt ??= performance.now();
            deltas++;
            if (!untilTurnComplete) return { firstTextAt, deltas, lastSeq };
          }
          if (
            record.headers.some(([name, value]) => name === "trigger-control" && value === "turn-complete") &&
            firstTextAt
          ) {
            return { firstTextAt, deltas, lastSeq };
          }
        }
      }
    }
  } finally {
    abort.abort();
  }
}
