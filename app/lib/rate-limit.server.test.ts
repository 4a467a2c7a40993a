import { afterEach, describe, expect, it, vi } from "vitest";
import { addressKey, enforceRateLimit, RATE_LIMITS, resetRateLimits } from "./rate-limit.server";

const env = vi.hoisted(() => ({ current: {} as Record<string, string> }));
vi.mock("./env.server", async (importOriginal) => {
  const actual = await importOriginal<typeof import("./env.server")>();
  return { ...actual, getServerEnv: () => actual.parseServerEnv(env.current) };
});

/** How many times `action` passes for this caller before the first refusal, and that refusal. */
async function countAllowed(
  action: Parameters<typeof enforceRateLimit>[0],
  caller: Parameters<typeof enforceRateLimit>[1],
  max = 1_000,
) {
  for (let allowed = 0; allowed < max; allowed++) {
    const refusal = await enforceRateLimit(action, caller).then(
      () => undefined,
      (error: unknown) => error,
    );
    if (refusal) return { allowed, refusal: refusal as Response };
  }
  return { allowed: max, refusal: undefined };
}

describe("enforceRateLimit", () => {
  afterEach(() => {
    resetRateLimits();
    env.current = {};
  });

  it("allows a guest its budget, then answers 429 with Retry-After and a message fit for the user", async () => {
    const { allowed, refusal } = await countAllowed("messages", { guestId: "guest-a" });
    expect(allowed).toBe(RATE_LIMITS.messages.perGuest);
    expect(refusal?.status).toBe(429);
    expect(Number(refusal?.headers.get("Retry-After"))).toBeGreaterThanOrEqual(1);
    expect(Number(refusal?.headers.get("Retry-After"))).toBeLessThanOrEqual(60);
    expect(await refusal?.json()).toEqual({
      error: expect.stringMatching(/^You’re sending messages too quickly\. Please wait \d+ s and try again\.$/),
    });
  });

  it("keeps each guest's budget separate", async () => {
    await countAllowed("messages", { guestId: "guest-a" });
    await expect(enforceRateLimit("messages", { guestId: "guest-b" })).resolves.toBeUndefined();
  });

  it("also counts by address, so new guests from one address share its budget", async () => {
    let refusedAt: number | undefined;
    for (let guest = 0; guest < RATE_LIMITS.sessionStarts.perAddress + 1 && refusedAt === undefined; guest++) {
      await enforceRateLimit("sessionStarts", { guestId: `guest-${guest}`, address: "203.0.113.7" }).catch(
        () => (refusedAt = guest),
      );
    }
    expect(refusedAt).toBe(RATE_LIMITS.sessionStarts.perAddress);
    await expect(
      enforceRateLimit("sessionStarts", { guestId: "guest-x", address: "203.0.113.8" }),
    ).resolves.toBeUndefined();
  });

  it("limits new guest cookies per address", async () => {
    expect((await countAllowed("newGuests", { address: "203.0.113.7" })).allowed).toBe(
      RATE_LIMITS.newGuests.perAddress,
    );
  });

  it("keeps each action's budget separate", async () => {
    await countAllowed("tokenMints", { guestId: "guest-a" });
    await expect(enforceRateLimit("sessionStarts", { guestId: "guest-a" })).resolves.toBeUndefined();
  });

  it("scales with RATE_LIMIT_MULTIPLIER and can be turned off", async () => {
    env.current = { RATE_LIMIT_MULTIPLIER: "2" };
    expect((await countAllowed("messages", { guestId: "guest-a" })).allowed).toBe(2 * RATE_LIMITS.messages.perGuest);
    resetRateLimits();
    env.current = { RATE_LIMITS: "off" };
    expect((await countAllowed("messages", { guestId: "guest-a" }, 200)).allowed).toBe(200);
  });
});

describe("addressKey", () => {
  it("counts IPv4 clients by address, IPv4-mapped ones included", () => {
    expect(addressKey("203.0.113.7")).toBe("203.0.113.7");
    expect(addressKey("::ffff:203.0.113.7")).toBe("203.0.113.7");
  });

  it("counts IPv6 clients by their /64, however the address is written", () => {
    const key = addressKey("2001:db8:85a3:1:aaaa:bbbb:cccc:dddd");
    expect(key).toBe("2001:db8:85a3:1::/64");
    expect(addressKey("2001:DB8:85A3:0001::1")).toBe(key);
    expect(addressKey("2001:db8:85a3:1::ffff")).toBe(key);
    expect(addressKey("2001:db8:85a3:2::1")).not.toBe(key);
    expect(addressKey("2001:db8::1")).toBe("2001:db8:0:0::/64");
    expect(addressKey("::1")).toBe("0:0:0:0::/64");
  });

  it("makes every address in one /64 share one budget", async () => {
    for (let n = 0; n < RATE_LIMITS.newGuests.perAddress; n++)
      await enforceRateLimit("newGuests", { address: `2001:db8:1:2::${n.toString(16)}` });
    await expect(enforceRateLimit("newGuests", { address: "2001:db8:1:2:ffff::1" })).rejects.toHaveProperty(
      "status",
      429,
    );
    resetRateLimits();
  });
});
