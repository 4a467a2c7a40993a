import { sessions } from "@trigger.dev/sdk";
import { backendName, getServerEnv } from "./env.server";
import { logger } from "./logger.server";
import { connectTrigger } from "./trigger.server";

export type Backend = ReturnType<typeof backendName>;
export type Readiness = { ready: boolean; backend: Backend };

/** A backend slower than this to list one session counts as unreachable. */
export const READINESS_TIMEOUT_MS = 2_000;
/** Probes within this long of a check share its answer, so /readyz cannot multiply calls to the backend. */
export const READINESS_CACHE_MS = 2_000;

let latest: { startedAt: number; outcome: Promise<boolean> } | undefined;
/** The backend call itself, until it settles: at most one is ever in flight, even past its timeout. */
let pendingCall: Promise<unknown> | undefined;

/**
 * Whether chats can be served: Trigger.dev (remote mode) or the embedded
 * engine (local mode) answers an authenticated call with the configured key.
 */
export async function checkReadiness(): Promise<Readiness> {
  const backend = backendName(getServerEnv());
  const now = Date.now();
  if (!latest || now - latest.startedAt >= READINESS_CACHE_MS) latest = { startedAt: now, outcome: probe(backend) };
  return { ready: await latest.outcome, backend };
}

async function probe(backend: Backend): Promise<boolean> {
  const log = logger("readiness");
  if (pendingCall) {
    log.warn({ backend }, `not ready: the previous check is still waiting for ${backend}`);
    return false;
  }
  const call = (async () => {
    await connectTrigger();
    // One attempt: the SDK would otherwise retry with backoff, far past any probe's patience.
    await sessions.list({ limit: 1 }, { retry: { maxAttempts: 1 } });
  })();
  pendingCall = call;
  void call.then(
    () => (pendingCall = undefined),
    () => (pendingCall = undefined),
  );
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${READINESS_TIMEOUT_MS} ms`)), READINESS_TIMEOUT_MS);
  });
  try {
    await Promise.race([call, timeout]);
    return true;
  } catch (error) {
    log.warn({ backend, err: error }, `not ready: ${backend} did not answer a session list`);
    return false;
  } finally {
    clearTimeout(timer);
  }
}
