import { z } from "zod";
import { MODEL_ENV_SHAPE } from "./ai/model-env";
import { blankAsUnset, optional, parseEnv } from "./env-parsing";

const flag = z
  .preprocess(blankAsUnset, z.enum(["1", "true", "0", "false"]).optional())
  .transform((v) => v === "1" || v === "true");
const positiveInt = (fallback: number) =>
  z.preprocess(
    blankAsUnset,
    z.coerce
      .number({ error: "must be a whole number" })
      .int("must be a whole number")
      .positive("must be at least 1")
      .default(fallback),
  );

const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal", "silent"] as const;

const ServerEnvSchema = z.object({
  /** Where the production server listens; HOST unset means every interface. */
  PORT: z.preprocess(
    blankAsUnset,
    z.coerce.number({ error: "must be a port number" }).int().min(1).max(65535, "must be a port number").default(3000),
  ),
  HOST: optional(z.string()),
  NODE_ENV: z.preprocess(blankAsUnset, z.enum(["development", "production", "test"]).default("development")),
  TRIGGER_SECRET_KEY: optional(z.string().startsWith("tr_", 'must be a Trigger.dev secret key ("tr_…")')),
  TRIGGER_API_URL: optional(z.url("must be a URL such as https://api.trigger.dev")),
  /** Where the browser reaches Trigger.dev's realtime API, when it differs from TRIGGER_API_URL. */
  TRIGGER_PUBLIC_API_URL: optional(z.url("must be a URL")),
  /** Signs the guest cookie. Required with real Trigger.dev; generated into the data folder locally. */
  SESSION_SECRET: optional(z.string().min(32, "must be at least 32 characters")),
  /** Run on the embedded engine even when TRIGGER_SECRET_KEY is set. */
  LOCAL_TRIGGER: flag,
  LOCAL_TRIGGER_DATA_DIR: z.preprocess(blankAsUnset, z.string().default(".data/local-trigger")),
  LOCAL_TRIGGER_MAX_RUNS: positiveInt(32),
  LOCAL_TRIGGER_WARM_WORKERS: z.preprocess(
    blankAsUnset,
    z.coerce.number().int().min(0, "must not be negative").default(1),
  ),
  /**
   * The origin browsers use to reach the app, when a proxy in front of it changes the scheme or host
   * (e.g. "https://chat.example.com"). State-changing requests from any other origin are refused.
   */
  APP_ORIGIN: optional(
    z.url("must be an origin such as https://chat.example.com").transform((url) => new URL(url).origin),
  ),
  /** Express's `trust proxy` setting: which proxies' X-Forwarded-For may name the client. Unset: none. */
  TRUST_PROXY: optional(z.string()),
  /**
   * Shares rate limits and chat-start locks between app instances (e.g. redis://host:6379). Unset:
   * they live in this process, which is right for one instance.
   */
  REDIS_URL: optional(
    z
      .url("must be a URL such as redis://localhost:6379")
      .refine((url) => /^rediss?:\/\//.test(url), "must start with redis:// or rediss://"),
  ),
  /**
   * A new chat's first answer streams from this server (`chat.headStart`) while the agent's run boots. The
   * web server then calls the model, so it needs the agent's model settings and key.
   */
  CHAT_HEAD_START: flag,
  /** The model settings the agent reads too: the picker lists what they configure, and a head start uses them. */
  ...MODEL_ENV_SHAPE,
  /** Rate limits: "on" (default) or "off". Off is for load tests on one machine, never for a public server. */
  RATE_LIMITS: z.preprocess(blankAsUnset, z.enum(["on", "off"]).default("on")),
  /** Multiplies every rate limit, for hosts where many people share one address. */
  RATE_LIMIT_MULTIPLIER: z.preprocess(
    blankAsUnset,
    z.coerce.number({ error: "must be a number" }).positive("must be more than 0").default(1),
  ),
  /** The least severe log lines written. Unset: "info", or "silent" under tests (which capture lines they assert). */
  LOG_LEVEL: optional(z.enum(LOG_LEVELS, `must be one of ${LOG_LEVELS.join(", ")}`)),
  /** On SIGTERM or SIGINT, how long answers still streaming may take to finish before the server closes them. */
  SHUTDOWN_GRACE_MS: z.preprocess(
    blankAsUnset,
    z.coerce
      .number({ error: "must be a whole number of milliseconds" })
      .int("must be a whole number of milliseconds")
      .min(0, "must not be negative")
      .default(10_000),
  ),
});

export type ServerEnv = Readonly<
  Omit<z.infer<typeof ServerEnvSchema>, "LOG_LEVEL"> & {
    LOG_LEVEL: (typeof LOG_LEVELS)[number];
    /** "local": the embedded engine serves Trigger.dev's API in this process. "remote": Trigger.dev cloud or self-hosted. */
    triggerMode: "local" | "remote";
  }
>;

export function parseServerEnv(source: Record<string, string | undefined>): ServerEnv {
  const env = parseEnv(ServerEnvSchema, source, "server");
  const triggerMode = env.TRIGGER_SECRET_KEY && !env.LOCAL_TRIGGER ? "remote" : "local";
  if (triggerMode === "remote" && !env.SESSION_SECRET) {
    throw new Error(
      "Invalid server environment:\n  SESSION_SECRET: required when TRIGGER_SECRET_KEY is set (at least 32 random characters; it signs the guest cookie)",
    );
  }
  const LOG_LEVEL = env.LOG_LEVEL ?? (env.NODE_ENV === "test" ? "silent" : "info");
  return Object.freeze({ ...env, LOG_LEVEL, triggerMode });
}

const remoteApiURL = (env: ServerEnv) => env.TRIGGER_API_URL ?? "https://api.trigger.dev";

/** Where the server reaches Trigger.dev in remote mode. */
export const remoteServerBaseURL = remoteApiURL;

/** Where the browser reaches Trigger.dev's realtime API in remote mode. */
export const remoteBrowserBaseURL = (env: ServerEnv) => env.TRIGGER_PUBLIC_API_URL ?? remoteApiURL(env);

/** What serves chats, as /readyz names it. */
export const backendName = (env: ServerEnv) => (env.triggerMode === "remote" ? "trigger.dev" : "embedded");

let serverEnv: ServerEnv | undefined;

/** The web server's validated environment; the only place in app/ that reads process.env. */
export function getServerEnv(): ServerEnv {
  serverEnv ??= parseServerEnv(process.env);
  return serverEnv;
}
