import { logger } from "@trigger.dev/sdk";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { EngineClient } from "./engine-client.server";
import { snapshotWriter } from "./snapshot-io.server";

const snapshot = { version: 1, savedAt: 0, messages: [] } as unknown as Parameters<
  ReturnType<typeof snapshotWriter>
>[1];

afterEach(() => vi.restoreAllMocks());

describe("snapshotWriter", () => {
  it("is done once the save is posted, without waiting for the engine's answer", async () => {
    const callEngine = vi.fn(() => new Promise(() => {})) as unknown as EngineClient;
    await snapshotWriter(callEngine)("chat-1", snapshot);
    expect(callEngine).toHaveBeenCalledWith(expect.objectContaining({ op: "snapshot-write", sessionId: "chat-1" }));
  });

  it("logs a save the engine refused", async () => {
    const warn = vi.spyOn(logger, "warn").mockImplementation(() => {});
    const callEngine = vi.fn(async () => {
      throw new Error("disk full");
    }) as unknown as EngineClient;
    await snapshotWriter(callEngine)("chat-1", snapshot);
    await vi.waitFor(() =>
      expect(warn).toHaveBeenCalledWith(
        expect.stringContaining("snapshot write failed"),
        expect.objectContaining({ error: "disk full", sessionId: "chat-1" }),
      ),
    );
  });
});
