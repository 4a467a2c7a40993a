import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import net from "node:net";
import { ApiError } from "@trigger.dev/sdk";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { sessionRow } from "./test-support.server";
import { freePort } from "~/local-trigger/testing/free-port";

// Against a real redis-server (Debian's `redis-server` package), as a deployment with REDIS_URL runs.
// CI installs it; on a machine without it these tests are skipped, and say so.
const hasRedis = (() => {
  try {
    execFileSync("redis-server", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();
if (!hasRedis && process.env.CI) throw new Error("redis-server is not installed; CI must install it (see .ci/run)");

const env = vi.hoisted(() => ({ redisURL: "" }));
vi.mock("./env.server", async (importOriginal) => {
  const actual = await importOriginal<typeof import("./env.server")>();
  return {
    ...actual,
    getServerEnv: () =>
      actual.parseServerEnv({ NODE_ENV: "test", REDIS_URL: env.redisURL, SESSION_SECRET: "s".repeat(32) }),
  };
});

// A fake Trigger.dev that behaves as the real one does on a second create: it writes the caller's tags through.
const store = vi.hoisted(() => new Map<string, string[]>());
vi.mock("@trigger.dev/sdk", async (importOriginal) => ({
  ...(await importOriginal<typeof import("@trigger.dev/sdk")>()),
  sessions: {
    retrieve: vi.fn(async (chatId: string) => {
      const tags = store.get(chatId);
      if (!tags) throw new ApiError(404, { error: "Session not found" }, undefined, undefined);
      return sessionRow({ externalId: chatId, tags });
    }),
  },
}));
vi.mock("./trigger.server", () => ({
  connectTrigger: vi.fn(async () => ({ mode: "local", browserBaseURL: "/local-trigger" })),
  startChatSession: vi.fn(async (chatId: string, tag: string) => {
    await new Promise((resolve) => setTimeout(resolve, 20));
    store.set(chatId, [tag]);
    return { publicAccessToken: `token-for-${tag}` };
  }),
}));

async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    { stdio: "ignore" },
  );
  for (let tries = 0; tries < 100; tries++) {
    const up = await new Promise<boolean>((resolve) => {
      const socket = net
        .connect(port, "127.0.0.1", () => socket.end(() => resolve(true)))
        .on("error", () => resolve(false));
    });
    if (up) return child;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error("redis-server did not start");
}

/** A fresh copy of the app's modules: what a second app instance sharing the same Redis would run. */
async function appInstance() {
  vi.resetModules();
  const redis = await import("./redis.server");
  await redis.connectRedis();
  return { rateLimit: await import("./rate-limit.server"), chats: await import("./chats.server"), redis };
}

const outcome = (promise: Promise<unknown>) =>
  promise.then(
    () => "allowed",
    (error: unknown) => (error instanceof Response ? error.status : String(error)),
  );

describe.skipIf(!hasRedis)("with REDIS_URL, app instances share", () => {
  let redis: ChildProcess;
  const instances: Awaited<ReturnType<typeof appInstance>>[] = [];

  beforeAll(async () => {
    const port = await freePort();
    redis = await startRedis(port);
    env.redisURL = `redis://127.0.0.1:${port}`;
    instances.push(await appInstance(), await appInstance());
  });

  afterAll(async () => {
    await Promise.all(instances.map(({ redis: module }) => module.closeRedis()));
    redis?.kill();
  });

  it("one rate limit budget", async () => {
    const [a, b] = instances as [Awaited<ReturnType<typeof appInstance>>, Awaited<ReturnType<typeof appInstance>>];
    const guestId = randomUUID();
    const budget = a.rateLimit.RATE_LIMITS.messages.perGuest;
    for (let sent = 0; sent < budget; sent++) {
      expect(await outcome((sent % 2 ? a : b).rateLimit.enforceRateLimit("messages", { guestId }))).toBe("allowed");
    }
    expect(await outcome(a.rateLimit.enforceRateLimit("messages", { guestId }))).toBe(429);
    expect(await outcome(b.rateLimit.enforceRateLimit("messages", { guestId }))).toBe(429);
  });

  it("one owner per chat id, whichever instance each guest reaches", async () => {
    const [a, b] = instances as [Awaited<ReturnType<typeof appInstance>>, Awaited<ReturnType<typeof appInstance>>];
    for (let round = 0; round < 10; round++) {
      const chatId = randomUUID();
      const [first, second] = await Promise.all([
        a.chats.startOwnedChat(chatId, `guest-a-${round}`, undefined),
        b.chats.startOwnedChat(chatId, `guest-b-${round}`, undefined),
      ]);
      expect([first.kind, second.kind].sort(), `round ${round}`).toEqual(["started", "unavailable"]);
      const winner = first.kind === "started" ? `guest-a-${round}` : `guest-b-${round}`;
      expect(store.get(chatId)).toEqual([`guest:${winner}`]);
    }
  });

  it("rate limits and chat starts that keep working, per instance, while Redis is down", async () => {
    const [a] = instances as [Awaited<ReturnType<typeof appInstance>>];
    redis.kill();
    await new Promise((resolve) => redis.once("exit", resolve));
    const guestId = randomUUID();
    const budget = a.rateLimit.RATE_LIMITS.tokenMints.perGuest;
    for (let sent = 0; sent < budget; sent++)
      expect(await outcome(a.rateLimit.enforceRateLimit("tokenMints", { guestId }))).toBe("allowed");
    expect(await outcome(a.rateLimit.enforceRateLimit("tokenMints", { guestId }))).toBe(429);
    expect((await a.chats.startOwnedChat(randomUUID(), "guest-c", undefined)).kind).toBe("started");
  });
});
