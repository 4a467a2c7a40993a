import http from "node:http";
import http2 from "node:http2";
import type { AddressInfo, Socket } from "node:net";
import { Duplex, Readable } from "node:stream";
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
    let request: Request;
    try {
      request = fetchRequest(req, requestUrl(req), abort.signal);
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

/**
 * Also serves cleartext HTTP/2 on `server`'s port, for clients that speak it
 * with prior knowledge, as Node's http2 client (and so S2's SDK) does to an
 * `http:` origin. A connection's first bytes decide: HTTP/2's preface starts
 * with "PRI", which no HTTP/1 request does. Returns a function that ends the
 * connections the HTTP/1 server does not know of (HTTP/2 ones, and those that
 * have sent nothing yet), for shutdown.
 */
export function serveHttp2Beside(
  server: http.Server,
  onStream: (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => void,
) {
  const h2 = http2.createServer();
  h2.on("stream", onStream);
  const sockets = new Set<Socket>();
  // The HTTP/1 server's own connection handling runs once a connection has shown it is HTTP/1.
  const http1Listeners = server.listeners("connection") as ((socket: Socket) => void)[];
  server.removeAllListeners("connection");
  server.on("connection", (socket: Socket) => {
    // Until its first byte the HTTP/1 server's timeouts do not cover a connection, so this one does.
    socket.setTimeout(REQUEST_HEADERS_TIMEOUT_MS, () => socket.destroy());
    sockets.add(socket);
    const onEarlyError = () => socket.destroy();
    socket.on("error", onEarlyError);
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      if (head.length < 3) return;
      socket.off("data", onData);
      socket.off("error", onEarlyError);
      socket.setTimeout(0);
      if (head.subarray(0, 3).toString("latin1") !== "PRI") {
        // From here the HTTP/1 server tracks it, and `closeAllConnections` ends it.
        sockets.delete(socket);
        for (const listener of http1Listeners) listener.call(server, socket);
        // Handed to the HTTP/1 parser at once, before any later bytes can reach it.
        socket.emit("data", head);
        return;
      }
      socket.pause();
      // node:http2 reads a net.Socket's handle directly and would miss the bytes read here, so it gets a stream that replays them.
      h2.emit("connection", replaying(socket, head));
    };
    socket.on("data", onData);
    socket.once("close", () => sockets.delete(socket));
  });
  return () => {
    for (const socket of sockets) socket.destroy();
  };
}

/** A duplex over `socket` whose readable side starts with `head`, the bytes already read from it. */
function replaying(socket: Socket, head: Buffer) {
  const duplex = new Duplex({
    read: () => void socket.resume(),
    write: (chunk, encoding, callback) => void socket.write(chunk, encoding, callback),
    final: (callback) => void socket.end(callback),
    destroy: (error, callback) => {
      socket.destroy(error ?? undefined);
      callback(error);
    },
  });
  duplex.push(head);
  socket.on("data", (chunk) => {
    if (!duplex.push(chunk)) socket.pause();
  });
  socket.on("end", () => duplex.push(null));
  socket.on("error", (error) => duplex.destroy(error));
  socket.on("close", () => duplex.destroy());
  return duplex;
}

/** A Fetch API request for a node:http one, its body streamed; throws for what the Fetch API cannot represent. */
export function fetchRequest(req: http.IncomingMessage, url: string | URL, signal: AbortSignal): Request {
  const method = req.method ?? "GET";
  const hasBody = method !== "GET" && method !== "HEAD";
  return new Request(url, {
    method,
    headers: Object.entries(req.headers).flatMap(([name, value]) =>
      value === undefined
        ? []
        : Array.isArray(value)
          ? value.map((v): [string, string] => [name, v])
          : [[name, value] as [string, string]],
    ),
    body: hasBody ? (Readable.toWeb(req) as ReadableStream<Uint8Array>) : undefined,
    signal,
    // @ts-expect-error Node's fetch requires `duplex` for a streamed request body; the DOM typings lack it.
    duplex: hasBody ? "half" : undefined,
  });
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
