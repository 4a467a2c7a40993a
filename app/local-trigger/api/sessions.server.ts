import {
  CloseSessionRequestBody,
  CreateSessionRequestBody,
  EndAndContinueSessionRequestBody,
  ListSessionsQueryParams,
  UpdateSessionRequestBody,
} from "@trigger.dev/core/v3";
import parseDuration from "parse-duration";
import { readJson } from "../http/body.server";
import { badRequest, forbidden, HttpError, json, NO_RETRY, notFound } from "../http/errors.server";
import type { Route, RouteContext } from "../http/router.server";
import { BODY_LIMITS } from "../limits.server";
import type { Session } from "../sessions/session-store.server";
import { randomId } from "../storage/data-folder.server";
import type { RecordHeader } from "../storage/record-stream.server";
import { can, mintSessionToken } from "./auth.server";
import { ENVIRONMENT_ID, type EngineContext } from "./context.server";

const SESSION = "([^/]+)";

/** `/api/v1/sessions`: create (idempotent on the external id), list, retrieve, update, close, end-and-continue. */
export function sessionRoutes(engine: EngineContext): Route[] {
  const { store, sessionRuns, auth } = engine;

  function serialize(session: Session) {
    return {
      id: session.friendlyId,
      externalId: session.externalId,
      type: session.type,
      taskIdentifier: session.taskIdentifier,
      triggerConfig: session.triggerConfig,
      currentRunId: session.currentRunId,
      tags: session.tags,
      metadata: session.metadata,
      closedAt: session.closedAt,
      closedReason: session.closedReason,
      expiresAt: session.expiresAt,
      createdAt: session.createdAt,
      updatedAt: session.updatedAt,
    };
  }

  async function createSession({ request }: RouteContext) {
    const caller = await auth.caller(request);
    const body = await readJson(request, CreateSessionRequestBody, BODY_LIMITS.createSession);
    if (!can(caller, "write", [{ type: "tasks", id: body.taskIdentifier }, { type: "sessions" }])) throw forbidden();
    const taskIds = await engine.pool.taskIds.catch((error: Error) => {
      throw new HttpError(500, { error: error.message });
    });
    if (!taskIds.includes(body.taskIdentifier)) {
      throw new HttpError(
        422,
        {
          error: `Task "${body.taskIdentifier}" is not defined in this project (known tasks: ${taskIds.join(", ") || "none"})`,
        },
        NO_RETRY,
      );
    }

    const existing = body.externalId ? store.resolve(body.externalId) : undefined;
    const now = new Date().toISOString();
    let session: Session;
    if (existing) {
      if (!store.isOpen(existing)) {
        throw new HttpError(
          409,
          {
            error: `Session "${body.externalId}" is ${existing.closedAt ? "closed" : "expired"}; use a different externalId to start a new one`,
          },
          NO_RETRY,
        );
      }
      session = existing;
      store.change(session, {
        triggerConfig: body.triggerConfig as Record<string, unknown>,
        ...(body.tags ? { tags: body.tags } : {}),
        ...(body.metadata ? { metadata: body.metadata } : {}),
        ...(body.expiresAt ? { expiresAt: body.expiresAt.toISOString() } : {}),
      });
    } else {
      session = store.create({
        friendlyId: `session_${randomId()}`,
        externalId: body.externalId ?? null,
        type: body.type,
        taskIdentifier: body.taskIdentifier,
        triggerConfig: body.triggerConfig as Record<string, unknown>,
        tags: body.tags ?? [],
        metadata: body.metadata ?? null,
        closedAt: null,
        closedReason: null,
        expiresAt: body.expiresAt?.toISOString() ?? null,
        createdAt: now,
        updatedAt: now,
        currentRunId: null,
        trims: {},
      });
    }
    // Starts at once when a slot is free; otherwise it waits QUEUED, as a run does in Trigger.dev's queue.
    const run = sessionRuns.startFor(session);
    const publicAccessToken = await mintSessionToken({
      secretKey: engine.secretKey,
      environmentId: ENVIRONMENT_ID,
      sessionKey: session.externalId ?? session.friendlyId,
      expirationTime: engine.settings.sessionTokenTTL,
    });
    return json(existing ? 200 : 201, {
      ...serialize(session),
      runId: run.id,
      publicAccessToken,
      isCached: !!existing,
    });
  }

  async function listSessions({ request, url }: RouteContext) {
    await auth.requireSecretKey(request);
    const query: Record<string, string> = {};
    for (const [key, value] of url.searchParams) query[key] = value;
    const parsed = ListSessionsQueryParams.safeParse(query);
    if (!parsed.success)
      throw badRequest(
        `Invalid query: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`,
      );
    const q = parsed.data;
    const list = (value: string | string[] | undefined) =>
      value === undefined ? undefined : (Array.isArray(value) ? value : value.split(",")).filter(Boolean);
    const types = list(q["filter[type]"]);
    const tags = list(q["filter[tags]"]);
    const tasks = list(q["filter[taskIdentifier]"]);
    const statuses = list(q["filter[status]"]);
    const period = q["filter[createdAt][period]"];
    let periodMs: number | undefined;
    if (period !== undefined) {
      // Upstream reads the period with parse-duration ("1h", "7d", "90m", "1h30m") and counts back from now.
      // It ignores one it cannot read; here that is a 400, so a typo does not silently list everything.
      periodMs = parseDuration(period) ?? Number.NaN;
      if (!(periodMs > 0))
        throw badRequest(`Invalid filter[createdAt][period] "${period}": use a duration like 1h or 7d`);
    }
    const periodStart = periodMs === undefined ? undefined : Date.now() - periodMs;
    const from = q["filter[createdAt][from]"];
    const to = q["filter[createdAt][to]"];
    const status = (session: Session) =>
      session.closedAt ? "CLOSED" : store.isExpired(session) ? "EXPIRED" : "ACTIVE";

    // Positions in the whole list, so a cursor whose session has since left the filter (closed, deleted)
    // still marks its place: Trigger.dev pages by id order, not by membership of the filtered set.
    const all = store.newestFirst();
    const matching = all.flatMap((session, position) =>
      (!types || types.includes(session.type)) &&
      (!tags || tags.some((tag) => session.tags.includes(tag))) &&
      (!tasks || tasks.includes(session.taskIdentifier)) &&
      (!q["filter[externalId]"] || session.externalId === q["filter[externalId]"]) &&
      (!statuses || statuses.includes(status(session))) &&
      (periodStart === undefined || Date.parse(session.createdAt) >= periodStart) &&
      (from === undefined || Date.parse(session.createdAt) >= from) &&
      (to === undefined || Date.parse(session.createdAt) <= to)
        ? [{ session, position }]
        : [],
    );
    const cursorPosition = (cursor: string) => {
      const position = all.findIndex((s) => s.friendlyId === cursor);
      if (position === -1) throw badRequest(`Unknown page cursor "${cursor}"`);
      return position;
    };
    /** Index in `matching` of the first session past `position`, or its length. */
    const firstAfter = (position: number) => {
      const index = matching.findIndex((match) => match.position > position);
      return index === -1 ? matching.length : index;
    };
    const size = q["page[size]"];
    let start = 0;
    let end = matching.length;
    if (q["page[after]"]) {
      start = firstAfter(cursorPosition(q["page[after]"]));
      end = Math.min(matching.length, start + size);
    } else if (q["page[before]"]) {
      end = firstAfter(cursorPosition(q["page[before]"]) - 1);
      start = Math.max(0, end - size);
    } else {
      end = Math.min(matching.length, size);
    }
    const page = matching.slice(start, end).map((match) => match.session);
    return json(200, {
      data: page.map(serialize),
      pagination: {
        ...(end < matching.length && page.length > 0 ? { next: page.at(-1)!.friendlyId } : {}),
        ...(start > 0 && page.length > 0 ? { previous: page[0]!.friendlyId } : {}),
      },
    });
  }

  async function retrieveSession({ request, params }: RouteContext) {
    const { session } = await auth.session(request, params[0]!, { kind: "retrieve" }, { secretKeySeesDeleted: true });
    return json(200, serialize(session));
  }

  async function updateSession({ request, params }: RouteContext) {
    const { caller, session } = await auth.session(
      request,
      params[0]!,
      { kind: "manage" },
      { secretKeySeesDeleted: true },
    );
    const body = await readJson(request, UpdateSessionRequestBody, BODY_LIMITS.updateSession);
    // The reference lets a session token update metadata; tags and the external id stay with the secret key.
    if (caller.kind !== "secret-key" && (body.tags !== undefined || body.externalId !== undefined)) {
      throw new HttpError(403, { error: "Changing a session's tags or externalId requires secret key authentication" });
    }
    // Checked after the body is read, as it may have been deleted meanwhile. Its tombstone keeps its id taken, so it never changes.
    if (store.isPurged(session)) throw new HttpError(409, { error: `Session "${params[0]}" was deleted` }, NO_RETRY);
    // As upstream: the external id is the session's addressing key (its streams, its tokens' scope), so re-keying
    // would orphan them. Sending the same value stays idempotent.
    if (body.externalId !== undefined && body.externalId !== session.externalId) {
      throw new HttpError(
        422,
        {
          error:
            "externalId cannot be changed after creation; close this session and create a new one with the desired externalId",
        },
        NO_RETRY,
      );
    }
    store.change(session, {
      ...(body.tags ? { tags: body.tags } : {}),
      ...(body.metadata !== undefined ? { metadata: body.metadata } : {}),
    });
    return json(200, serialize(session));
  }

  async function closeSession({ request, params }: RouteContext) {
    const { session } = await auth.session(request, params[0]!, { kind: "manage" }, { secretKeySeesDeleted: true });
    const body = await readJson(request, CloseSessionRequestBody, BODY_LIMITS.closeSession);
    if (!session.closedAt) {
      store.change(session, {
        closedAt: new Date().toISOString(),
        closedReason: body.reason ?? null,
        turnInProgress: false,
      });
      // Live readers (the 4.8.3 transport) learn of the close from this control record.
      const headers: RecordHeader[] = [["trigger-control", "session-closed"]];
      if (session.closedReason) headers.push(["session-closed-reason", session.closedReason]);
      store.stream(session, "out").append([{ body: "", headers }]);
      sessionRuns.onClosed(session, body.callingRunId);
    }
    return json(200, serialize(session));
  }

  async function endAndContinue({ request, params }: RouteContext) {
    const { session } = await auth.session(request, params[0]!, { kind: "manage" }, { secretKeySeesDeleted: true });
    const body = await readJson(request, EndAndContinueSessionRequestBody, BODY_LIMITS.endAndContinue);
    // Upstream's answers: its own 400 for a closed or expired session, and 404 for a run it does not know.
    if (session.closedAt) throw new HttpError(400, { error: "Cannot end-and-continue a closed session" }, NO_RETRY);
    if (store.isExpired(session)) {
      throw new HttpError(400, { error: "Cannot end-and-continue an expired session" }, NO_RETRY);
    }
    if (!engine.runs.get(body.callingRunId)) throw notFound("callingRunId not found in this environment");
    return json(200, sessionRuns.endAndContinue(session, body.callingRunId));
  }

  return [
    { method: "POST", pattern: /^\/api\/v1\/sessions$/, handler: createSession },
    { method: "GET", pattern: /^\/api\/v1\/sessions$/, handler: listSessions },
    { method: "GET", pattern: new RegExp(`^/api/v1/sessions/${SESSION}$`), handler: retrieveSession },
    { method: "PATCH", pattern: new RegExp(`^/api/v1/sessions/${SESSION}$`), handler: updateSession },
    { method: "POST", pattern: new RegExp(`^/api/v1/sessions/${SESSION}/close$`), handler: closeSession },
    { method: "POST", pattern: new RegExp(`^/api/v1/sessions/${SESSION}/end-and-continue$`), handler: endAndContinue },
  ];
}
