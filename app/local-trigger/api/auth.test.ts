import { generateJWT, validateJWT } from "@trigger.dev/core/v3/jwt";
import { afterEach, describe, expect, it, vi } from "vitest";
import { authenticate, can, canOnSession, isAuthFailure, mintSessionToken } from "./auth.server";

vi.mock("@trigger.dev/core/v3/jwt", async (importOriginal) => {
  const original = await importOriginal<typeof import("@trigger.dev/core/v3/jwt")>();
  return { ...original, validateJWT: vi.fn(original.validateJWT) };
});

afterEach(() => {
  vi.useRealTimers();
});

const SECRET = "tr_dev_local_test_secret_value";
const ENV = "env_local";
const publicToken = (scopes: string[]) => ({ kind: "public-token" as const, scopes });

describe("authenticate", () => {
  it("accepts the secret key and session tokens signed with it", async () => {
    expect(await authenticate(`Bearer ${SECRET}`, SECRET, ENV)).toEqual({ kind: "secret-key" });
    const token = await mintSessionToken({
      secretKey: SECRET,
      environmentId: ENV,
      sessionKey: "chat-1",
      expirationTime: "1h",
    });
    expect(await authenticate(`Bearer ${token}`, SECRET, ENV)).toEqual(
      publicToken(["read:sessions:chat-1", "write:sessions:chat-1"]),
    );
  });

  it("answers 401 for missing, wrong, forged, expired and foreign-environment credentials", async () => {
    const cases = [
      null,
      "Basic abc",
      "Bearer tr_dev_other",
      `Bearer ${await generateJWT({ secretKey: "another-key", payload: { sub: ENV, pub: true, scopes: [] } })}`,
      `Bearer ${await generateJWT({ secretKey: SECRET, payload: { sub: ENV, pub: true, scopes: [] }, expirationTime: Math.floor(Date.now() / 1000) - 10 })}`,
      `Bearer ${await generateJWT({ secretKey: SECRET, payload: { sub: "env_elsewhere", pub: true, scopes: [] } })}`,
      `Bearer ${await generateJWT({ secretKey: SECRET, payload: { sub: ENV, scopes: [] } })}`,
    ];
    for (const header of cases) {
      const result = await authenticate(header, SECRET, ENV);
      expect(isAuthFailure(result) && result.status, String(header)).toBe(401);
    }
    const expired = await authenticate(cases[4]!, SECRET, ENV);
    expect(isAuthFailure(expired) && expired.message).toMatch(/expired/);
  });

  it("checks a token's signature once, and trusts it only for its key and environment, until it expires", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const token = await mintSessionToken({
      secretKey: SECRET,
      environmentId: ENV,
      sessionKey: "chat-2",
      expirationTime: "1h",
    });
    const checked = vi.mocked(validateJWT);
    checked.mockClear();
    const scopes = publicToken(["read:sessions:chat-2", "write:sessions:chat-2"]);
    expect(await authenticate(`Bearer ${token}`, SECRET, ENV)).toEqual(scopes);
    expect(await authenticate(`Bearer ${token}`, SECRET, ENV)).toEqual(scopes);
    expect(checked).toHaveBeenCalledTimes(1);

    const elsewhere = [
      await authenticate(`Bearer ${token}`, "tr_dev_another_secret", ENV),
      await authenticate(`Bearer ${token}`, SECRET, "env_elsewhere"),
    ];
    expect(elsewhere.map((result) => isAuthFailure(result) && result.status)).toEqual([401, 401]);

    vi.setSystemTime(Date.now() + 61 * 60_000);
    const expired = await authenticate(`Bearer ${token}`, SECRET, ENV);
    expect(isAuthFailure(expired) && expired.message).toMatch(/expired/);
  });
});

describe("can", () => {
  const tasks = (id: string) => [{ type: "tasks", id }, { type: "sessions" }];

  it("matches scopes on action, type and id", () => {
    expect(can(publicToken(["write:tasks:echo"]), "write", tasks("echo"))).toBe(true);
    expect(can(publicToken(["write:tasks:other"]), "write", tasks("echo"))).toBe(false);
    expect(can(publicToken(["read:tasks:echo"]), "write", tasks("echo"))).toBe(false);
    expect(can(publicToken(["write:sessions:chat-1"]), "write", tasks("echo"))).toBe(false);
  });

  it("honours type-level, all and admin wildcards", () => {
    expect(can(publicToken(["write:sessions"]), "write", tasks("echo"))).toBe(true);
    expect(can(publicToken(["write:all"]), "write", tasks("echo"))).toBe(true);
    expect(can(publicToken(["admin"]), "write", tasks("echo"))).toBe(true);
    expect(can({ kind: "secret-key" }, "admin", tasks("x"))).toBe(true);
  });
});

describe("canOnSession", () => {
  it("passes when any of a session's keys matches", () => {
    expect(
      canOnSession(publicToken(["read:sessions:session_abc"]), { kind: "retrieve" }, ["chat-1", "session_abc"]),
    ).toBe(true);
    expect(
      canOnSession(publicToken(["read:sessions:session_abc:out"]), { kind: "read-stream", io: "out" }, [
        "chat-1",
        "session_abc",
      ]),
    ).toBe(true);
  });

  it("does not read a sub-resource scope of one session as the whole of another whose id has a colon", () => {
    const outOnly = publicToken(["read:sessions:chat:out"]);
    expect(canOnSession(outOnly, { kind: "read-stream", io: "out" }, ["chat"])).toBe(true);
    expect(canOnSession(outOnly, { kind: "retrieve" }, ["chat"])).toBe(false);
  });
});
