import path from "node:path";
import { z } from "zod";
import { createLocalEngine } from "./engine.server";
import { StartupError } from "./storage/secrets.server";

/*
 * `npm run engine`: the engine as a standalone process on a loopback port, so
 * tests and tools can treat it as a remote Trigger.dev. Point an app at it with
 * TRIGGER_API_URL=<printed URL> and TRIGGER_SECRET_KEY=<contents of the key file>.
 */

const LOOPBACK = /^(127(\.\d{1,3}){3}|::1|localhost)$/;

const CliEnv = z.object({
  LOCAL_TRIGGER_HOST: z
    .string()
    .regex(LOOPBACK, "must be a loopback address (127.x.x.x, ::1 or localhost): the engine is for this machine only")
    .default("127.0.0.1"),
  LOCAL_TRIGGER_PORT: z.coerce.number().int().min(0).max(65535).default(3030),
  LOCAL_TRIGGER_DATA_DIR: z.string().min(1).default(".data/local-trigger"),
  LOCAL_TRIGGER_TASK_DIRS: z.string().min(1).default("trigger"),
  LOCAL_TRIGGER_MAX_RUNS: z.coerce.number().int().positive().default(32),
  LOCAL_TRIGGER_WARM_WORKERS: z.coerce.number().int().min(0).default(1),
});

const parsed = CliEnv.safeParse(process.env);
if (!parsed.success) {
  console.error(
    `Invalid engine environment:\n${parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`).join("\n")}`,
  );
  process.exit(1);
}
const env = parsed.data;

let engine: Awaited<ReturnType<typeof createLocalEngine>>;
try {
  engine = await createLocalEngine({
    dataDir: env.LOCAL_TRIGGER_DATA_DIR,
    host: env.LOCAL_TRIGGER_HOST === "localhost" ? "127.0.0.1" : env.LOCAL_TRIGGER_HOST,
    port: env.LOCAL_TRIGGER_PORT,
    taskDirs: env.LOCAL_TRIGGER_TASK_DIRS.split(",").map((dir) => dir.trim()),
    maxLiveRuns: env.LOCAL_TRIGGER_MAX_RUNS,
    warmWorkers: env.LOCAL_TRIGGER_WARM_WORKERS,
  });
} catch (error) {
  if (!(error instanceof StartupError)) throw error;
  console.error(`[local-trigger] cannot start: ${error.message}`);
  process.exit(1);
}
const tasks = await engine.taskIds();
console.log(`[local-trigger] listening on ${engine.apiURL} with tasks: ${tasks.join(", ")}`);
console.log(
  `[local-trigger] secret key in ${path.join(env.LOCAL_TRIGGER_DATA_DIR, "secret-key")} (use it as TRIGGER_SECRET_KEY)`,
);

const shutdown = () => {
  void engine.close().then(() => process.exit(0));
};
process.once("SIGINT", shutdown);
process.once("SIGTERM", shutdown);
