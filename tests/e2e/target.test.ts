import { describe, expect, it } from "vitest";
import { OFFLINE_MODEL, parseE2eTarget } from "./target";

describe("the end-to-end suite's target", () => {
  it("is the suite's own server with the offline model when nothing is set", () => {
    expect(parseE2eTarget({})).toEqual({ deploymentURL: undefined, model: OFFLINE_MODEL });
    const blank = { E2E_BASE_URL: " ", E2E_MODEL: "" };
    expect(parseE2eTarget(blank)).toEqual({ deploymentURL: undefined, model: OFFLINE_MODEL });
  });

  it("is a deployment at E2E_BASE_URL, answered by the offline model unless E2E_MODEL names another", () => {
    expect(parseE2eTarget({ E2E_BASE_URL: "https://chat.example.com/" })).toEqual({
      deploymentURL: "https://chat.example.com",
      model: OFFLINE_MODEL,
    });
    expect(parseE2eTarget({ E2E_BASE_URL: "http://127.0.0.1:3000", E2E_MODEL: "google:gemini-2.5-flash" })).toEqual({
      deploymentURL: "http://127.0.0.1:3000",
      model: "google:gemini-2.5-flash",
    });
  });

  it.each([
    [{ E2E_BASE_URL: "chat.example.com" }, "E2E_BASE_URL=chat.example.com: must be the app's URL"],
    [{ E2E_BASE_URL: "ftp://chat.example.com" }, "must start with http:// or https://"],
    [{ E2E_BASE_URL: "https://example.com/chat" }, "must be an origin with no path, such as https://example.com"],
    [{ E2E_BASE_URL: "https://example.com", E2E_MODEL: "gemini" }, 'E2E_MODEL=gemini: must look like "provider:model'],
    [{ E2E_MODEL: "google:gemini-2.5-flash" }, "Set E2E_BASE_URL, or unset E2E_MODEL"],
  ])("refuses %o, saying how to fix it", (env, message) => {
    expect(() => parseE2eTarget(env)).toThrow(message);
  });
});
