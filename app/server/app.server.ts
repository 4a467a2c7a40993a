// The production web server's Express app: a request id and the security headers on
// every response, the embedded engine's mount, static files, then the React Router app with
// the client's address in its request context, which the rate limits key on. main.server.ts serves it.
import type http from "node:http";
import path from "node:path";
import { createRequestHandler } from "@react-router/express";
import compression from "compression";
import express from "express";
import onHeaders from "on-headers";
import { RouterContextProvider, type ServerBuild } from "react-router";
import { backendName, type ServerEnv } from "../lib/env.server";
import type { LocalEngineMount } from "../lib/local-engine-mount.server";
import { logger, REQUEST_ID_HEADER, requestIdFrom, withRequestId } from "../lib/logger.server";
import { clientAddressContext, nonceContext } from "../lib/request-context";
import { createNonce, crossOriginRefusal, securityHeaders } from "../lib/security-policy.server";
import { serveFetch } from "./serve-fetch.server";

/** What the server's shutdown needs to know of the requests being served. */
export type ServingState = {
  /** Set on SIGTERM: responses close their connection, and /readyz says the server is unavailable. */
  draining: boolean;
  /** Responses not yet finished or abandoned, streams included. */
  inFlight: Set<http.ServerResponse>;
};

/** Polled by load balancers and orchestrators every few seconds: their successes are logged at debug level only. */
const PROBE_PATHS = new Set(["/healthz", "/readyz"]);

/** Static files are logged at debug level only, so the log has a line per page, data request and API call. */
const markStatic = (response: http.ServerResponse) => void ((response as express.Response).locals.staticFile = true);

const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

/** Express's `trust proxy`: "true", a hop count, or the proxies' addresses and subnets. */
function trustProxy(value: string | undefined): boolean | number | string {
  if (value === undefined || value === "false") return false;
  if (value === "true") return true;
  return /^\d+$/.test(value) ? Number(value) : value;
}

export type AppOptions = {
  build: ServerBuild;
  env: ServerEnv;
  /** The browser's files, as `npm run build` writes them. */
  clientDir: string;
  state: ServingState;
};

export function createApp({ build, env, clientDir, state }: AppOptions) {
  /**
   * The origin React Router's adapter puts in request.url (X-Forwarded-Host
   * counts only under TRUST_PROXY), or APP_ORIGIN.
   */
  function originOf(request: express.Request): string {
    if (env.APP_ORIGIN) return env.APP_ORIGIN;
    const trusted = request.app.enabled("trust proxy");
    const forwardedPort = trusted ? request.get("X-Forwarded-Host")?.split(":")[1] : undefined;
    const port = forwardedPort ?? request.get("host")?.split(":")[1];
    return `${request.protocol}://${request.hostname}${port ? `:${port}` : ""}`;
  }

  const app = express();
  app.disable("x-powered-by");
  app.set("trust proxy", trustProxy(env.TRUST_PROXY));
  // First, so every line logged while serving the request carries its id, and shutdown knows what is still served.
  app.use((request, response, next) => {
    const requestId = requestIdFrom(request.get(REQUEST_ID_HEADER));
    response.locals.requestId = requestId;
    response.locals.startedAt = performance.now();
    response.setHeader(REQUEST_ID_HEADER, requestId);
    if (state.draining) response.setHeader("Connection", "close");
    state.inFlight.add(response);
    response.once("close", () => {
      state.inFlight.delete(response);
      logRequest(request, response);
    });
    withRequestId(requestId, next);
  });
  // Every response carries them: static files, the errors React Router or Express answer without
  // running the app's middleware, and the app's own responses, which set the same ones (same nonce).
  app.use((request, response, next) => {
    const nonce = createNonce();
    response.locals.nonce = nonce;
    onHeaders(response, () => {
      for (const [name, value] of Object.entries(securityHeaders(nonce, env))) {
        if (!response.hasHeader(name)) response.setHeader(name, value);
      }
    });
    if (!METHODS.has(request.method)) {
      const error = `Method ${request.method.slice(0, 20)} is not allowed`;
      response
        .set("Allow", [...METHODS].join(", "))
        .status(405)
        .json({ error });
      return;
    }
    // The app's middleware checks this too; here it also covers what React Router answers before its middleware runs.
    const headers = { get: (name: string) => request.get(name) ?? null };
    const refusal = crossOriginRefusal({ method: request.method, headers }, originOf(request));
    if (refusal) {
      logger("security").warn(`refused ${refusal}: ${request.method} ${request.path.slice(0, 200)}`);
      response.status(403).json({ error: "Cross-site requests are not allowed" });
      return;
    }
    next();
  });
  // A server shutting down is not ready for more work, whatever its backend says.
  app.get("/readyz", (_request, response, next) => {
    if (!state.draining) return next();
    response
      .status(503)
      .set("Cache-Control", "no-store")
      .json({ status: "unavailable", backend: backendName(env) });
  });
  // The engine's mount is most of a chat's traffic (each message, each answer stream): served beside React Router.
  const engineMount = (build.entry.module as { localEngineMount?: LocalEngineMount }).localEngineMount;
  if (engineMount)
    app.use(
      engineMount.path,
      serveFetch((request, req) => engineMount.serve(request, req.ip ?? null), originOf),
    );
  app.use(compression());
  // Fingerprinted by Vite, so they never change under their name.
  const assets = path.join(clientDir, "assets");
  app.use("/assets", express.static(assets, { immutable: true, maxAge: "1y", setHeaders: markStatic }));
  app.use(express.static(clientDir, { maxAge: "1h", setHeaders: markStatic }));
  app.all(
    "*",
    createRequestHandler({
      build,
      mode: env.NODE_ENV,
      getLoadContext: (request, response) =>
        new RouterContextProvider(
          new Map<Parameters<RouterContextProvider["get"]>[0], unknown>([
            [clientAddressContext, request.ip ?? null],
            [nonceContext, response.locals.nonce],
          ]),
        ),
    }),
  );
  return app;
}

/** One line per request: no query string (it may carry anything), no headers (they carry the cookie). */
function logRequest(request: express.Request, response: express.Response) {
  const status = response.statusCode;
  // Not request.path: a handler mounted under a path (the engine's) leaves it without that prefix.
  const pathname = request.originalUrl.split("?")[0]!;
  const fields = {
    requestId: response.locals.requestId as string,
    method: request.method,
    path: pathname.slice(0, 200),
    status,
    durationMs: Math.round((performance.now() - (response.locals.startedAt as number)) * 10) / 10,
  };
  const log = logger("http");
  const routine = status < 400 && (PROBE_PATHS.has(pathname) || response.locals.staticFile === true);
  // A response cut off before its end (a stream the reader left, a connection closed at shutdown) says so.
  if (!response.writableFinished) log.info({ ...fields, aborted: true }, "request aborted");
  else if (status >= 500) log.warn(fields, "request failed");
  else if (routine) log.debug(fields, "request completed");
  else log.info(fields, "request completed");
}
