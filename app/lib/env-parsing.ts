import { z } from "zod";

// Shared by the two env modules, app/lib/env.server.ts (web server) and trigger/env.ts (agent). Reads no
// environment itself, so importing it into app/ brings in no agent code.

/** A line like `CHAT_MODEL=` in an .env file means "not set", not "set to nothing". */
export const blankAsUnset = (value: unknown) => (typeof value === "string" && value.trim() === "" ? undefined : value);

export const optional = <T extends z.ZodType>(schema: T) => z.preprocess(blankAsUnset, schema.optional());

/** Parses `source` with `schema`, or throws one error that names every bad variable and what it must be. */
export function parseEnv<T extends z.ZodType>(schema: T, source: Record<string, string | undefined>, name: string) {
  const result = schema.safeParse(source);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `  ${issue.path.join(".")}: ${issue.message}`);
    throw new Error(`Invalid ${name} environment:\n${problems.join("\n")}`);
  }
  return result.data;
}
