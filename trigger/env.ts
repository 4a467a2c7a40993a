import { z } from "zod";
import { MODEL_ENV_SHAPE } from "../app/lib/ai/model-env";
import { blankAsUnset, parseEnv } from "../app/lib/env-parsing";

// The same grammar the Trigger.dev runtime accepts for wait durations: "30s", "1h", "1h30m", "2d".
const DURATION = /^(\d+(w|d|hr|h|m|s))+$/;

const AgentEnvSchema = z.object({
  ...MODEL_ENV_SHAPE,
  CHAT_IDLE_TIMEOUT_SECONDS: z.preprocess(
    blankAsUnset,
    z.coerce
      .number({ error: "must be a whole number of seconds" })
      .int("must be a whole number of seconds")
      .positive("must be at least 1")
      .default(30),
  ),
  CHAT_TURN_TIMEOUT: z.preprocess(
    blankAsUnset,
    z
      .string()
      .regex(DURATION, 'must be a duration such as "30s", "15m" or "1h"')
      .refine((value) => /[1-9]/.test(value), "must be longer than zero")
      .default("1h"),
  ),
});

export type AgentEnv = Readonly<z.infer<typeof AgentEnvSchema>>;

export function parseAgentEnv(source: Record<string, string | undefined>): AgentEnv {
  return Object.freeze(parseEnv(AgentEnvSchema, source, "chat agent"));
}

let agentEnv: AgentEnv | undefined;

/** The agent process's validated environment; the only place in trigger/ that reads process.env. */
export function getAgentEnv(): AgentEnv {
  agentEnv ??= parseAgentEnv(process.env);
  return agentEnv;
}
