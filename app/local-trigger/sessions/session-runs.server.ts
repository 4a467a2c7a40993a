import { randomUUID } from "node:crypto";
import { parseTranscriptBlob, serializeTranscriptSnapshot } from "@trigger.dev/core/v3";
import { HttpError, NO_RETRY } from "../http/errors.server";
import { OUT_CHANNEL_MAX_BYTES } from "../limits.server";
import type { Run, RunManager } from "../runs/run-manager.server";
import type { DataFolder } from "../storage/data-folder.server";
import { controlSubtype, type NewRecord, type RecordHeader, type StreamRecord } from "../storage/record-stream.server";
import type { SessionCall } from "../worker/protocol.server";
import type { Session, SessionStore } from "./session-store.server";

/** `.in` kinds that ask the agent for a turn; anything else (a stop) is handled by the live run if there is one. */
const TURN_STARTING_KINDS = new Set(["message", "handover"]);
/** A turn whose run ended before finishing it is continued in a new run this many times, then ended with an error. */
const CONTINUATIONS_PER_TURN = 1;
/** How long a crashed turn's continuation may wait for a slot; the client is waiting on `.out` meanwhile. */
const RECOVERY_WAIT_MS = 5 * 60 * 1000;
/** How often a turn that could not be ended (a full disk) is tried again. */
const END_TURN_RETRY_MS = 5_000;

export const CRASHED_TURN_MESSAGE = "The agent stopped unexpectedly while answering. Please try again.";
/** Shown for a run whose task failed on its last attempt; the cause is in the server's log, not sent to the browser. */
export const FAILED_RUN_MESSAGE = "The agent failed and could not answer. Please try again.";
export const BUSY_TURN_MESSAGE = "The server was too busy to finish this answer. Please try again in a moment.";

/** A run's channel read gets at most this many records at once, as an SSE batch does. */
const CHANNEL_READ_BATCH = 500;

const SESSION_IN_EVENT_ID = "session-in-event-id";
const SESSION_IN_CONSUMED_ID = "session-in-consumed-id";

/** A record for `.out`; a trim command carries the seq it trims to. */
export type OutRecord = NewRecord & { trimTo?: number };
/** S2's trim command record: the command in a header with an empty name. */
export const TRIM_COMMAND: NewRecord = { body: "", headers: [["", "trim"]] };

export const isTurnStarting = (kind: string) => TURN_STARTING_KINDS.has(kind);

export type SessionRunsOptions = {
  store: SessionStore;
  data: DataFolder;
  runs: RunManager;
  /** S2 applies trims 10–60 s late; a reload that replays from a turn start relies on that. */
  trimDelayMs: number;
  log: (message: string) => void;
};

/**
 * Sessions and the runs that serve them: which run a session has, starting a
 * continuation when its run has ended, what a turn owes, the calls a run
 * makes into the engine, and recovery when a run ends with a turn unfinished.
 * Trigger.dev retries a crashed run; here a continuation run takes over and
 * the SDK's recovery finishes the turn from the durable streams. A turn that
 * cannot be finished that way is ended on `.out` with an error, so no client
 * is ever left waiting.
 */
export class SessionRuns {
  private readonly store: SessionStore;
  private readonly runs: RunManager;
  /** Continuations of the turn under way, per session. */
  private readonly recoveries = new Map<string, number>();
  private closing = false;
  /** Delayed trims and retries; a closed engine must not touch the folder the next one owns. */
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Channel reads waiting for a record, per run, answered empty when the run ends. */
  private readonly waitingReads = new Map<string, Set<() => void>>();

  constructor(private readonly options: SessionRunsOptions) {
    this.store = options.store;
    this.runs = options.runs;
  }

  /** Runs' channel reads waiting for a record. */
  get waitingReadCount() {
    let count = 0;
    for (const reads of this.waitingReads.values()) count += reads.size;
    return count;
  }

  /** Called by the run manager when any run ends (from a worker's exit event, where a throw would end the process). */
  readonly onRunEnded = (run: Run) => {
    for (const release of this.waitingReads.get(run.id) ?? []) release();
    if (this.closing) return;
    try {
      this.afterRunEnded(run);
    } catch (error) {
      this.options.log(`could not follow up on the end of run ${run.id}: ${describeError(error)}`);
    }
  };

  private afterRunEnded(run: Run) {
    const session = this.store.resolve(run.sessionId);
    if (!session || session.currentRunId !== run.id || !this.store.isOpen(session) || !session.turnInProgress) return;
    if (run.status === "CANCELED") return;
    if (run.failure === "error") {
      // The task threw and its retries (if its config allows any) are spent: a new run would only fail the same way.
      this.options.log(`run ${run.id} failed for good; ending the turn of ${label(session)} with an error`);
      this.endTurnWithErrorSoon(session, FAILED_RUN_MESSAGE);
      return;
    }
    const attempts = (this.recoveries.get(session.friendlyId) ?? 0) + 1;
    if (attempts > CONTINUATIONS_PER_TURN) {
      this.options.log(`run ${run.id} ended mid-turn again; ending the turn of ${label(session)} with an error`);
      this.endTurnWithErrorSoon(session, CRASHED_TURN_MESSAGE);
      return;
    }
    this.recoveries.set(session.friendlyId, attempts);
    this.options.log(
      `run ${run.id} ${run.status === "FAILED" ? "crashed" : "ended"} with a turn unfinished; continuing ${label(session)} in a new run`,
    );
    this.continueTurn(session);
  }

  /** The run a new or resumed session starts with; it waits QUEUED when every slot is taken. */
  startFor(session: Session): Run {
    const current = this.runs.get(session.currentRunId);
    if (current && (current.status === "EXECUTING" || current.status === "QUEUED")) return current;
    return this.createRun(session);
  }

  /**
   * The session's executing run, starting one (a continuation once a run has
   * existed) when there is none, and waiting for a slot when every slot is
   * mid-turn. With `busy` the run holds its slot from then on, for the turn
   * the caller is about to hand it. Throws CapacityError after `waitMs`.
   */
  async ensureRunning(session: Session, options: { busy: boolean; waitMs?: number }): Promise<Run> {
    let run = this.runs.get(session.currentRunId);
    if (!run || (run.status !== "EXECUTING" && run.status !== "QUEUED")) run = this.createRun(session);
    await this.runs.execute(run, options);
    return run;
  }

  /** A turn-starting message reached `.in` at `seq`: the session owes a turn, and its run holds its slot until then. */
  noteTurnRequested(session: Session, run: Run, seq: number) {
    session.lastMessageSeq = seq;
    session.turnInProgress = true;
    this.runs.setBusy(run.id, true);
    // The message is stored and its run has it; only a restart before the answer would not know it was owed.
    this.persistBestEffort(session, "that a turn is owed");
  }

  /** The run asked to serve a turn could not be handed one after all. */
  releaseUnusedRun(run: Run) {
    const session = this.store.resolve(run.sessionId);
    if (!session?.turnInProgress) this.runs.setBusy(run.id, false);
  }

  serveEngineCall(run: Run, call: SessionCall) {
    const session = this.store.resolve(call.sessionId);
    // A run acts only on its own session.
    if (!session || session.friendlyId !== run.sessionId)
      throw new Error(`run ${run.id} may not use session ${call.sessionId}`);
    switch (call.op) {
      case "out-append":
        return this.appendOut(session, call.channel, call.records, run);
      case "out-trim":
        return this.appendOut(session, call.channel, [{ ...TRIM_COMMAND, trimTo: call.trimTo }], run);
      case "snapshot-write":
        this.options.data.writeSnapshot(session.friendlyId, call.blob);
        return null;
      case "snapshot-read":
        return this.options.data.readSnapshot(session.friendlyId) ?? null;
      case "channel-read":
        return this.readChannel(session, call, run);
    }
  }

  /**
   * A run's subscription to one of its session's channels (the agent's `.in`
   * tail), over the worker's port rather than loopback HTTP and SSE: the
   * records from `fromSeq` on, or the next ones appended. Bounded by the
   * caller's wait and by the run: a read still waiting when the run ends is
   * answered empty.
   */
  private readChannel(
    session: Session,
    call: Extract<SessionCall, { op: "channel-read" }>,
    run: Run,
  ): StreamRecord[] | Promise<StreamRecord[]> {
    const stream = this.store.stream(session, call.channel ? `channel:${call.channel}:${call.io}` : call.io);
    const available = stream.readFrom(call.fromSeq, CHANNEL_READ_BATCH);
    if (available.length > 0 || call.waitMs <= 0) return available;
    return new Promise((resolve, reject) => {
      const waiting = this.waitingReads.get(run.id) ?? new Set<() => void>();
      this.waitingReads.set(run.id, waiting);
      const settle = (outcome: () => void) => {
        unsubscribe();
        unsubscribeDeleted();
        clearTimeout(timer);
        waiting.delete(release);
        if (waiting.size === 0) this.waitingReads.delete(run.id);
        outcome();
      };
      const release = () => settle(() => resolve([]));
      const unsubscribe = stream.onAppend(() => {
        try {
          const records = stream.readFrom(call.fromSeq, CHANNEL_READ_BATCH);
          if (records.length > 0) settle(() => resolve(records));
        } catch (error) {
          // The log could not be read (a failing disk): the reader fails, and subscribes again.
          settle(() => reject(error));
        }
      });
      const unsubscribeDeleted = stream.onDeleted(release);
      const timer = setTimeout(release, call.waitMs);
      timer.unref();
      waiting.add(release);
    });
  }

  /**
   * Appends to a session's `.out` or a side channel's `.out`: for its run, or
   * for a backend writing through the S2 emulation (then the session's live
   * run, if any, is the one whose turn a turn-complete ends). A trim command
   * consumes a seq now and trims later, as in S2.
   */
  appendOut(session: Session, channel: string | undefined, records: OutRecord[], run = this.liveRun(session)) {
    const channelKey = channel ? `channel:${channel}:out` : "out";
    const stream = this.store.stream(session, channelKey);
    const bytes = records.reduce((sum, record) => sum + record.body.length, 0);
    if (stream.usage.bytes + bytes > OUT_CHANNEL_MAX_BYTES) {
      const error = `The session's output stream is over its ${OUT_CHANNEL_MAX_BYTES / 1024 / 1024} MiB limit`;
      throw new HttpError(413, { error, message: error, code: "quota_exhausted" }, NO_RETRY);
    }
    const stored = records.map(({ body, headers }) => ({ body, headers }));
    const result = stream.append(stored);
    if (!channel && run) this.noteOutput(session, run, stored);
    for (const { trimTo } of records) if (trimTo !== undefined) this.trimLater(session, channelKey, trimTo);
    return result;
  }

  private liveRun(session: Session) {
    const run = this.runs.get(session.currentRunId);
    return run && (run.status === "EXECUTING" || run.status === "QUEUED") ? run : undefined;
  }

  private trimLater(session: Session, channelKey: string, trimTo: number) {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (this.store.isPurged(session)) return;
      try {
        this.store.stream(session, channelKey).trim(trimTo);
      } catch (error) {
        // Records stay a while longer; the next turn's trim covers them.
        this.options.log(`could not trim ${channelKey} of ${label(session)}: ${describeError(error)}`);
      }
    }, this.options.trimDelayMs);
    timer.unref();
    this.timers.add(timer);
  }

  /** Hands the session to a fresh run (`chat.requestUpgrade`), unless another run already took over. */
  endAndContinue(session: Session, callingRunId: string): { runId: string; swapped: boolean } {
    const current = this.runs.get(session.currentRunId);
    if (session.currentRunId !== callingRunId && (current?.status === "EXECUTING" || current?.status === "QUEUED")) {
      return { runId: current.id, swapped: false };
    }
    const run = this.runs.create(session.friendlyId, session.taskIdentifier, runPayload(session, callingRunId));
    this.bindRun(session, run);
    return { runId: run.id, swapped: true };
  }

  /** The session was closed: its run ends, unless the run itself asked for the close. */
  onClosed(session: Session, callingRunId: string | undefined) {
    this.recoveries.delete(session.friendlyId);
    if (session.currentRunId !== callingRunId) this.runs.cancel(session.currentRunId, "session closed");
  }

  /**
   * Deletes the session's data for good, keeping its tombstone. Its run is
   * stopped first, so nothing it still sends can write the files back.
   */
  purge(session: Session, reason: string) {
    this.recoveries.delete(session.friendlyId);
    this.runs.cancel(session.currentRunId, "session deleted");
    this.store.purge(session, reason);
  }

  /** No run survives a restart: turns that were under way continue in new runs now, not when the user next writes. */
  recoverInterruptedTurns() {
    for (const session of this.store.all()) {
      if (!session.turnInProgress || !this.store.isOpen(session)) continue;
      this.options.log(`${label(session)} had a turn under way when the engine stopped; continuing it in a new run`);
      try {
        this.continueTurn(session);
      } catch (error) {
        this.options.log(`could not continue ${label(session)}: ${describeError(error)}`);
      }
    }
  }

  shutDown() {
    this.closing = true;
    for (const reads of this.waitingReads.values()) for (const release of reads) release();
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private createRun(session: Session): Run {
    const payload = runPayload(session, session.currentRunId ?? undefined);
    // A run booted with the user's message already owes that turn.
    const owesTurn =
      !payload.continuation &&
      payload.trigger !== undefined &&
      payload.trigger !== "preload" &&
      payload.trigger !== "handover-prepare";
    const run = this.runs.create(session.friendlyId, session.taskIdentifier, payload, { busy: owesTurn });
    if (owesTurn) session.turnInProgress = true;
    this.bindRun(session, run);
    return run;
  }

  private bindRun(session: Session, run: Run) {
    session.currentRunId = run.id;
    this.store.touch(session);
    // The run exists either way; a restart that lost this only starts a continuation of its own.
    this.persistBestEffort(session, "its new run");
  }

  private continueTurn(session: Session) {
    this.ensureRunning(session, { busy: true, waitMs: RECOVERY_WAIT_MS }).catch((error: unknown) => {
      if (this.closing || !this.store.isOpen(session)) return;
      this.options.log(`could not continue ${label(session)}: ${describeError(error)}`);
      this.endTurnWithErrorSoon(session, BUSY_TURN_MESSAGE);
    });
  }

  /**
   * Ends the turn with an error now, or, when that cannot be written (a full
   * disk), as soon as it can: the client is waiting on `.out` for it.
   */
  private endTurnWithErrorSoon(session: Session, message: string) {
    const attempt = (first: boolean) => {
      if (this.closing || !this.store.isOpen(session) || !session.turnInProgress) return;
      try {
        this.endTurnWithError(session, message);
        if (!first) this.options.log(`ended the turn of ${label(session)} with an error, now that it could be saved`);
      } catch (error) {
        if (first)
          this.options.log(
            `could not end the turn of ${label(session)} with an error (${describeError(error)}); retrying every ${END_TURN_RETRY_MS / 1000} s`,
          );
        const timer = setTimeout(() => {
          this.timers.delete(timer);
          attempt(false);
        }, END_TURN_RETRY_MS);
        timer.unref();
        this.timers.add(timer);
      }
    };
    attempt(true);
  }

  /**
   * What the agent's records say about the turn: a turn-complete ends it,
   * unless a message arrived that this turn did not consume (the agent's
   * `session-in-event-id` cursor says how far it got), which starts the next.
   */
  private noteOutput(session: Session, run: Run, records: { headers?: RecordHeader[] }[]) {
    const turnComplete = records.findLast((record) => controlSubtype(record) === "turn-complete");
    if (!turnComplete) return;
    const consumedThrough = Number(
      turnComplete.headers?.find(([name]) => name === SESSION_IN_EVENT_ID)?.[1] ?? Number.NaN,
    );
    const owed =
      session.lastMessageSeq !== undefined &&
      (Number.isFinite(consumedThrough) ? session.lastMessageSeq > consumedThrough : false);
    // A run that fails on a message writes a turn-complete that leaves it owed; that is no progress, so keep counting.
    if (!owed) this.recoveries.delete(session.friendlyId);
    this.runs.setBusy(run.id, owed);
    if (owed !== !!session.turnInProgress) {
      session.turnInProgress = owed;
      this.persistBestEffort(session, "that its turn ended");
    }
  }

  /** For bookkeeping saved after the record it describes is already durable: the caller must not see a failure. */
  private persistBestEffort(session: Session, what: string) {
    try {
      this.store.persist(session);
    } catch (error) {
      this.options.log(`could not save ${what} for ${label(session)}: ${describeError(error)}`);
    }
  }

  /**
   * Ends the turn the way an agent ends a failed one: an error chunk and a
   * turn-complete on `.out`, then the turn-complete save of the snapshot.
   * Both carry cursors past everything so far, so a later run neither
   * answers the failed message out of turn nor replays it at boot.
   */
  private endTurnWithError(session: Session, message: string) {
    const lastIn = this.store.stream(session, "in").tail.seq_num - 1;
    const headers: RecordHeader[] = [["trigger-control", "turn-complete"]];
    if (lastIn >= 0) headers.push([SESSION_IN_EVENT_ID, String(lastIn)], [SESSION_IN_CONSUMED_ID, String(lastIn)]);
    const records: NewRecord[] = [
      { body: JSON.stringify({ data: { type: "error", errorText: message }, id: randomUUID() }) },
      { body: "", headers },
    ];
    const { end } = this.store.stream(session, "out").append(records);
    const blob = this.options.data.readSnapshot(session.friendlyId);
    const snapshot = (blob === undefined ? undefined : parseTranscriptBlob(blob)) ?? {
      version: 2 as const,
      savedAt: 0,
      messages: [],
      state: null,
    };
    this.options.data.writeSnapshot(
      session.friendlyId,
      serializeTranscriptSnapshot({
        ...snapshot,
        savedAt: Date.now(),
        lastOutEventId: String(end - 1),
        ...(lastIn >= 0 ? { lastInEventId: String(lastIn) } : {}),
      }),
    );
    this.recoveries.delete(session.friendlyId);
    this.runs.setBusy(session.currentRunId, false);
    session.turnInProgress = false;
    this.store.persist(session);
  }
}

/** The payload a session's run boots with, as Trigger.dev builds it from the session's triggerConfig. */
function runPayload(session: Session, previousRunId: string | undefined) {
  const config = session.triggerConfig as { basePayload?: Record<string, unknown>; idleTimeoutInSeconds?: number };
  const payload: Record<string, unknown> = {
    ...(config.basePayload ?? {}),
    ...(config.idleTimeoutInSeconds !== undefined ? { idleTimeoutInSeconds: config.idleTimeoutInSeconds } : {}),
    sessionId: session.friendlyId,
  };
  if (previousRunId) {
    // A continuation reads its pending message from `.in` and its history from the snapshot.
    delete payload.message;
    delete payload.messages;
    delete payload.trigger;
    Object.assign(payload, { continuation: true, previousRunId });
  }
  return payload;
}

const label = (session: Session) => session.externalId ?? session.friendlyId;

const describeError = (error: unknown) => (error instanceof Error ? error.message : String(error));
