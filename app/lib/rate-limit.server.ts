import { type RateLimiterAbstract, RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from "rate-limiter-flexible";
import { getServerEnv } from "./env.server";
import { errorResponse } from "./http.server";
import { getRedis } from "./redis.server";

/**
 * What one guest, and one client address, may do per minute. An address gets
 * more than a guest because people behind one NAT share it; it is also what
 * stops a client that drops its cookie from starting over as a fresh guest.
 */
export const RATE_LIMITS = {
  /** Guest cookies handed out: each is a fresh identity with fresh per-guest budgets. */
  newGuests: { perAddress: 30 },
  sessionStarts: { perGuest: 30, perAddress: 120 },
  tokenMints: { perGuest: 60, perAddress: 240 },
  /** Appends to a chat's streams: messages, stop signals and side-channel writes. */
  messages: { perGuest: 30, perAddress: 120 },
  /** What those appends store, in KiB: the disk fills by size, not by count. */
  uploadKiB: { perGuest: 8 * 1024, perAddress: 32 * 1024 },
} as const satisfies Record<string, { perGuest?: number; perAddress?: number }>;

export type RateLimitedAction = keyof typeof RATE_LIMITS;
const WINDOW_SECONDS = 60;

type Scope = "perGuest" | "perAddress";
const limiters = new Map<string, RateLimiterAbstract>();

function limiterFor(action: RateLimitedAction, scope: Scope, points: number): RateLimiterAbstract {
  const name = `${action}:${scope}`;
  let limiter = limiters.get(name);
  if (!limiter) {
    const options = { keyPrefix: `rate-limit:${name}`, points, duration: WINDOW_SECONDS };
    const redis = getRedis();
    // Shared by every instance when Redis is configured; while it is unreachable, each instance counts on its own.
    limiter = redis
      ? new RateLimiterRedis({ ...options, storeClient: redis, insuranceLimiter: new RateLimiterMemory(options) })
      : new RateLimiterMemory(options);
    limiters.set(name, limiter);
  }
  return limiter;
}

const DESCRIPTIONS: Record<RateLimitedAction, string> = {
  newGuests: "Too many new visitors from your network",
  sessionStarts: "You’re starting chats too quickly",
  tokenMints: "Too many requests for this chat",
  messages: "You’re sending messages too quickly",
  uploadKiB: "You’re sending too much too quickly",
};

type Caller = { guestId?: string | null; address?: string | null };

/** The budgets `action` counts this caller against, with the points to count; none when limits are off. */
function budgetsFor(action: RateLimitedAction, caller: Caller, cost: number) {
  const env = getServerEnv();
  if (env.RATE_LIMITS === "off") return [];
  const budgets: Partial<Record<Scope, number>> = RATE_LIMITS[action];
  const keys: [Scope, string | null | undefined][] = [
    ["perGuest", caller.guestId],
    ["perAddress", caller.address ? addressKey(caller.address) : null],
  ];
  return keys.flatMap(([scope, key]) => {
    if (!budgets[scope] || !key) return [];
    const points = Math.max(1, Math.floor(budgets[scope] * env.RATE_LIMIT_MULTIPLIER));
    // A cost over the whole budget is refused outright rather than counted forever.
    return [{ limiter: limiterFor(action, scope, points), key, points: Math.min(cost, points + 1) }];
  });
}

/**
 * Counts one `action` against the caller's guest and address budgets, and
 * throws a 429 Response (with Retry-After) when either is spent. A caller with
 * no known address (the dev server knows none) is counted by guest only.
 */
export async function enforceRateLimit(action: RateLimitedAction, caller: Caller, cost = 1): Promise<void> {
  for (const { limiter, key, points } of budgetsFor(action, caller, cost)) {
    try {
      await limiter.consume(key, points);
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      const retryAfterSeconds = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
      throw errorResponse(429, `${DESCRIPTIONS[action]}. Please wait ${retryAfterSeconds} s and try again.`, {
        headers: { "Retry-After": String(retryAfterSeconds) },
      });
    }
  }
}

/**
 * Gives back what {@link enforceRateLimit} counted, for a request that turned
 * out to need no budget (its credentials were refused before any work).
 */
export async function refundRateLimit(action: RateLimitedAction, caller: Caller, cost = 1): Promise<void> {
  for (const { limiter, key, points } of budgetsFor(action, caller, cost))
    await limiter.reward(key, points).catch(() => {});
}

/**
 * The key an address is counted under. An IPv6 client usually holds a whole
 * /64, so it is counted by that prefix, or each of its addresses would get a budget.
 */
export function addressKey(address: string): string {
  const v4 = /^(?:::ffff:)?(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  if (v4) return v4[1]!;
  if (!address.includes(":")) return address;
  const [head = "", tail = ""] = address.toLowerCase().split("::");
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const groups = address.includes("::")
    ? [...left, ...Array(8 - left.length - right.length).fill("0"), ...right]
    : left;
  return `${groups
    .slice(0, 4)
    .map((group) => group.replace(/^0+(?=.)/, ""))
    .join(":")}::/64`;
}

/** Forgets every count; for tests. */
export function resetRateLimits(): void {
  limiters.clear();
}
