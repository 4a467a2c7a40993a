import { createHmac, timingSafeEqual } from "node:crypto";
import { stringifyIO } from "@trigger.dev/core/v3";
import { WaitpointId } from "@trigger.dev/core/v3/isomorphic";
import type { WaitpointResult } from "../worker/protocol.server";

export type TokenStatus = "WAITING" | "COMPLETED" | "TIMED_OUT";

export type WaitpointToken = {
  id: string;
  status: TokenStatus;
  output?: string;
  outputType?: string;
  outputIsError?: boolean;
  timeoutAt?: Date;
  completedAt?: Date;
  idempotencyKey?: string;
  idempotencyKeyExpiresAt?: Date;
  tags: string[];
  createdAt: Date;
  /** The origin and mount path the token was created through, for its callback URL. */
  baseURL: string;
};

/** Tokens kept at once; past it the oldest that no one can still wait on are forgotten. */
const MAX_TOKENS = 10_000;
/** Node's timers cannot wait longer than this; longer timeouts re-arm. */
const MAX_TIMER_MS = 2 ** 31 - 1;
const TIMEOUT_ERROR_CODE = "TRIGGER_WAITPOINT_TIMEOUT";

/**
 * Waitpoint tokens (`wait.createToken`, `wait.forToken`, `wait.completeToken`
 * and the token's callback URL), in memory: a restart loses them, and a run
 * waiting on one is lost with its thread anyway.
 */
export class Waitpoints {
  private readonly tokens = new Map<string, WaitpointToken>();
  private readonly idempotency = new Map<string, string>();
  /** Who waits on each token: the waiting run's id, and how to answer it. */
  private readonly waiters = new Map<string, { runId: string; resolve: (result: WaitpointResult) => void }[]>();
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(private readonly secretKey: string) {}

  get(id: string) {
    return this.tokens.get(id);
  }

  create(options: {
    idempotencyKey?: string;
    idempotencyKeyExpiresAt?: Date;
    timeoutAt?: Date;
    tags: string[];
    baseURL: string;
  }): { token: WaitpointToken; isCached: boolean } {
    if (options.idempotencyKey) {
      const cached = this.tokens.get(this.idempotency.get(options.idempotencyKey) ?? "");
      const expired = cached?.idempotencyKeyExpiresAt && cached.idempotencyKeyExpiresAt.getTime() <= Date.now();
      if (cached && !expired) return { token: cached, isCached: true };
    }
    this.makeRoom();
    const token: WaitpointToken = {
      id: WaitpointId.generate().friendlyId,
      status: "WAITING",
      timeoutAt: options.timeoutAt,
      idempotencyKey: options.idempotencyKey,
      idempotencyKeyExpiresAt: options.idempotencyKeyExpiresAt,
      tags: options.tags,
      createdAt: new Date(),
      baseURL: options.baseURL,
    };
    this.tokens.set(token.id, token);
    if (options.idempotencyKey) this.idempotency.set(options.idempotencyKey, token.id);
    if (token.timeoutAt) this.armTimeout(token);
    return { token, isCached: false };
  }

  /** The URL a POST completes the token through, signed so that only its holder can. */
  callbackURL(token: WaitpointToken) {
    return `${token.baseURL}/api/v1/waitpoints/tokens/${token.id}/callback/${this.callbackHash(token.id)}`;
  }

  verifyCallback(id: string, hash: string) {
    const expected = Buffer.from(this.callbackHash(id), "hex");
    const given = Buffer.from(hash, "hex");
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  /** Completes a token with `data`; completing one that has completed or timed out changes nothing, as on Trigger.dev. */
  async complete(id: string, data: unknown): Promise<WaitpointToken | undefined> {
    const token = this.tokens.get(id);
    if (!token || token.status !== "WAITING") return token;
    const packet = await stringifyIO(data);
    // Serialising is asynchronous: a timeout or another completion may have landed meanwhile.
    if (token.status !== "WAITING") return token;
    this.settle(token, "COMPLETED", { output: packet.data, outputType: packet.dataType, outputIsError: false });
    return token;
  }

  /** Resolves when the token completes or times out; an unknown token is an error for the waiting run. */
  wait(id: string, runId: string): Promise<WaitpointResult> {
    const token = this.tokens.get(id);
    if (!token) return Promise.reject(new Error(`Waitpoint token "${id}" not found`));
    if (token.status !== "WAITING") return Promise.resolve(resultOf(token));
    return new Promise((resolve) => {
      const list = this.waiters.get(id) ?? [];
      list.push({ runId, resolve });
      this.waiters.set(id, list);
    });
  }

  /** A run that ended (canceled, crashed) waits no more; a token may outlive it by days. */
  forgetRun(runId: string) {
    for (const [id, list] of this.waiters) {
      const left = list.filter((waiter) => waiter.runId !== runId);
      if (left.length === 0) this.waiters.delete(id);
      else if (left.length !== list.length) this.waiters.set(id, left);
    }
  }

  close() {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  private callbackHash(id: string) {
    return createHmac("sha256", this.secretKey).update(id).digest("hex");
  }

  private armTimeout(token: WaitpointToken) {
    const remaining = token.timeoutAt!.getTime() - Date.now();
    if (remaining <= 0) {
      this.timeOut(token);
      return;
    }
    const timer = setTimeout(
      () => (remaining > MAX_TIMER_MS ? this.armTimeout(token) : this.timeOut(token)),
      Math.min(remaining, MAX_TIMER_MS),
    );
    timer.unref();
    this.timers.set(token.id, timer);
  }

  private timeOut(token: WaitpointToken) {
    if (token.status !== "WAITING") return;
    const output = JSON.stringify({
      message: `Waitpoint timed out at ${token.timeoutAt!.toISOString()}`,
      code: TIMEOUT_ERROR_CODE,
    });
    this.settle(token, "TIMED_OUT", { output, outputType: "application/json", outputIsError: true });
  }

  private settle(
    token: WaitpointToken,
    status: Exclude<TokenStatus, "WAITING">,
    result: Pick<WaitpointToken, "output" | "outputType" | "outputIsError">,
  ) {
    Object.assign(token, result, { status, completedAt: new Date() });
    clearTimeout(this.timers.get(token.id));
    this.timers.delete(token.id);
    for (const waiter of this.waiters.get(token.id) ?? []) waiter.resolve(resultOf(token));
    this.waiters.delete(token.id);
  }

  private makeRoom() {
    if (this.tokens.size < MAX_TOKENS) return;
    for (const [id, token] of this.tokens) {
      if (this.tokens.size < MAX_TOKENS) return;
      if (token.status === "WAITING") continue;
      this.tokens.delete(id);
      if (token.idempotencyKey && this.idempotency.get(token.idempotencyKey) === id)
        this.idempotency.delete(token.idempotencyKey);
    }
    if (this.tokens.size >= MAX_TOKENS) {
      throw new TooManyTokensError(`${MAX_TOKENS} waitpoint tokens are waiting; complete some before creating more`);
    }
  }
}

export class TooManyTokensError extends Error {}

/** What `wait.forToken` receives, as Trigger.dev's runtime hands back a completed waitpoint. */
const resultOf = (token: WaitpointToken): WaitpointResult => ({
  ok: !token.outputIsError,
  output: token.output,
  outputType: token.outputType,
});
