import http from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import type { EngineLog } from "./router.server";

const REQUEST_HEADERS_TIMEOUT_MS = 20_000;
/** Receiving a whole request, body included; streamed responses (SSE) are not limited by it. */
const REQUEST_TIMEOUT_MS = 30_000;

/**
 * A node:http server around a Fetch handler. Written here rather than taken
 * from a framework because the engine needs two behaviours exactly: a body
 * stream that errors must cut the connection (so an SSE client sees a network
 * drop and resumes), and a client hang-up must abort the request signal.
 */
export function createNodeServer(handler: (request: Request) => Promise<Response>, log: EngineLog) {
  const server = http.createServer((req, res) => {
    const abort = new AbortController();
    res.on("close", () => {
      if (!res.writableFinished) abort.abort();
    });
    const method = req.method ?? "GET";
    const hasBody = method !== "GET" && method !== "HEAD";
    let request: Request;
    try {
      request = new Request(requestUrl(req), {
        method,
        headers: Object.entries(req.headers).flatMap(([name, value]) =>
          value === undefined ? [] : Array.isArray(value) ? value.map((v): [string, string] => [name, v]) : [[name, value] as [string, string]],
        ),
        body: hasBody ? (Readable.toWeb(req) as ReadableStream<Uint8Array>) : undefined,
        signal: abort.signal,
        // @ts-expect-error Node's fetch requires `duplex` for a streamed request body; the DOM typings lack it.
        duplex: hasBody ? "half" : undefined,
      });
    } catch {
      // A request line or header the Fetch API cannot represent (a forbidden method, a malformed Host).
      res.writeHead(400, { "Content-Type": "application/json" }).end(JSON.stringify({ error: "Malformed request" }));
      return;
    }

    void handler(request)
      .then(async (response) => {
        res.writeHead(response.status, [...response.headers].flat());
        if (!response.body || method === "HEAD") {
          res.end();
          return;
        }
        res.flushHeaders();
        const reader = response.body.getReader();
        abort.signal.addEventListener("abort", () => void reader.cancel().catch(() => {}), { once: true });
        try {
          for (;;) {
            const { done, value } = await reader.read();
            if (done) break;
            if (!res.write(value)) await new Promise((resolve) => res.once("drain", resolve));
          }
          res.end();
        } catch {
          res.destroy();
        }
      })
      .catch((error: unknown) => {
        log(`unhandled error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`, "error");
        if (!res.headersSent) res.writeHead(500, { "Content-Type": "application/json" });
        res.end(JSON.stringify({ error: "Internal error in the local engine" }));
      });
  });
  // A client that trickles its headers or body must not hold a connection (and a file descriptor) for long.
  server.headersTimeout = REQUEST_HEADERS_TIMEOUT_MS;
  server.requestTimeout = REQUEST_TIMEOUT_MS;
  return server;
}

/** The request's URL; the Host header is only trusted as far as it parses as one. */
function requestUrl(req: http.IncomingMessage) {
  const path = req.url?.startsWith("/") ? req.url : "/";
  const host = req.headers.host && /^[A-Za-z0-9.[\]:-]+$/.test(req.headers.host) ? req.headers.host : "localhost";
  try {
    // Concatenated, not resolved: a path such as "//other.host/x" must stay a path.
    return new URL(`http://${host}${path}`);
  } catch {
    return new URL(`http://localhost${path}`);
  }
}

export async function listen(server: http.Server, host: string, port: number): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  return `http://${host.includes(":") ? `[${host}]` : host}:${address.port}`;
}
