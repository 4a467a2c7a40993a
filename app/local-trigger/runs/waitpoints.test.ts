import { parsePacket } from "@trigger.dev/core/v3";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Waitpoints } from "./waitpoints.server";

const DAY = 24 * 60 * 60 * 1000;
const BASE = "http://127.0.0.1:1/local-trigger";

/** Whether a promise has settled by now, without waiting for it. */
async function settled(promise: Promise<unknown>) {
  let done = false;
  void promise.then(() => (done = true));
  await vi.advanceTimersByTimeAsync(0);
  return done;
}

describe("waitpoint tokens", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("times out a token whose timeout is longer than a Node timer can wait, and not before", async () => {
    const waitpoints = new Waitpoints("secret-key-for-tests");
    const { token } = waitpoints.create({ timeoutAt: new Date(Date.now() + 28 * DAY), tags: [], baseURL: BASE });
    const waiting = waitpoints.wait(token.id, "run_a");

    await vi.advanceTimersByTimeAsync(27 * DAY);
    expect(token.status).toBe("WAITING");
    expect(await settled(waiting)).toBe(false);

    await vi.advanceTimersByTimeAsync(DAY);
    expect(token.status).toBe("TIMED_OUT");
    const result = await waiting;
    expect(result.ok).toBe(false);
    expect(JSON.parse(result.output!)).toMatchObject({ code: "TRIGGER_WAITPOINT_TIMEOUT" });
    waitpoints.close();
  });

  it("answers no run that has ended, and every run still waiting", async () => {
    const waitpoints = new Waitpoints("secret-key-for-tests");
    const { token } = waitpoints.create({ tags: [], baseURL: BASE });
    const gone = waitpoints.wait(token.id, "run_gone");
    const staying = waitpoints.wait(token.id, "run_staying");
    waitpoints.forgetRun("run_gone");

    await waitpoints.complete(token.id, { approved: true });
    const result = await staying;
    expect(result.ok).toBe(true);
    // As the SDK serialises it (SuperJSON), and parses it back in the waiting run.
    expect(await parsePacket({ data: result.output, dataType: result.outputType! })).toEqual({ approved: true });
    expect(await settled(gone)).toBe(false);
  });

  it("accepts only the callback signature of the token it names", () => {
    const waitpoints = new Waitpoints("secret-key-for-tests");
    const first = waitpoints.create({ tags: [], baseURL: BASE }).token;
    const second = waitpoints.create({ tags: [], baseURL: BASE }).token;
    const hashOf = (url: string) => url.split("/").at(-1)!;
    const firstHash = hashOf(waitpoints.callbackURL(first));

    expect(waitpoints.callbackURL(first)).toBe(`${BASE}/api/v1/waitpoints/tokens/${first.id}/callback/${firstHash}`);
    expect(waitpoints.verifyCallback(first.id, firstHash)).toBe(true);
    expect(waitpoints.verifyCallback(second.id, firstHash)).toBe(false);
    expect(waitpoints.verifyCallback(first.id, "not-hex")).toBe(false);
    // Another engine's key signs differently.
    expect(new Waitpoints("another-key").verifyCallback(first.id, firstHash)).toBe(false);
  });

  it("returns the same token for an idempotency key until the key expires", async () => {
    const waitpoints = new Waitpoints("secret-key-for-tests");
    const options = { idempotencyKey: "approve-1", idempotencyKeyExpiresAt: new Date(Date.now() + 60_000), tags: [] };
    const first = waitpoints.create({ ...options, baseURL: BASE });
    const again = waitpoints.create({ ...options, baseURL: BASE });
    expect(again).toEqual({ token: first.token, isCached: true });

    await vi.advanceTimersByTimeAsync(60_000);
    const later = waitpoints.create({ ...options, baseURL: BASE });
    expect(later.isCached).toBe(false);
    expect(later.token.id).not.toBe(first.token.id);
  });
});
