import { describe, expect, it } from "vitest";
import { parseAgentEnv } from "./env";

describe("parseAgentEnv", () => {
  it("applies the defaults and needs no secret", () => {
    expect(parseAgentEnv({})).toEqual({
      OFFLINE_MODEL_DELAY_MS: 25,
      CHAT_IDLE_TIMEOUT_SECONDS: 30,
      CHAT_TURN_TIMEOUT: "1h",
    });
  });

  it("treats blank values as unset", () => {
    const blanks = {
      CHAT_MODEL: "",
      GOOGLE_GENERATIVE_AI_API_KEY: " ",
      GOOGLE_GENERATIVE_AI_BASE_URL: "",
      OFFLINE_MODEL_DELAY_MS: "",
    };
    expect(parseAgentEnv(blanks)).toEqual({
      OFFLINE_MODEL_DELAY_MS: 25,
      CHAT_IDLE_TIMEOUT_SECONDS: 30,
      CHAT_TURN_TIMEOUT: "1h",
    });
  });

  it("parses explicit values", () => {
    expect(
      parseAgentEnv({
        CHAT_MODEL: "google:gemini-2.5-pro",
        GOOGLE_GENERATIVE_AI_API_KEY: "test-key-not-real",
        GOOGLE_GENERATIVE_AI_BASE_URL: "https://gateway.example.com/google/v1beta",
        OFFLINE_MODEL_DELAY_MS: "0",
        CHAT_IDLE_TIMEOUT_SECONDS: "120",
        CHAT_TURN_TIMEOUT: "1h30m",
      }),
    ).toEqual({
      CHAT_MODEL: "google:gemini-2.5-pro",
      GOOGLE_GENERATIVE_AI_API_KEY: "test-key-not-real",
      GOOGLE_GENERATIVE_AI_BASE_URL: "https://gateway.example.com/google/v1beta",
      OFFLINE_MODEL_DELAY_MS: 0,
      CHAT_IDLE_TIMEOUT_SECONDS: 120,
      CHAT_TURN_TIMEOUT: "1h30m",
    });
  });

  it.each([
    ["CHAT_MODEL", "gemini-2.5-flash", 'must look like "provider:model-id"'],
    ["GOOGLE_GENERATIVE_AI_BASE_URL", "gateway.example.com/v1beta", "must be an http(s) URL"],
    ["GOOGLE_GENERATIVE_AI_BASE_URL", "ftp://gateway.example.com/v1beta", "must be an http(s) URL"],
    ["OFFLINE_MODEL_DELAY_MS", "fast", "must be a whole number of milliseconds"],
    ["OFFLINE_MODEL_DELAY_MS", "-5", "must not be negative"],
    ["CHAT_IDLE_TIMEOUT_SECONDS", "0", "must be at least 1"],
    ["CHAT_IDLE_TIMEOUT_SECONDS", "1.5", "must be a whole number of seconds"],
    ["CHAT_TURN_TIMEOUT", "1 hour", "must be a duration"],
    ["CHAT_TURN_TIMEOUT", "0s", "must be longer than zero"],
  ])("rejects %s=%j, naming the variable", (name, value, message) => {
    expect(() => parseAgentEnv({ [name]: value })).toThrow(`${name}: ${message}`);
  });
});
