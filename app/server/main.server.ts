// The production web server (`npm start`): static files, then the React Router
// app with the client's address in its request context, which the rate limits
// key on. Bundled into build/server.js by `npm run build`.
import http from "node:http";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { createRequestHandler } from "@react-router/express";
import compression from "compression";
import express from "express";
import morgan from "morgan";
import onHeaders from "on-headers";
import { RouterContextProvider, type ServerBuild } from "react-router";
import { getServerEnv } from "../lib/env.server";
import { clientAddressContext, nonceContext } from "../lib/request-context";
import { createNonce, crossOriginRefusal, securityHeaders } from "../lib/security-policy.server";

const env = getServerEnv();
const buildDir = path.dirname(fileURLToPath(import.meta.url));
const build = (await import(pathToFileURL(path.join(buildDir, "server", "index.js")).href)) as ServerBuild;

/** Express's `trust proxy`: "true", a hop count, or the proxies' addresses and subnets. */
function trustProxy(value: string | undefined): boolean | number | string {
  if (value === undefined || value === "false") return false;
  if (value === "true") return true;
  return /^\d+$/.test(value) ? Number(value) : value;
}

/** The origin React Router's adapter puts in request.url (X-Forwarded-Host counts only under TRUST_PROXY), or APP_ORIGIN. */
function originOf(request: express.Request): string {
  if (env.APP_ORIGIN) return env.APP_ORIGIN;
  const forwardedPort = request.app.enabled("trust proxy") ? request.get("X-Forwarded-Host")?.split(":")[1] : undefined;
  const port = forwardedPort ?? request.get("host")?.split(":")[1];
  return `${request.protocol}://${request.hostname}${port ? `:${port}` : ""}`;
}

const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

const app = express();
app.disable("x-powered-by");
app.set("trust proxy", trustProxy(env.TRUST_PROXY));
// Every response carries them: static files, the errors React Router or Express answer without
// running the app's middleware, and the app's own responses, which set the same ones (same nonce).
app.use((request, response, next) => {
  const nonce = createNonce();
  response.locals.nonce = nonce;
  onHeaders(response, () => {
    for (const [name, value] of Object.entries(securityHeaders(nonce, env))) if (!response.hasHeader(name)) response.setHeader(name, value);
  });
  if (!METHODS.has(request.method)) {
    response.set("Allow", [...METHODS].join(", ")).status(405).json({ error: `Method ${request.method.slice(0, 20)} is not allowed` });
    return;
  }
  // The app's middleware checks this too; here it also covers what React Router answers before its middleware runs.
  const refusal = crossOriginRefusal({ method: request.method, headers: { get: (name) => request.get(name) ?? null } }, originOf(request));
  if (refusal) {
    console.warn(`[security] refused ${refusal}: ${request.method} ${request.path.slice(0, 200)}`);
    response.status(403).json({ error: "Cross-site requests are not allowed" });
    return;
  }
  next();
});
app.use(compression());
// Fingerprinted by Vite, so they never change under their name.
app.use("/assets", express.static(path.join(buildDir, "client", "assets"), { immutable: true, maxAge: "1y" }));
app.use(express.static(path.join(buildDir, "client"), { maxAge: "1h" }));
app.use(morgan("tiny"));
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

// A request must arrive whole within 15 s, checked every 2 s: a body that stalls (slowloris) must not
// hold a connection open. Streams are responses, so they are not limited by it.
const server = http.createServer({ requestTimeout: 15_000, headersTimeout: 10_000, connectionsCheckingInterval: 2_000 }, app);
const onListen = () => console.log(`[server] listening on http://${env.HOST ?? "localhost"}:${env.PORT}`);
if (env.HOST) server.listen(env.PORT, env.HOST, onListen);
else server.listen(env.PORT, onListen);
for (const signal of ["SIGTERM", "SIGINT"] as const) process.once(signal, () => server.close());
