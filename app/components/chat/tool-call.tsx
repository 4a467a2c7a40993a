import type { ChatUIMessage } from "../../../trigger/chat";

/** A tool call in an answer, in any of its states (AI SDK v6 tool UI parts). */
export type ToolPart = Extract<ChatUIMessage["parts"][number], { toolCallId: string }>;

export type ApprovalResponse = (approvalId: string, approved: boolean) => void;

const TOOL_LABELS: Record<string, string> = { currentTime: "Current time", calculate: "Calculator" };

const STATE_LABELS: Record<ToolPart["state"], string> = {
  "input-streaming": "Preparing…",
  "input-available": "Running…",
  "approval-requested": "Waiting for your approval",
  "approval-responded": "Answered",
  "output-available": "Done",
  "output-error": "Failed",
  "output-denied": "Denied",
};

export function toolNameOf(part: ToolPart): string {
  return part.type.slice("tool-".length);
}

/**
 * One tool call: what the agent asked for, what came back, and its state.
 * A call that waits for approval offers Approve and Deny while the chat can
 * act on it (`onApprovalResponse`); the answer goes on once one is chosen.
 */
export function ToolCall({ part, onApprovalResponse }: { part: ToolPart; onApprovalResponse?: ApprovalResponse }) {
  const name = toolNameOf(part);
  const label = TOOL_LABELS[name] ?? name;
  const state =
    part.state === "approval-responded"
      ? part.approval.approved
        ? "Approved, running…"
        : "Denied"
      : STATE_LABELS[part.state];
  const failed = part.state === "output-error" || part.state === "output-denied";
  return (
    <section
      aria-label={`Tool call: ${label}`}
      data-testid="tool-call"
      data-tool={name}
      data-state={part.state}
      className="my-3 rounded-xl border border-zinc-200 bg-zinc-50 px-4 py-3 text-sm dark:border-zinc-800 dark:bg-zinc-900"
    >
      <div className="flex flex-wrap items-center justify-between gap-2">
        <span className="font-medium text-zinc-900 dark:text-zinc-100">{label}</span>
        <span
          data-testid="tool-state"
          className={`rounded-full px-2 py-0.5 text-xs font-medium ${
            failed
              ? "bg-red-100 text-red-800 dark:bg-red-400/15 dark:text-red-300"
              : part.state === "approval-requested"
                ? "bg-amber-100 text-amber-900 dark:bg-amber-400/15 dark:text-amber-200"
                : "bg-zinc-200 text-zinc-800 dark:bg-zinc-800 dark:text-zinc-200"
          }`}
        >
          {state}
        </span>
      </div>
      <dl className="mt-2 grid grid-cols-[auto_1fr] gap-x-3 gap-y-1">
        {part.input !== undefined && (
          <>
            <dt className="text-zinc-600 dark:text-zinc-400">Input</dt>
            <dd data-testid="tool-input" className="min-w-0 font-mono break-words text-zinc-900 dark:text-zinc-100">
              {describeInput(part.input)}
            </dd>
          </>
        )}
        {part.state === "output-available" && (
          <>
            <dt className="text-zinc-600 dark:text-zinc-400">Result</dt>
            <dd data-testid="tool-output" className="min-w-0 font-mono break-words text-zinc-900 dark:text-zinc-100">
              {describeOutput(name, part.output)}
            </dd>
          </>
        )}
        {part.state === "output-error" && (
          <>
            <dt className="text-zinc-600 dark:text-zinc-400">Error</dt>
            <dd data-testid="tool-error" className="min-w-0 break-words text-red-700 dark:text-red-400">
              {part.errorText}
            </dd>
          </>
        )}
      </dl>
      {part.state === "approval-requested" && onApprovalResponse && (
        <div className="mt-3 flex gap-2">
          <button
            type="button"
            onClick={() => onApprovalResponse(part.approval.id, true)}
            className="rounded-md bg-indigo-600 px-3 py-1.5 text-xs font-medium text-white hover:bg-indigo-500 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-500"
          >
            Approve
          </button>
          <button
            type="button"
            onClick={() => onApprovalResponse(part.approval.id, false)}
            className="rounded-md px-3 py-1.5 text-xs font-medium text-zinc-800 ring-1 ring-zinc-300 hover:bg-zinc-100 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-500 dark:text-zinc-100 dark:ring-zinc-700 dark:hover:bg-zinc-800"
          >
            Deny
          </button>
        </div>
      )}
    </section>
  );
}

/** The input as the agent sent it: one field's value alone, several as `name: value`. */
function describeInput(input: unknown): string {
  if (input === null || typeof input !== "object") return JSON.stringify(input) ?? "";
  const entries = Object.entries(input);
  if (entries.length === 1 && typeof entries[0]![1] === "string") return entries[0]![1];
  return entries
    .map(([key, value]) => `${key}: ${typeof value === "string" ? value : JSON.stringify(value)}`)
    .join(", ");
}

function describeOutput(name: string, output: unknown): string {
  const value = output as Record<string, unknown> | null;
  if (name === "currentTime" && value && typeof value.local === "string") {
    return `${value.local} (${String(value.utcOffset)})`;
  }
  if (name === "calculate" && value && typeof value.result === "string") return value.result;
  return typeof output === "string" ? output : (JSON.stringify(output) ?? "");
}
