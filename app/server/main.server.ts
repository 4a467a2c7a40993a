// The production web server (`npm start`): serves the app (app.server.ts) on HOST and PORT,
// and shuts down gracefully on SIGTERM or SIGINT. Bundled into build/server.js by `npm run build`.
import http from "node:http";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { ServerBuild } from "react-router";
import { getServerEnv } from "../lib/env.server";
import { logger } from "../lib/logger.server";
import { createApp, type ServingState } from "./app.server";
import { exitGracefullyOnSignals } from "./shutdown.server";

const env = getServerEnv();
const buildDir = path.dirname(fileURLToPath(import.meta.url));
const build = (await import(pathToFileURL(path.join(buildDir, "server", "index.js")).href)) as ServerBuild;

const state: ServingState = { draining: false, inFlight: new Set() };
const app = createApp({ build, env, clientDir: path.join(buildDir, "client"), state });

// A request must arrive whole within 15 s, checked every 2 s: a body that stalls (slowloris) must not
// hold a connection open. Streams are responses, so they are not limited by it.
const server = http.createServer(
  { requestTimeout: 15_000, headersTimeout: 10_000, connectionsCheckingInterval: 2_000 },
  app,
);
const onListen = () => logger("server").info(`listening on http://${env.HOST ?? "localhost"}:${env.PORT}`);
if (env.HOST) server.listen(env.PORT, env.HOST, onListen);
else server.listen(env.PORT, onListen);
exitGracefullyOnSignals(server, state, env);
