import { AsyncLocalStorage } from "node:async_hooks";
import { randomUUID } from "node:crypto";
import pino, { type Logger } from "pino";
import { getServerEnv } from "./env.server";

type RequestScope = { requestId: string };

// On globalThis because the production server (its own bundle) starts the scope and
// the app's bundle logs inside it: both must use the very same store.
const shared = globalThis as typeof globalThis & { __chatRequestScope?: AsyncLocalStorage<RequestScope> };
const requestScope = (shared.__chatRequestScope ??= new AsyncLocalStorage<RequestScope>());

/** An incoming X-Request-Id is kept only when it is short and plain, so it cannot forge or flood a log line. */
const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

export const REQUEST_ID_HEADER = "X-Request-Id";

/** The caller's request id when it is sane (a proxy's, say), otherwise a new one. */
export function requestIdFrom(incoming: string | null | undefined): string {
  return incoming && SANE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
}

/** Runs `work` as part of one request: every line logged inside it, however deep, carries the id. */
export function withRequestId<T>(requestId: string, work: () => T): T {
  return requestScope.run({ requestId }, work);
}

/** The id of the request being handled here, if any. */
export function currentRequestId(): string | undefined {
  return requestScope.getStore()?.requestId;
}

const writeToStdout = (line: string) => void process.stdout.write(line);
let write = writeToStdout;
let root: Logger | undefined;

function rootLogger(): Logger {
  root ??= pino(
    {
      level: getServerEnv().LOG_LEVEL,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      mixin: () => {
        const requestId = currentRequestId();
        return requestId ? { requestId } : {};
      },
    },
    // A plain stream, looked up per line, so tests can read the lines; writes to a pipe are synchronous on Linux.
    { write: (line: string) => write(line) },
  );
  return root;
}

/** The JSON logger, its lines marked with the part of the server that wrote them. */
export function logger(component: string): Logger {
  return rootLogger().child({ component });
}

/**
 * For tests: every line logged from now on (at `level` and above) is parsed
 * into the returned array instead of printed. Call `stop` to restore.
 */
export function captureLogs(level: pino.LevelWithSilent = "debug") {
  const lines: Array<Record<string, unknown> & { raw: string }> = [];
  const logger = rootLogger();
  const previousLevel = logger.level;
  logger.level = level;
  write = (line) => void lines.push({ ...JSON.parse(line), raw: line });
  return {
    lines,
    stop() {
      write = writeToStdout;
      logger.level = previousLevel;
    },
  };
}
