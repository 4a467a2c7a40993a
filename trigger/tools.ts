import { tool, type InferUITools } from "ai";
import { z } from "zod";

/** Longest expression the calculator takes: a question, not a program. */
export const EXPRESSION_MAX_LENGTH = 200;

/** What `currentTime` returns: the moment, and how a clock in that zone shows it. */
export type CurrentTimeOutput = {
  timeZone: string;
  /** The instant, in UTC. */
  iso: string;
  /** The wall-clock date and time in the zone, in words (e.g. "Thursday, 3 December 2026 at 22:31"). */
  local: string;
  /** The zone's offset from UTC at that instant, e.g. "GMT+9". */
  utcOffset: string;
};

export type CalculateOutput = { expression: string; result: string };

/** A tool's refusal of its input, worded for the user: the page shows it as the tool's error. */
export class ToolInputError extends Error {
  override readonly name = "ToolInputError";
}

/**
 * The current date and time in an IANA time zone, from the runtime's own
 * time zone data (Intl): no network. `now` is injectable for tests.
 */
export function currentTimeIn(timeZone: string, now: Date = new Date()): CurrentTimeOutput {
  let local: string;
  let utcOffset: string;
  try {
    local = new Intl.DateTimeFormat("en-GB", { timeZone, dateStyle: "full", timeStyle: "short" }).format(now);
    utcOffset =
      new Intl.DateTimeFormat("en-GB", { timeZone, timeZoneName: "shortOffset" })
        .formatToParts(now)
        .find((part) => part.type === "timeZoneName")?.value ?? "GMT";
  } catch {
    throw new ToolInputError(
      `"${timeZone}" is not a time zone. Use an IANA name such as "Asia/Tokyo" or "Europe/Paris".`,
    );
  }
  return { timeZone, iso: now.toISOString(), local, utcOffset };
}

type Evaluate = (expression: string) => unknown;
type MathJs = { evaluate: Evaluate; format: (value: unknown, options: { precision: number }) => string };
let mathLoading: Promise<MathJs> | undefined;

/**
 * math.js, loaded on the first calculation so a run that never calculates
 * does not pay for it at boot. Its functions that parse or define code, and
 * those that build matrices of any size, are switched off, as math.js's
 * security notes advise for untrusted expressions.
 */
function loadMath(): Promise<MathJs> {
  mathLoading ??= import("mathjs").then(({ create, all }) => {
    const math = create(all!);
    const evaluate = math.evaluate.bind(math);
    const disabled = (name: string) => () => {
      throw new Error(`${name} is not available in the calculator`);
    };
    const blocked = [
      "import",
      "createUnit",
      "evaluate",
      "parse",
      "compile",
      "simplify",
      "derivative",
      "resolve",
      "reviver",
      "rationalize",
      "matrix",
      "sparse",
      "ones",
      "zeros",
      "identity",
      "range",
      "diag",
      "resize",
      "reshape",
      "concat",
    ];
    math.import(Object.fromEntries(blocked.map((name) => [name, disabled(name)])), { override: true });
    return { evaluate: (expression) => evaluate(expression), format: (value, options) => math.format(value, options) };
  });
  return mathLoading;
}

/**
 * Evaluates arithmetic and unit conversions with math.js ("12 * (3 + 4)",
 * "5 km to mile", "sqrt(2)"), never with JavaScript's eval. Anything that is
 * not a number or a quantity is refused with a sentence that says why.
 */
export async function calculate(expression: string): Promise<CalculateOutput> {
  const trimmed = expression.trim();
  if (trimmed === "") throw new ToolInputError("The expression is empty.");
  // Matrix literals could ask for any amount of memory; a chat calculator needs none.
  if (trimmed.includes("[")) throw new ToolInputError("Matrices are not available in the calculator.");
  const math = await loadMath();
  let value: unknown;
  try {
    value = math.evaluate(trimmed);
  } catch (error) {
    throw new ToolInputError(
      `Could not calculate "${trimmed}": ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  if (
    value === undefined ||
    typeof value === "function" ||
    (typeof value === "object" && value !== null && "entries" in value)
  ) {
    throw new ToolInputError(`"${trimmed}" does not give a single value.`);
  }
  return { expression: trimmed, result: math.format(value, { precision: 14 }) };
}

/**
 * The agent's tools. Neither needs a network. `calculate` waits for the
 * user's approval (`needsApproval`): the chat shows the expression with
 * Approve and Deny, and a denial ends the turn without running it.
 */
export const chatTools = {
  currentTime: tool({
    description:
      "The current date and time in a time zone. Use it whenever the user asks what time or day it is somewhere.",
    inputSchema: z.object({
      timeZone: z.string().min(1).max(64).describe('An IANA time zone name, such as "Asia/Tokyo" or "Europe/London".'),
    }),
    execute: async ({ timeZone }): Promise<CurrentTimeOutput> => currentTimeIn(timeZone),
  }),
  calculate: tool({
    description:
      'Evaluates a math expression or a unit conversion exactly, e.g. "12 * (3 + 4)", "sqrt(2) / 3" or "5 km to mile". ' +
      "Use it for any arithmetic rather than working it out yourself. The user approves each calculation first.",
    inputSchema: z.object({
      expression: z.string().min(1).max(EXPRESSION_MAX_LENGTH).describe("The expression, in math.js syntax."),
    }),
    needsApproval: true,
    execute: async ({ expression }): Promise<CalculateOutput> => calculate(expression),
  }),
};

export type ChatTools = InferUITools<typeof chatTools>;
