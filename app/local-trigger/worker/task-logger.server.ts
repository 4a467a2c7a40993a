import type { logger } from "@trigger.dev/core/v3";

type TaskLogger = Parameters<typeof logger.setGlobalTaskLogger>[0];
type Span = ReturnType<TaskLogger["startSpan"]>;
export type ForwardedLogLevel = "warn" | "error";

const MAX_LINE = 8_000;

/**
 * The SDK's `logger` is a no-op outside Trigger.dev's runtime. This one sends
 * the agent's warnings and errors (a model's failure, with the provider's raw
 * status and body) to the engine's log, where Trigger.dev would show them in
 * the run's logs. Lower levels stay silent, as before.
 */
export function forwardingTaskLogger(write: (level: ForwardedLogLevel, line: string) => void): TaskLogger {
  const forward = (level: ForwardedLogLevel) => (message: string, properties?: Record<string, unknown>) =>
    write(level, formatLine(message, properties));
  return {
    debug() {},
    log() {},
    info() {},
    warn: forward("warn"),
    error: forward("error"),
    // Like the SDK's own no-op logger: spans are Trigger.dev's tracing, which the engine does not collect.
    trace: (_name, fn) => fn({} as Span),
    startSpan: () => ({}) as Span,
  };
}

function formatLine(message: string, properties: Record<string, unknown> | undefined) {
  if (!properties || Object.keys(properties).length === 0) return message;
  const line = `${message} ${JSON.stringify(properties, (_key, value: unknown) =>
    value instanceof Error ? { name: value.name, message: value.message } : value,
  )}`;
  return line.length > MAX_LINE ? `${line.slice(0, MAX_LINE)}…` : line;
}
