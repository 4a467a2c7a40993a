import type http from "node:http";
import type { ServerEnv } from "../lib/env.server";
import { startedLocalEngine } from "../lib/engine-holder.server";
import { logger } from "../lib/logger.server";
import type { ServingState } from "./app.server";

/** After the grace period, how long the streams ended then get to send their last bytes. */
const FLUSH_MS = 1_000;
/** If closing the engine and the connections hangs, the process still ends, this long after the grace period. */
const BACKSTOP_MS = 10_000;
const POLL_MS = 50;

/**
 * On SIGTERM or SIGINT: stop accepting connections, let the answers that are
 * streaming finish (up to SHUTDOWN_GRACE_MS), then end what is left, close the
 * embedded engine and exit 0. A second signal exits at once, with 1.
 */
export function exitGracefullyOnSignals(server: http.Server, state: ServingState, env: ServerEnv) {
  let shuttingDown = false;
  const onSignal = (signal: NodeJS.Signals) => {
    const log = logger("server");
    if (shuttingDown) {
      log.warn(`${signal} again: exiting now`);
      process.exit(1);
    }
    shuttingDown = true;
    setTimeout(() => {
      log.error(`shutdown did not finish within ${(env.SHUTDOWN_GRACE_MS + BACKSTOP_MS) / 1000} s: exiting now`);
      process.exit(1);
    }, env.SHUTDOWN_GRACE_MS + BACKSTOP_MS).unref();
    shutDown(server, state, env, signal).then(
      () => process.exit(0),
      (error: unknown) => {
        log.error({ err: error }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
}

async function shutDown(server: http.Server, state: ServingState, env: ServerEnv, signal: NodeJS.Signals) {
  const log = logger("server");
  state.draining = true;
  // Refuses new connections from now on; idle keep-alive ones close, busy ones once their response ends.
  server.close();
  const engine = await startedLocalEngine()?.catch(() => undefined);
  log.info(
    { inFlight: state.inFlight.size, turnsUnderWay: engine?.stats().turnsUnderWay ?? 0 },
    `${signal}: no longer accepting connections; waiting up to ${env.SHUTDOWN_GRACE_MS} ms for answers to finish`,
  );

  // Answers are done when no turn is under way and nothing but the engine's event streams is still being served:
  // those stay open between answers (a long poll), so they are ended rather than waited for.
  const answersDone = () =>
    (engine?.stats().turnsUnderWay ?? 0) === 0 && [...state.inFlight].every((response) => isEventStream(response));
  const finished = await pollUntil(() => {
    server.closeIdleConnections();
    return answersDone();
  }, env.SHUTDOWN_GRACE_MS);
  if (!finished) {
    log.warn(
      { inFlight: state.inFlight.size, turnsUnderWay: engine?.stats().turnsUnderWay ?? 0 },
      "grace period over: ending what is still open",
    );
  }

  const ended = engine?.endStreams() ?? 0;
  await pollUntil(() => state.inFlight.size === 0, FLUSH_MS);
  const cut = state.inFlight.size;
  server.closeAllConnections();
  await engine?.close();
  log.info({ streamsEnded: ended, connectionsCut: cut }, "stopped");
}

const isEventStream = (response: http.ServerResponse) =>
  response.headersSent && String(response.getHeader("Content-Type") ?? "").startsWith("text/event-stream");

/** Whether `done` became true within `timeoutMs`. */
async function pollUntil(done: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (done()) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, Math.min(POLL_MS, Math.max(1, deadline - Date.now()))));
  }
}
