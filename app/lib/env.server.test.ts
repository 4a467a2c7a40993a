import { describe, expect, it } from "vitest";
import { parseServerEnv } from "./env.server";

const SECRET = "s".repeat(32);
const KEY = "tr_dev_not_a_real_key";

describe("parseServerEnv", () => {
  it("applies the defaults and runs locally with no secrets at all", () => {
    expect(parseServerEnv({})).toEqual({
      PORT: 3000,
      NODE_ENV: "development",
      RATE_LIMITS: "on",
      RATE_LIMIT_MULTIPLIER: 1,
      LOCAL_TRIGGER: false,
      CHAT_HEAD_START: false,
      LOCAL_TRIGGER_DATA_DIR: ".data/local-trigger",
      LOCAL_TRIGGER_MAX_RUNS: 32,
      LOCAL_TRIGGER_WARM_WORKERS: 1,
      LOG_LEVEL: "info",
      SHUTDOWN_GRACE_MS: 10_000,
      OFFLINE_MODEL_DELAY_MS: 25,
      triggerMode: "local",
    });
  });

  it("treats blank values as unset", () => {
    expect(
      parseServerEnv({
        NODE_ENV: "",
        TRIGGER_SECRET_KEY: "",
        TRIGGER_API_URL: " ",
        SESSION_SECRET: "  ",
        LOCAL_TRIGGER: "",
        LOCAL_TRIGGER_DATA_DIR: " ",
        LOCAL_TRIGGER_MAX_RUNS: "",
        LOCAL_TRIGGER_WARM_WORKERS: " ",
        LOG_LEVEL: " ",
        SHUTDOWN_GRACE_MS: "",
      }),
    ).toEqual(parseServerEnv({}));
  });

  it("runs remotely with a secret key and a session secret", () => {
    const env = parseServerEnv({ TRIGGER_SECRET_KEY: KEY, SESSION_SECRET: SECRET, LOCAL_TRIGGER_MAX_RUNS: "4" });
    expect(env).toMatchObject({
      TRIGGER_SECRET_KEY: KEY,
      SESSION_SECRET: SECRET,
      LOCAL_TRIGGER_MAX_RUNS: 4,
      triggerMode: "remote",
    });
  });

  it("requires SESSION_SECRET in remote mode, naming it", () => {
    expect(() => parseServerEnv({ TRIGGER_SECRET_KEY: KEY })).toThrow(
      "SESSION_SECRET: required when TRIGGER_SECRET_KEY is set",
    );
    // Blank is unset, so it does not satisfy the requirement either.
    expect(() => parseServerEnv({ TRIGGER_SECRET_KEY: KEY, SESSION_SECRET: " " })).toThrow("SESSION_SECRET: required");
  });

  it.each(["1", "true"])("does not require SESSION_SECRET when LOCAL_TRIGGER=%s overrides the key", (value) => {
    const env = parseServerEnv({ TRIGGER_SECRET_KEY: KEY, LOCAL_TRIGGER: value });
    expect(env.triggerMode).toBe("local");
    expect(env.SESSION_SECRET).toBeUndefined();
  });

  it.each(["0", "false"])("still runs remotely with LOCAL_TRIGGER=%s", (value) => {
    expect(parseServerEnv({ TRIGGER_SECRET_KEY: KEY, SESSION_SECRET: SECRET, LOCAL_TRIGGER: value }).triggerMode).toBe(
      "remote",
    );
    expect(() => parseServerEnv({ TRIGGER_SECRET_KEY: KEY, LOCAL_TRIGGER: value })).toThrow("SESSION_SECRET: required");
  });

  it("accepts a SESSION_SECRET of exactly 32 characters", () => {
    expect(parseServerEnv({ SESSION_SECRET: SECRET }).SESSION_SECRET).toBe(SECRET);
  });

  it.each([
    ["SESSION_SECRET", "s".repeat(31), "must be at least 32 characters"],
    ["TRIGGER_SECRET_KEY", "sk_not_a_trigger_key", "must be a Trigger.dev secret key"],
    ["TRIGGER_SECRET_KEY", "TR_upper_case_prefix", "must be a Trigger.dev secret key"],
    ["TRIGGER_SECRET_KEY", "trdev_no_underscore", "must be a Trigger.dev secret key"],
    ["TRIGGER_API_URL", "api.trigger.example", "must be a URL"],
    ["LOCAL_TRIGGER", "yes", "Invalid option"],
    ["LOCAL_TRIGGER_MAX_RUNS", "0", "must be at least 1"],
    ["LOCAL_TRIGGER_MAX_RUNS", "-3", "must be at least 1"],
    ["LOCAL_TRIGGER_MAX_RUNS", "2.5", "must be a whole number"],
    ["LOCAL_TRIGGER_MAX_RUNS", "many", "must be a whole number"],
    ["LOCAL_TRIGGER_WARM_WORKERS", "-1", "must not be negative"],
    ["LOG_LEVEL", "verbose", "must be one of trace, debug, info, warn, error, fatal, silent"],
    ["SHUTDOWN_GRACE_MS", "-1", "must not be negative"],
    ["SHUTDOWN_GRACE_MS", "10s", "must be a whole number of milliseconds"],
  ])("rejects %s=%j, naming the variable", (name, value, message) => {
    expect(() => parseServerEnv({ [name]: value })).toThrow(`${name}: ${message}`);
  });

  it("checks SESSION_SECRET's length in local mode too", () => {
    expect(() => parseServerEnv({ LOCAL_TRIGGER: "1", TRIGGER_SECRET_KEY: KEY, SESSION_SECRET: "short" })).toThrow(
      "SESSION_SECRET: must be at least 32 characters",
    );
  });

  it("lists every invalid variable in one error", () => {
    expect(() => parseServerEnv({ TRIGGER_SECRET_KEY: "nope", LOCAL_TRIGGER_MAX_RUNS: "0" })).toThrow(
      /Invalid server environment:\n {2}TRIGGER_SECRET_KEY: .*\n {2}LOCAL_TRIGGER_MAX_RUNS: must be at least 1/,
    );
  });

  it("reads the log level and the shutdown grace, and keeps tests quiet unless a level is set", () => {
    const env = parseServerEnv({ LOG_LEVEL: "debug", SHUTDOWN_GRACE_MS: "2500" });
    expect(env).toMatchObject({ LOG_LEVEL: "debug", SHUTDOWN_GRACE_MS: 2500 });
    expect(parseServerEnv({ NODE_ENV: "production" }).LOG_LEVEL).toBe("info");
    expect(parseServerEnv({ NODE_ENV: "test" }).LOG_LEVEL).toBe("silent");
    expect(parseServerEnv({ NODE_ENV: "test", LOG_LEVEL: "warn" }).LOG_LEVEL).toBe("warn");
  });

  it("returns a frozen object", () => {
    expect(Object.isFrozen(parseServerEnv({}))).toBe(true);
  });

  it("reads the app's public origin, the proxy trust and the rate limit settings", () => {
    const env = parseServerEnv({
      APP_ORIGIN: "https://chat.example.com/some/path",
      TRUST_PROXY: "1",
      RATE_LIMITS: "off",
      RATE_LIMIT_MULTIPLIER: "2.5",
      PORT: "8080",
    });
    expect(env).toMatchObject({
      APP_ORIGIN: "https://chat.example.com",
      TRUST_PROXY: "1",
      RATE_LIMITS: "off",
      RATE_LIMIT_MULTIPLIER: 2.5,
      PORT: 8080,
    });
    expect(() => parseServerEnv({ APP_ORIGIN: "chat.example.com" })).toThrow(/APP_ORIGIN: must be an origin/);
    expect(() => parseServerEnv({ RATE_LIMITS: "sometimes" })).toThrow(/RATE_LIMITS/);
    expect(() => parseServerEnv({ RATE_LIMIT_MULTIPLIER: "0" })).toThrow(/RATE_LIMIT_MULTIPLIER: must be more than 0/);
    expect(() => parseServerEnv({ PORT: "70000" })).toThrow(/PORT: must be a port number/);
  });
});
