// The production web server (`npm start`): static files, then the React Router
// app with the client's address in its request context, which the rate limits
// key on. Bundled into build/server.js by `npm run build`.
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { createRequestHandler } from "@react-router/express";
import compression from "compression";
import express from "express";
import morgan from "morgan";
import { RouterContextProvider, type ServerBuild } from "react-router";
import { getServerEnv } from "../lib/env.server";
import { clientAddressContext } from "../lib/request-context";

const env = getServerEnv();
const buildDir = path.dirname(fileURLToPath(import.meta.url));
const build = (await import(pathToFileURL(path.join(buildDir, "server", "index.js")).href)) as ServerBuild;

/** Express's `trust proxy`: "true", a hop count, or the proxies' addresses and subnets. */
function trustProxy(value: string | undefined): boolean | number | string {
  if (value === undefined || value === "false") return false;
  if (value === "true") return true;
  return /^\d+$/.test(value) ? Number(value) : value;
}

const app = express();
app.disable("x-powered-by");
app.set("trust proxy", trustProxy(env.TRUST_PROXY));
app.use(compression());

const nosniff = (response: express.Response) => response.setHeader("X-Content-Type-Options", "nosniff");
// Fingerprinted by Vite, so they never change under their name.
app.use("/assets", express.static(path.join(buildDir, "client", "assets"), { immutable: true, maxAge: "1y", setHeaders: nosniff }));
app.use(express.static(path.join(buildDir, "client"), { maxAge: "1h", setHeaders: nosniff }));
app.use(morgan("tiny"));
app.all(
  "*",
  createRequestHandler({
    build,
    mode: env.NODE_ENV,
    getLoadContext: (request) => new RouterContextProvider(new Map([[clientAddressContext, request.ip ?? null]])),
  }),
);

const onListen = () => console.log(`[server] listening on http://${env.HOST ?? "localhost"}:${env.PORT}`);
const server = env.HOST ? app.listen(env.PORT, env.HOST, onListen) : app.listen(env.PORT, onListen);
for (const signal of ["SIGTERM", "SIGINT"] as const) process.once(signal, () => server.close());
