import { describe, expect, it } from "vitest";
import { chatModelCatalog, refuseModelChoice } from "./model-catalog";
import { OFFLINE_MODEL_ID } from "./offline-model";

describe("chatModelCatalog", () => {
  it("offers the offline model alone when no provider key is set", () => {
    expect(chatModelCatalog({})).toEqual({
      models: [{ id: `offline:${OFFLINE_MODEL_ID}`, label: "Offline demo model", offline: true }],
      defaultModel: "offline:offline-chat",
    });
  });

  it("adds Gemini's models when its key is set, with Gemini 2.5 Flash the default", () => {
    const catalog = chatModelCatalog({ GOOGLE_GENERATIVE_AI_API_KEY: "test-key-not-real" });
    expect(catalog.models.map((model) => model.id)).toEqual([
      "offline:offline-chat",
      "google:gemini-2.5-flash",
      "google:gemini-2.5-flash-lite",
      "google:gemini-2.5-pro",
    ]);
    expect(catalog.defaultModel).toBe("google:gemini-2.5-flash");
  });

  it("makes CHAT_MODEL the default, and offers it even when it is not in the list", () => {
    expect(
      chatModelCatalog({ CHAT_MODEL: "offline:offline-chat", GOOGLE_GENERATIVE_AI_API_KEY: "k" }).defaultModel,
    ).toBe("offline:offline-chat");
    const custom = chatModelCatalog({ CHAT_MODEL: "google:gemini-3-preview", GOOGLE_GENERATIVE_AI_API_KEY: "k" });
    expect(custom.defaultModel).toBe("google:gemini-3-preview");
    expect(custom.models.at(-1)).toEqual({
      id: "google:gemini-3-preview",
      label: "google:gemini-3-preview",
      offline: false,
    });
  });
});

describe("refuseModelChoice", () => {
  it("accepts a model the catalog offers", () => {
    expect(refuseModelChoice("offline:offline-chat", chatModelCatalog({}))).toBeUndefined();
  });

  it("refuses any other, naming it and what is offered", () => {
    expect(refuseModelChoice("google:gemini-2.5-pro", chatModelCatalog({}))).toBe(
      "The model “google:gemini-2.5-pro” isn’t available on this server, so nothing was sent to it. Choose one of: Offline demo model (offline:offline-chat).",
    );
    expect(refuseModelChoice("x".repeat(500), chatModelCatalog({}))).toContain(`“${"x".repeat(100)}”`);
  });
});
