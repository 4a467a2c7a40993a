import path from "node:path";
import type { ServerEnv } from "~/lib/env.server";
import { createLocalEngine, type LocalEngine } from "~/local-trigger/engine.server";
import { logger } from "./logger.server";

/** Where the engine is mounted on the app's own origin, so the browser needs no CORS. */
export const LOCAL_TRIGGER_PATH = "/local-trigger";

// On globalThis so a dev-server module reload reuses the running engine instead of starting a second one.
const holder = globalThis as typeof globalThis & { __localTriggerEngine?: Promise<LocalEngine> };

/** The app's embedded engine, started once per process. */
export function getLocalEngine(env: ServerEnv): Promise<LocalEngine> {
  holder.__localTriggerEngine ??= createLocalEngine({
    dataDir: path.resolve(env.LOCAL_TRIGGER_DATA_DIR),
    maxLiveRuns: env.LOCAL_TRIGGER_MAX_RUNS,
    warmWorkers: env.LOCAL_TRIGGER_WARM_WORKERS,
    watch: env.NODE_ENV === "development",
    log: (message, level = "info") => logger("local-trigger")[level](message),
  }).then((engine) => {
    // The app server closes gracefully on these signals; open streams, the loopback port and run threads would hold it open.
    for (const signal of ["SIGTERM", "SIGINT"] as const) process.once(signal, () => void engine.close());
    const reason = env.TRIGGER_SECRET_KEY ? "LOCAL_TRIGGER is set" : "no TRIGGER_SECRET_KEY is set";
    logger("local-trigger").info(
      `${reason}, so chats run on the embedded local engine (data in ${env.LOCAL_TRIGGER_DATA_DIR}). ` +
        "Set TRIGGER_SECRET_KEY (and TRIGGER_API_URL when self-hosting) to run them on Trigger.dev.",
    );
    return engine;
  });
  return holder.__localTriggerEngine;
}
