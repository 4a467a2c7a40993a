import {
  CompleteWaitpointTokenRequestBody,
  CreateWaitpointTokenRequestBody,
  WaitForDurationRequestBody,
} from "@trigger.dev/core/v3";
import { parseNaturalLanguageDurationInMs, WaitpointId } from "@trigger.dev/core/v3/isomorphic";
import { generateJWT } from "@trigger.dev/core/v3/jwt";
import { parseJson, readBody, readJson } from "../http/body.server";
import { badRequest, forbidden, HttpError, json, NO_RETRY } from "../http/errors.server";
import type { Route, RouteContext } from "../http/router.server";
import { BODY_LIMITS, MAX_JSON_DEPTH } from "../limits.server";
import { TooManyTokensError, type WaitpointToken } from "../runs/waitpoints.server";
import { nestingDepth } from "../http/body.server";
import { can } from "./auth.server";
import { ENVIRONMENT_ID, type EngineContext } from "./context.server";

const ID = "([^/]+)";

/**
 * Waitpoint tokens: created with the secret key (inside a run or from a
 * backend), completed with the secret key, with the token's own public token
 * (`write:waitpoints:<id>`), or by a POST to its signed callback URL. The
 * waits themselves (`wait.forToken`, `wait.for`) are served to runs over
 * their worker's port; the `/engine/v1` routes answer the SDK's HTTP half.
 */
export function waitpointRoutes(engine: EngineContext): Route[] {
  const { waitpoints, auth } = engine;

  function serialize(token: WaitpointToken) {
    return {
      id: token.id,
      url: waitpoints.callbackURL(token),
      status: token.status,
      completedAt: token.completedAt,
      timeoutAt: token.timeoutAt,
      idempotencyKey: token.idempotencyKey,
      idempotencyKeyExpiresAt: token.idempotencyKeyExpiresAt,
      tags: token.tags,
      createdAt: token.createdAt,
    };
  }

  async function createToken({ request, url, basePath }: RouteContext) {
    await auth.requireSecretKey(request);
    const body = await readJson(request, CreateWaitpointTokenRequestBody, BODY_LIMITS.createToken);
    const ttlMs =
      body.idempotencyKeyTTL === undefined ? undefined : parseNaturalLanguageDurationInMs(body.idempotencyKeyTTL);
    if (body.idempotencyKeyTTL !== undefined && ttlMs === undefined) {
      throw badRequest(`Invalid idempotencyKeyTTL "${body.idempotencyKeyTTL}": use a duration like "10m" or "1d"`);
    }
    let created: ReturnType<typeof waitpoints.create>;
    try {
      created = waitpoints.create({
        idempotencyKey: body.idempotencyKey,
        idempotencyKeyExpiresAt: ttlMs === undefined ? undefined : new Date(Date.now() + ttlMs),
        timeoutAt: body.timeout === undefined ? undefined : timeoutDate(body.timeout),
        tags: body.tags === undefined ? [] : typeof body.tags === "string" ? [body.tags] : body.tags,
        baseURL: `${url.origin}${basePath}`,
      });
    } catch (error) {
      if (error instanceof TooManyTokensError)
        throw new HttpError(429, { error: error.message }, { "Retry-After": "60" });
      throw error;
    }
    const { token, isCached } = created;
    const claims = { sub: ENVIRONMENT_ID, pub: true, scopes: [`write:waitpoints:${token.id}`] };
    const jwt = await generateJWT({ secretKey: engine.secretKey, payload: claims, expirationTime: "24h" });
    return json(
      200,
      { id: token.id, isCached, url: waitpoints.callbackURL(token) },
      { "x-trigger-jwt-claims": JSON.stringify(claims), "x-trigger-jwt": jwt },
    );
  }

  async function retrieveToken({ request, params }: RouteContext) {
    const caller = await auth.caller(request);
    if (!can(caller, "read", [{ type: "waitpoints", id: params[0] }])) throw forbidden();
    const token = waitpoints.get(params[0]!);
    if (!token) throw notFound();
    return json(200, {
      ...serialize(token),
      output: token.output,
      outputType: token.outputType,
      outputIsError: token.outputIsError,
    });
  }

  async function completeToken({ request, params }: RouteContext) {
    const caller = await auth.caller(request);
    if (!can(caller, "write", [{ type: "waitpoints", id: params[0] }])) throw forbidden();
    const body = await readJson(request, CompleteWaitpointTokenRequestBody, BODY_LIMITS.completeToken);
    if (!(await waitpoints.complete(params[0]!, body.data))) throw notFound();
    return json(200, { success: true });
  }

  /** The token's `url`: the signature in the path is the credential, and the whole JSON body is the output. */
  async function callback({ request, params }: RouteContext) {
    const [id, hash] = params as [string, string];
    // The signature first, so an unsigned request learns nothing about which tokens exist.
    if (!waitpoints.verifyCallback(id, hash)) throw new HttpError(401, { error: "Invalid callback URL" }, NO_RETRY);
    if (!waitpoints.get(id)) throw notFound();
    const text = await readBody(request, BODY_LIMITS.completeToken);
    const data = text.trim() === "" ? {} : parseJson(text);
    if (nestingDepth(data) > MAX_JSON_DEPTH)
      throw badRequest(`Request body is nested more than ${MAX_JSON_DEPTH} levels deep`);
    await waitpoints.complete(id, data);
    return json(200, { success: true });
  }

  /** `wait.forToken` first asks the server to block the run on the token; inside a worker the SDK's test hook answers instead. */
  async function waitForToken({ request, params }: RouteContext) {
    await auth.requireSecretKey(request);
    const [runId, tokenId] = params as [string, string];
    if (!engine.taskRuns.get(runId) && !engine.runs.get(runId))
      throw new HttpError(404, { error: `Run "${runId}" not found` });
    if (!waitpoints.get(tokenId)) throw notFound();
    return json(200, { success: true });
  }

  /** `wait.for` / `wait.until` past a few seconds: the run waits its timer out in its thread. */
  async function waitForDuration({ request, params }: RouteContext) {
    await auth.requireSecretKey(request);
    const body = await readJson(request, WaitForDurationRequestBody, BODY_LIMITS.waitFor);
    if (!engine.taskRuns.get(params[0]!) && !engine.runs.get(params[0]!)) {
      throw new HttpError(404, { error: `Run "${params[0]}" not found` });
    }
    return json(200, { waitUntil: body.date, waitpoint: { id: WaitpointId.generate().friendlyId } });
  }

  return [
    { method: "POST", pattern: /^\/api\/v1\/waitpoints\/tokens$/, handler: createToken },
    { method: "GET", pattern: new RegExp(`^/api/v1/waitpoints/tokens/${ID}$`), handler: retrieveToken },
    { method: "POST", pattern: new RegExp(`^/api/v1/waitpoints/tokens/${ID}/complete$`), handler: completeToken },
    { method: "POST", pattern: new RegExp(`^/api/v1/waitpoints/tokens/${ID}/callback/${ID}$`), handler: callback },
    {
      method: "POST",
      pattern: new RegExp(`^/engine/v1/runs/${ID}/waitpoints/tokens/${ID}/wait$`),
      handler: waitForToken,
    },
    { method: "POST", pattern: new RegExp(`^/engine/v1/runs/${ID}/wait/duration$`), handler: waitForDuration },
  ];
}

const notFound = () => new HttpError(404, { error: "Waitpoint not found" });

/** A token's timeout: a duration from now ("10m", "1h30m", "2d"), or a date. */
function timeoutDate(timeout: string | Date): Date {
  if (timeout instanceof Date) return timeout;
  const ms = parseNaturalLanguageDurationInMs(timeout);
  if (ms !== undefined) return new Date(Date.now() + ms);
  const date = Date.parse(timeout);
  if (Number.isNaN(date))
    throw badRequest(`Invalid timeout "${timeout}": use a duration like "10m" or "1d", or a date`);
  return new Date(date);
}
