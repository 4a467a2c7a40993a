import { describe, expect, it } from "vitest";
import { parseModelEnv } from "./model-env";
import { describeChatModel, getChatModel, resolveChatModelId } from "./model";

const noKey = parseModelEnv({ OFFLINE_MODEL_DELAY_MS: "0" });
const withKey = parseModelEnv({ GOOGLE_GENERATIVE_AI_API_KEY: "test-key-not-real" });

describe("resolveChatModelId", () => {
  it("falls back to the offline model when no Google key is set", () => {
    expect(resolveChatModelId(noKey)).toBe("offline:offline-chat");
  });

  it("defaults to Gemini 2.5 Flash when the Google key is set", () => {
    expect(resolveChatModelId(withKey)).toBe("google:gemini-2.5-flash");
  });

  it("lets CHAT_MODEL override the default", () => {
    const env = parseModelEnv({
      GOOGLE_GENERATIVE_AI_API_KEY: "test-key-not-real",
      CHAT_MODEL: "google:gemini-2.5-pro",
    });
    expect(resolveChatModelId(env)).toBe("google:gemini-2.5-pro");
    expect(resolveChatModelId(parseModelEnv({ CHAT_MODEL: "offline:offline-chat" }))).toBe("offline:offline-chat");
  });
});

describe("getChatModel", () => {
  it("resolves the offline model without any key", () => {
    expect(getChatModel(noKey)).toMatchObject({ provider: "offline", modelId: "offline-chat" });
  });

  it("resolves a Gemini model when the key is set, without calling Google", () => {
    const model = getChatModel(withKey);
    expect(model.provider).toMatch(/^google/);
    expect(model.modelId).toBe("gemini-2.5-flash");
  });

  it("fails loudly on an unknown provider, listing the available ones", () => {
    const env = parseModelEnv({ CHAT_MODEL: "foo:bar" });
    expect(() => getChatModel(env)).toThrow(
      'CHAT_MODEL "foo:bar": unknown provider "foo" (available: google, offline)',
    );
  });

  it("fails loudly on an unknown model of a known provider", () => {
    const env = parseModelEnv({ CHAT_MODEL: "offline:gpt-5" });
    expect(() => getChatModel(env)).toThrow('CHAT_MODEL "offline:gpt-5": unknown model "gpt-5" for provider "offline"');
  });

  it("fails loudly when a Google model is chosen without the Google key", () => {
    const env = parseModelEnv({ CHAT_MODEL: "google:gemini-2.5-flash" });
    expect(() => getChatModel(env)).toThrow(
      'CHAT_MODEL "google:gemini-2.5-flash": set GOOGLE_GENERATIVE_AI_API_KEY to use this provider',
    );
  });
});

describe("describeChatModel", () => {
  it("labels the offline model as offline and Gemini as not", () => {
    expect(describeChatModel(noKey)).toEqual({ id: "offline:offline-chat", offline: true });
    expect(describeChatModel(withKey)).toEqual({ id: "google:gemini-2.5-flash", offline: false });
  });
});
