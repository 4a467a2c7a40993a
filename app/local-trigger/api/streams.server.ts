import { safeValidateUIMessages } from "ai";
import { formatBytes, nestingDepth, parseJson, readBody } from "../http/body.server";
import { badRequest, HttpError, json, NO_RETRY, notFound, tooBusy } from "../http/errors.server";
import type { Route, RouteContext } from "../http/router.server";
import { type AwaitedStream, sseResponse } from "../http/sse.server";
import {
  BODY_LIMITS,
  CHANNEL_NAME,
  MAX_CHANNELS_PER_SESSION,
  MAX_JSON_DEPTH,
  MAX_PARTS_PER_MESSAGE,
} from "../limits.server";
import { CapacityError, type Run } from "../runs/run-manager.server";
import { isTurnStarting } from "../sessions/session-runs.server";
import { envelopeOf, type Session } from "../sessions/session-store.server";
import { isCommandRecord, type RecordStream } from "../storage/record-stream.server";
import { randomId } from "../storage/data-folder.server";
import type { EngineContext } from "./context.server";

const DEFAULT_WAIT_SECONDS = 60;
const STREAM = "^/realtime/v1/sessions/([^/]+)/(?:channels/([^/]+)/)?(in|out)";

type StreamAddress = { key: string; channel: string | undefined; io: "in" | "out"; channelKey: string };

function addressOf(params: string[]): StreamAddress {
  const [key, channel, io] = params as [string, string, "in" | "out"];
  if (channel && !CHANNEL_NAME.test(channel)) {
    throw badRequest("Channel names are 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit");
  }
  return { key, channel: channel || undefined, io, channelKey: channel ? `channel:${channel}:${io}` : io };
}

const streamOf = (address: StreamAddress) => ({ channel: address.channel, io: address.io });

const closedError = (session: Session, expired: boolean) =>
  new HttpError(
    409,
    {
      ok: false,
      error: expired && !session.closedAt ? "Session has expired" : "Cannot append to a closed session",
      code: "session_closed",
      closedReason: session.closedReason ?? (expired ? "expired" : null),
    },
    NO_RETRY,
  );

/** `/realtime/v1/sessions/:id[/channels/:name]/{in,out}`: append, the v2 SSE stream, records, and the writer handshake. */
export function streamRoutes(engine: EngineContext): Route[] {
  const { store, sessionRuns, auth } = engine;

  /** A session deleted while a request waited (for its body, for a run) is as unknown to it as to the next request. */
  function requireNotDeleted(session: Session, key: string) {
    if (store.isPurged(session)) throw notFound(`Session "${key}" not found`);
  }

  function requireOpen(session: Session, key: string) {
    requireNotDeleted(session, key);
    if (!store.isOpen(session)) throw closedError(session, store.isExpired(session));
  }

  const parsedOrText = (body: string): unknown => {
    try {
      return JSON.parse(body);
    } catch {
      return body;
    }
  };

  async function appendToStream({ request, params }: RouteContext) {
    const address = addressOf(params);
    if (address.io === "out" && (await auth.caller(request)).kind !== "secret-key") {
      throw new HttpError(403, { ok: false, error: "Appending to the out channel requires secret key authentication" });
    }
    const { session } = await auth.session(request, address.key, { kind: "write-stream", ...streamOf(address) });
    requireOpen(session, address.key);
    let body = await readBody(request, BODY_LIMITS.append);
    if (body === "") throw badRequest("Request body is empty");
    const isChatInput = address.channelKey === "in";
    let kind: string | undefined;
    if (isChatInput) {
      const chunk = parseJson(body) as { kind?: unknown; payload?: Record<string, unknown> } | null;
      if (typeof chunk !== "object" || chunk === null || typeof chunk.kind !== "string") {
        throw badRequest('Chat input must be a JSON object with a string "kind"');
      }
      kind = chunk.kind;
      if (nestingDepth(chunk) > MAX_JSON_DEPTH)
        throw badRequest(`Chat input is nested more than ${MAX_JSON_DEPTH} levels deep`);
      if (kind === "message") {
        const problem = await messagePayloadProblem(chunk.payload);
        if (problem) throw badRequest(`Invalid chat message: ${problem}`);
      }
      if (chunk.payload && typeof chunk.payload === "object" && "actionSource" in chunk.payload) {
        // Only the platform may claim webhook provenance for an action.
        delete chunk.payload.actionSource;
        body = JSON.stringify(chunk);
      }
    } else if (nestingDepth(parsedOrText(body)) > MAX_JSON_DEPTH) {
      // A side channel carries any text, but JSON nested this deep would break the agent that parses it.
      throw badRequest(`Request body is nested more than ${MAX_JSON_DEPTH} levels deep`);
    }
    const partIdHeader = request.headers.get("x-part-id");
    if (partIdHeader !== null && (partIdHeader.length === 0 || partIdHeader.length > 256)) {
      throw badRequest("X-Part-Id must be 1 to 256 characters");
    }
    requireNotDeleted(session, address.key);
    const seen = () => (partIdHeader ? store.recentPartIds(session, address.channelKey).get(partIdHeader) : undefined);
    const earlier = seen();
    if (earlier !== undefined) return json(200, { ok: true, seq: earlier });
    if (address.io === "in") checkQuota(session, address, body);

    // A message for a session whose run has ended (or never started) needs a run; when every slot is mid-turn it waits.
    let run: Run | undefined;
    if (isChatInput && kind !== undefined && isTurnStarting(kind)) {
      try {
        run = await sessionRuns.ensureRunning(session, { busy: true, waitMs: engine.settings.queueWaitMs });
      } catch (error) {
        if (error instanceof CapacityError) throw tooBusy(error.message, error.retryAfterSeconds);
        // Closed while the message waited for a run: the run it waited on was canceled with the session.
        requireOpen(session, address.key);
        throw error;
      }
    }
    try {
      // Things may have changed while waiting for a run.
      requireOpen(session, address.key);
      const duplicate = seen();
      if (duplicate !== undefined) {
        if (run) sessionRuns.releaseUnusedRun(run);
        return json(200, { ok: true, seq: duplicate });
      }
      const partId = partIdHeader ?? randomId(16);
      const { start } = store
        .stream(session, address.channelKey)
        .append([{ body: JSON.stringify({ data: body, id: partId }) }]);
      store.rememberPartId(session, address.channelKey, partId, start);
      if (run) sessionRuns.noteTurnRequested(session, run, start);
      return json(200, { ok: true, seq: start });
    } catch (error) {
      if (run) sessionRuns.releaseUnusedRun(run);
      throw error;
    }
  }

  function checkQuota(session: Session, address: StreamAddress, body: string) {
    const channels = address.channel ? store.channelNames(session) : undefined;
    if (channels && !channels.has(address.channel!) && channels.size >= MAX_CHANNELS_PER_SESSION) {
      throw new HttpError(
        413,
        { error: `This session already has ${MAX_CHANNELS_PER_SESSION} side channels, the most it may have` },
        NO_RETRY,
      );
    }
    const quota = address.channel ? engine.settings.inputQuotas.channel : engine.settings.inputQuotas.chat;
    const usage = store.stream(session, address.channelKey).usage;
    const what = address.channel ? `side channel "${address.channel}"` : "chat's input";
    if (usage.records + 1 > quota.records) {
      throw new HttpError(
        413,
        { error: `This ${what} has reached its limit of ${quota.records.toLocaleString("en-US")} records` },
        NO_RETRY,
      );
    }
    if (usage.bytes + Buffer.byteLength(body) > quota.bytes) {
      throw new HttpError(
        413,
        { error: `This ${what} has reached its limit of ${formatBytes(quota.bytes)}` },
        NO_RETRY,
      );
    }
  }

  async function subscribe({ request, params }: RouteContext) {
    const address = addressOf(params);
    const { session } = await auth.sessionOrChatId(request, address.key, { kind: "read-stream", ...streamOf(address) });
    const lastEventId = request.headers.get("last-event-id");
    if (lastEventId !== null && !/^\d{1,15}$/.test(lastEventId))
      throw badRequest("Last-Event-ID must be a sequence number");
    const timeoutHeader = request.headers.get("timeout-seconds");
    let waitSeconds = DEFAULT_WAIT_SECONDS;
    if (timeoutHeader !== null) {
      if (!/^-?\d+$/.test(timeoutHeader.trim())) throw badRequest("Timeout-Seconds must be an integer");
      waitSeconds = Number(timeoutHeader);
      if (waitSeconds < 1) throw badRequest("Timeout-Seconds must be greater than 0");
      if (waitSeconds > 600) throw badRequest("Timeout-Seconds must be at most 600");
    }
    const target = session ? store.stream(session, address.channelKey) : undefined;
    if (request.method === "HEAD") {
      const lastIndex = target ? Math.max(0, target.tail.seq_num - 1) : 0;
      return new Response(null, {
        status: 200,
        headers: { "X-Last-Chunk-Index": String(lastIndex), "X-Stream-Version": "v2" },
      });
    }
    return sseResponse(
      target ?? awaitSession(address),
      {
        fromSeq: lastEventId === null ? 0 : Number(lastEventId) + 1,
        waitSeconds,
        peekSettled: request.headers.get("x-peek-settled") === "1",
        pingIntervalMs: engine.settings.pingIntervalMs,
        signal: request.signal,
      },
      engine.liveStreams,
    );
  }

  /**
   * The channel of a chat id whose session does not exist yet, as upstream
   * serves it: the reader waits, within its Timeout-Seconds window, and gets
   * the records once the session is created. The number waiting is bounded.
   */
  function awaitSession(address: StreamAddress): AwaitedStream {
    let ready: ((open: () => RecordStream) => void) | undefined;
    let created: Session | undefined;
    const deliver = (session: Session) => ready?.(() => store.stream(session, address.channelKey));
    const stop = store.awaitCreation(address.key, (session) => {
      created = session;
      deliver(session);
    });
    if (!stop) {
      throw new HttpError(
        503,
        { error: "Too many readers are waiting for chats that do not exist yet; try again later" },
        { "Retry-After": "5" },
      );
    }
    return {
      wait(onReady) {
        ready = onReady;
        if (created) deliver(created);
        return stop;
      },
    };
  }

  async function readRecords({ request, url, params }: RouteContext) {
    const address = addressOf(params);
    const { session } = await auth.sessionOrChatId(request, address.key, { kind: "read-stream", ...streamOf(address) });
    const after = url.searchParams.get("afterEventId");
    if (after !== null && !/^\d{1,15}$/.test(after)) throw badRequest("afterEventId must be a sequence number");
    // As upstream: a chat id with no session yet has an empty channel.
    if (!session) return json(200, { records: [] });
    const records = store
      .stream(session, address.channelKey)
      .readFrom(after === null ? 0 : Number(after) + 1)
      .filter((record) => !isCommandRecord(record))
      .map((record) => {
        const envelope = envelopeOf(record.body);
        return {
          data: envelope?.data ?? "",
          id: typeof envelope?.id === "string" ? envelope.id : "",
          seqNum: record.seq_num,
          headers: record.headers,
        };
      });
    return json(200, { records });
  }

  async function initializeStream({ request, params }: RouteContext) {
    const address = addressOf(params);
    if (address.io === "out" && (await auth.caller(request)).kind !== "secret-key") {
      throw new HttpError(403, { error: "Initializing the out channel requires secret key authentication" });
    }
    const { session } = await auth.session(request, address.key, { kind: "write-stream", ...streamOf(address) });
    // `.out` is written through the S2 emulation; `.in` is written with appends, so it needs no credentials.
    return json(202, { version: "v2" }, address.io === "out" ? engine.s2.credentialsFor(session, address.channel) : {});
  }

  return [
    { method: "POST", pattern: new RegExp(`${STREAM}/append$`), handler: appendToStream },
    { method: "GET", pattern: new RegExp(`${STREAM}/records$`), handler: readRecords },
    { method: "GET", pattern: new RegExp(`${STREAM}$`), handler: subscribe },
    { method: "HEAD", pattern: new RegExp(`${STREAM}$`), handler: subscribe },
    { method: "PUT", pattern: new RegExp(`${STREAM}$`), handler: initializeStream },
  ];
}

const TOOL_STATES = new Set([
  "input-streaming",
  "input-available",
  "approval-requested",
  "approval-responded",
  "output-available",
  "output-error",
  "output-denied",
]);
const isToolPart = (part: { type: string }) => part.type.startsWith("tool-") || part.type === "dynamic-tool";

/**
 * The shape the SDK's transport sends for a `message` input: a payload with
 * the new message (or messages), each with an id, a role and typed parts.
 * Parts are checked against the AI SDK's UIMessage schema, except tool parts:
 * the transport slims those to their call id and new state (the agent
 * rebuilds the rest), so only that much is checked. A malformed message would
 * fail every later turn of the chat once the agent has stored it, so it is
 * refused here instead.
 */
async function messagePayloadProblem(payload: unknown): Promise<string | undefined> {
  if (typeof payload !== "object" || payload === null || Array.isArray(payload)) return "payload must be an object";
  const { message, messages, chatId } = payload as Record<string, unknown>;
  if (chatId !== undefined && typeof chatId !== "string") return "payload.chatId must be a string";
  if (messages !== undefined && !Array.isArray(messages)) return "payload.messages must be a list";
  const all = [
    ...(message === undefined ? [] : [["payload.message", message] as const]),
    ...((messages as unknown[] | undefined) ?? []).map((m, i) => [`payload.messages[${i}]`, m] as const),
  ];
  for (const [where, candidate] of all) {
    const problem = await messageProblem(where, candidate);
    if (problem) return problem;
  }
  return undefined;
}

async function messageProblem(where: string, candidate: unknown): Promise<string | undefined> {
  if (typeof candidate !== "object" || candidate === null) return `${where} must be an object`;
  const { id, role, parts } = candidate as Record<string, unknown>;
  if (typeof id !== "string" || id === "") return `${where}.id must be a non-empty string`;
  if (role !== "user" && role !== "assistant" && role !== "system")
    return `${where}.role must be "user", "assistant" or "system"`;
  if (!Array.isArray(parts) || parts.length === 0) return `${where}.parts must be a list of at least one part`;
  if (parts.length > MAX_PARTS_PER_MESSAGE)
    return `${where} has ${parts.length} parts; at most ${MAX_PARTS_PER_MESSAGE} are allowed`;
  const badPart = parts.findIndex(
    (part) => typeof part !== "object" || part === null || typeof (part as { type?: unknown }).type !== "string",
  );
  if (badPart !== -1) return `${where}.parts[${badPart}] must be an object with a string "type"`;
  const typed = parts as ({ type: string } & Record<string, unknown>)[];
  for (const [index, part] of typed.entries()) {
    if (!isToolPart(part)) continue;
    const valid =
      typeof part.toolCallId === "string" &&
      part.toolCallId !== "" &&
      TOOL_STATES.has(part.state as string) &&
      (part.type !== "dynamic-tool" || typeof part.toolName === "string");
    if (!valid)
      return `${where}.parts[${index}] is not a valid "${part.type}" part (it needs a toolCallId, a known state, and a toolName when dynamic)`;
  }
  const others = typed.flatMap((part, index) => (isToolPart(part) ? [] : [{ part, index }]));
  if (others.length === 0) return undefined;
  const result = await safeValidateUIMessages({ messages: [{ ...candidate, parts: others.map(({ part }) => part) }] });
  if (result.success) return undefined;
  const issue = (result.error.cause as { issues?: { path: PropertyKey[]; message: string }[] } | undefined)
    ?.issues?.[0];
  // The path starts at the message's index in the list that was validated; part indices are into `others`.
  const path = issue?.path.slice(1) ?? [];
  if (path[0] === "parts" && typeof path[1] === "number") {
    const original = others[path[1]];
    return `${where}.parts[${original?.index}] is not a valid "${original?.part.type}" part`;
  }
  return `${where}${path.map((key) => (typeof key === "number" ? `[${key}]` : `.${String(key)}`)).join("")}: ${issue?.message ?? "not a valid message"}`;
}
