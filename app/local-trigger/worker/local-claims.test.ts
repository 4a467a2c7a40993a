import { ApiClient } from "@trigger.dev/core/v3";
import { afterEach, describe, expect, it, vi } from "vitest";
import { installLocalClaims } from "./local-claims.server";

const askServer = ApiClient.prototype.generateJWTClaims;
afterEach(() => {
  ApiClient.prototype.generateJWTClaims = askServer;
  vi.unstubAllGlobals();
});

describe("installLocalClaims", () => {
  it("answers the engine's own key from memory and asks the server for any other", async () => {
    const fetch = vi.fn(async (_url: string | URL | Request) => Response.json({ sub: "env_elsewhere", pub: true }));
    vi.stubGlobal("fetch", fetch);
    installLocalClaims({
      apiURL: "http://127.0.0.1:4000/",
      secretKey: "tr_dev_engine",
      claims: { sub: "env_local", pub: true },
    });

    await expect(new ApiClient("http://127.0.0.1:4000", "tr_dev_engine").generateJWTClaims()).resolves.toEqual({
      sub: "env_local",
      pub: true,
    });
    expect(fetch).not.toHaveBeenCalled();

    await expect(new ApiClient("http://127.0.0.1:4000", "tr_dev_another").generateJWTClaims()).resolves.toEqual({
      sub: "env_elsewhere",
      pub: true,
    });
    await new ApiClient("http://127.0.0.1:5000", "tr_dev_engine").generateJWTClaims();
    expect(fetch.mock.calls.map(([url]) => String(url))).toEqual([
      "http://127.0.0.1:4000/api/v1/auth/jwt/claims",
      "http://127.0.0.1:5000/api/v1/auth/jwt/claims",
    ]);
  });
});
