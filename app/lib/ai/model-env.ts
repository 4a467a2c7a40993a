import { z } from "zod";
import { blankAsUnset, optional, parseEnv } from "../env-parsing";

/**
 * The variables that choose and configure the chat model. The agent reads
 * them (trigger/env.ts), and so does the web server (env.server.ts), which
 * lists the models for the picker and writes a head-started first answer.
 * Each process validates them in its own environment module.
 */
export const MODEL_ENV_SHAPE = {
  CHAT_MODEL: optional(
    z.string().regex(/^[^:\s]+:\S+$/, 'must look like "provider:model-id", e.g. "google:gemini-2.5-flash"'),
  ),
  GOOGLE_GENERATIVE_AI_API_KEY: optional(z.string()),
  // For a gateway or proxy in front of Gemini; the provider appends "/models/<id>:streamGenerateContent".
  GOOGLE_GENERATIVE_AI_BASE_URL: optional(
    z.url({
      protocol: /^https?$/,
      error: "must be an http(s) URL such as https://generativelanguage.googleapis.com/v1beta",
    }),
  ),
  OFFLINE_MODEL_DELAY_MS: z.preprocess(
    blankAsUnset,
    z.coerce
      .number({ error: "must be a whole number of milliseconds" })
      .int("must be a whole number of milliseconds")
      .nonnegative("must not be negative")
      .default(25),
  ),
};

export type ModelEnv = Readonly<z.infer<z.ZodObject<typeof MODEL_ENV_SHAPE>>>;

/** The model settings alone, validated as the environment modules validate them (tests and tools). */
export function parseModelEnv(source: Record<string, string | undefined>): ModelEnv {
  return Object.freeze(parseEnv(z.object(MODEL_ENV_SHAPE), source, "model"));
}
