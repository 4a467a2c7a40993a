import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { getServerEnv } from "./env.server";
import { logger } from "./logger.server";

let client: Redis | null | undefined;

/**
 * The Redis connection shared by this instance's rate limits and chat-start
 * locks, or null when REDIS_URL is not set. Commands fail fast while Redis is
 * unreachable instead of queueing: callers fall back rather than wait.
 */
export function getRedis(): Redis | null {
  if (client !== undefined) return client;
  const url = getServerEnv().REDIS_URL;
  if (!url) return (client = null);
  client = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2_000 });
  let reported = false;
  client.on("error", (error: Error) => {
    // ioredis reconnects on its own; one line per outage is enough.
    if (!reported) {
      logger("redis").warn(`${error.message}; rate limits fall back to this instance's memory until it is back`);
    }
    reported = true;
  });
  client.on("ready", () => (reported = false));
  return client;
}

/**
 * Connects at boot, waiting up to `timeoutMs` for Redis to answer, since
 * commands sent before then would fail rather than queue. An unreachable
 * Redis is not fatal: the app starts, and says so in one line.
 */
export async function connectRedis(timeoutMs = 3_000): Promise<void> {
  const redis = getRedis();
  if (!redis || redis.status === "ready") return;
  const ready = new Promise<boolean>((resolve) => {
    redis.once("ready", () => resolve(true));
    setTimeout(() => resolve(false), timeoutMs).unref();
  });
  if (!(await ready)) {
    logger("redis").warn(`not reachable within ${timeoutMs / 1000} s; this instance counts on its own until it is`);
  }
}

/** Closes the connection; for tests and shutdown. */
export async function closeRedis(): Promise<void> {
  const open = client;
  client = undefined;
  await open?.quit().catch(() => open.disconnect());
}

const LOCK_TTL_MS = 15_000;
const LOCK_POLL_MS = 25;
// Deletes the lock only if it is still ours: a holder that outlived its TTL must not free someone else's.
const RELEASE = `if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) else return 0 end`;

/**
 * Runs `work` while holding `key` across every instance that shares this
 * Redis; a holder that dies frees the lock after 15 s. While Redis cannot be
 * reached, `work` runs under the caller's own (per-instance) lock only.
 */
export async function withRedisLock<T>(redis: Redis, key: string, work: () => Promise<T>): Promise<T> {
  const token = randomUUID();
  const deadline = Date.now() + LOCK_TTL_MS;
  for (;;) {
    let acquired: boolean;
    try {
      acquired = (await redis.set(key, token, "PX", LOCK_TTL_MS, "NX")) === "OK";
    } catch {
      return work();
    }
    if (acquired) break;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for the lock ${key}`);
    await new Promise((resolve) => setTimeout(resolve, LOCK_POLL_MS));
  }
  try {
    return await work();
  } finally {
    await redis.eval(RELEASE, 1, key, token).catch(() => {});
  }
}
