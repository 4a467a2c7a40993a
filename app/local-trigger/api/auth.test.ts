import { generateJWT } from "@trigger.dev/core/v3/jwt";
import { describe, expect, it } from "vitest";
import { authenticate, can, isAuthFailure, mintSessionToken } from "./auth.server";

const SECRET = "tr_dev_local_test_secret_value";
const ENV = "env_local";
const sessions = (...ids: string[]) => ids.map((id) => ({ type: "sessions", id }));
const publicToken = (scopes: string[]) => ({ kind: "public-token" as const, scopes });

describe("authenticate", () => {
  it("accepts the secret key and session tokens signed with it", async () => {
    expect(await authenticate(`Bearer ${SECRET}`, SECRET, ENV)).toEqual({ kind: "secret-key" });
    const token = await mintSessionToken({ secretKey: SECRET, environmentId: ENV, sessionKey: "chat-1", expirationTime: "1h" });
    expect(await authenticate(`Bearer ${token}`, SECRET, ENV)).toEqual(publicToken(["read:sessions:chat-1", "write:sessions:chat-1"]));
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
});

describe("can", () => {
  it("matches scopes on action, type and id", () => {
    const caller = publicToken(["read:sessions:chat-1", "write:sessions:chat-1"]);
    expect(can(caller, "read", sessions("chat-1"))).toBe(true);
    expect(can(caller, "write", sessions("chat-1"))).toBe(true);
    expect(can(caller, "read", sessions("chat-2"))).toBe(false);
    expect(can(caller, "admin", sessions("chat-1"))).toBe(false);
  });

  it("passes when any of a session's keys matches", () => {
    expect(can(publicToken(["read:sessions:session_abc"]), "read", sessions("chat-1", "session_abc"))).toBe(true);
  });

  it("honours type-level, all and admin wildcards", () => {
    expect(can(publicToken(["read:sessions"]), "read", sessions("anything"))).toBe(true);
    expect(can(publicToken(["read:all"]), "read", sessions("anything"))).toBe(true);
    expect(can(publicToken(["admin"]), "admin", sessions("anything"))).toBe(true);
    expect(can(publicToken(["read:runs:chat-1"]), "read", sessions("chat-1"))).toBe(false);
    expect(can({ kind: "secret-key" }, "admin", sessions("x"))).toBe(true);
  });
});
