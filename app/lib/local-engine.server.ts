import path from "node:path";
import type { ServerEnv } from "~/lib/env.server";
import { createLocalEngine, type LocalEngine } from "~/local-trigger/engine.server";
import { localEngineHolder as holder } from "./engine-holder.server";
import { logger } from "./logger.server";

/** Where the engine is mounted on the app's own origin, so the browser needs no CORS. */
export const LOCAL_TRIGGER_PATH = "/local-trigger";

/** The app's embedded engine, started once per process. The production server closes it on shutdown. */
export function getLocalEngine(env: ServerEnv): Promise<LocalEngine> {
  holder.__localTriggerEngine ??= createLocalEngine({
    dataDir: path.resolve(env.LOCAL_TRIGGER_DATA_DIR),
    maxLiveRuns: env.LOCAL_TRIGGER_MAX_RUNS,
    warmWorkers: env.LOCAL_TRIGGER_WARM_WORKERS,
    watch: env.NODE_ENV === "development",
    log: (message, level = "info") => logger("local-trigger")[level](message),
  }).then((engine) => {
    const reason = env.TRIGGER_SECRET_KEY ? "LOCAL_TRIGGER is set" : "no TRIGGER_SECRET_KEY is set";
    logger("local-trigger").info(
      `${reason}, so chats run on the embedded local engine (data in ${env.LOCAL_TRIGGER_DATA_DIR}). ` +
        "Set TRIGGER_SECRET_KEY (and TRIGGER_API_URL when self-hosting) to run them on Trigger.dev.",
    );
    return engine;
  });
  return holder.__localTriggerEngine;
}
