import { badRequest, HttpError, json, NO_RETRY, notFound } from "./errors.server";

export type RouteContext = {
  request: Request;
  url: URL;
  /** The mount prefix the engine is served under, "" standalone. */
  basePath: string;
  /** The pattern's capture groups, percent-decoded; "" for a group that did not match. */
  params: string[];
};

export type Route = {
  method: string;
  pattern: RegExp;
  handler: (context: RouteContext) => Promise<Response> | Response;
};

/** How the engine logs: one line, at "info" unless it says otherwise. The app routes it to its JSON log. */
export type EngineLog = (message: string, level?: "info" | "warn" | "error") => void;

const CORS_HEADERS: Record<string, string> = {
  "Access-Control-Allow-Origin": "*",
  "Access-Control-Allow-Methods": "GET, HEAD, POST, PUT, PATCH, OPTIONS",
  "Access-Control-Expose-Headers": "*",
};

/**
 * Serves requests from a route table. Every response carries the CORS
 * headers browsers need to read it (a 413 or 429 included), expected failures
 * (HttpError) become their status and log one line, and anything else is a
 * 500 with its stack logged.
 */
export function createRouter(routes: Route[], log: EngineLog) {
  async function route(request: Request, url: URL, pathname: string, basePath: string) {
    const allowed = new Set<string>();
    for (const candidate of routes) {
      const match = candidate.pattern.exec(pathname);
      if (!match) continue;
      allowed.add(candidate.method);
      if (candidate.method !== request.method) continue;
      let params: string[];
      try {
        params = match.slice(1).map((part) => (part === undefined ? "" : decodeURIComponent(part)));
      } catch {
        throw badRequest("Malformed percent-encoding in the URL");
      }
      return candidate.handler({ request, url, basePath, params });
    }
    if (allowed.size > 0) {
      // As HTTP asks of a 405: the methods the path does take (OPTIONS, the CORS preflight, on every path).
      const allow = [...allowed, "OPTIONS"].join(", ");
      throw new HttpError(405, { error: `Method ${request.method} is not allowed on ${pathname}` }, { Allow: allow });
    }
    throw notFound(`No route for ${request.method} ${pathname}`);
  }

  /** Serves one request. `basePath` is the mount prefix to strip (e.g. "/local-trigger"), "" standalone. */
  return async function handle(request: Request, basePath: string): Promise<Response> {
    const url = new URL(request.url);
    if (request.method === "OPTIONS") {
      // `Access-Control-Allow-Headers: *` does not cover Authorization, so echo what was asked for.
      return withCors(
        new Response(null, {
          status: 204,
          headers: {
            "Access-Control-Allow-Headers": request.headers.get("access-control-request-headers") ?? "*",
            "Access-Control-Max-Age": "600",
          },
        }),
      );
    }
    const pathname =
      basePath && url.pathname.startsWith(basePath) ? url.pathname.slice(basePath.length) || "/" : url.pathname;
    let response: Response;
    try {
      response = await route(request, url, pathname, basePath);
    } catch (error) {
      if (error instanceof HttpError) {
        const level = error.status >= 500 ? "warn" : "info";
        log(`${request.method} ${clip(pathname, 160)}: ${error.status} ${clip(error.message, 300)}`, level);
        // Every 404, whichever route raised it, tells the SDK not to retry, as upstream's route builder does.
        const headers = error.status === 404 ? { ...NO_RETRY, ...error.headers } : error.headers;
        response = json(error.status, error.body, headers);
      } else if (isOutOfDescriptors(error)) {
        const code = (error as NodeJS.ErrnoException).code;
        log(`${request.method} ${clip(pathname, 160)}: 503 out of file descriptors (${code})`, "error");
        response = json(503, { error: "The server is overloaded; try again in a moment" }, { "Retry-After": "5" });
      } else if (isDiskFailure(error)) {
        const code = (error as NodeJS.ErrnoException).code;
        log(`${request.method} ${clip(pathname, 160)}: 503 cannot write to the data folder (${code})`, "error");
        response = json(
          503,
          { error: "The server cannot save data right now (its disk is full or failing); try again later" },
          { "Retry-After": "30" },
        );
      } else {
        const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
        log(`${request.method} ${clip(pathname, 160)} failed: ${detail}`, "error");
        response = json(500, { error: "Internal error in the local engine" });
      }
    }
    return withCors(response);
  };
}

export function withCors(response: Response) {
  for (const [name, value] of Object.entries(CORS_HEADERS)) response.headers.set(name, value);
  return response;
}

/** Paths and messages can carry whatever a caller sent; a log line stays a line. */
const clip = (text: string, max: number) => {
  const line = text.replace(/\s+/g, " ");
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
};

/** Too many open connections or files: the machine is overloaded, not the engine broken. */
const isOutOfDescriptors = (error: unknown) => {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === "EMFILE" || code === "ENFILE";
};

/** The disk refused a write: full, over quota, read-only or failing. Nothing about the request is wrong. */
export const isDiskFailure = (error: unknown) => {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === "ENOSPC" || code === "EDQUOT" || code === "EROFS" || code === "EIO";
};
