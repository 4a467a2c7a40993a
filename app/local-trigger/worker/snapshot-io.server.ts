import { parseTranscriptBlob, serializeTranscriptSnapshot } from "@trigger.dev/core/v3";
import { logger } from "@trigger.dev/sdk";
import { __setReadChatSnapshotImplForTests, __setWriteChatSnapshotImplForTests } from "@trigger.dev/sdk/ai";
import type { EngineClient } from "./engine-client.server";

type Snapshot = Parameters<typeof serializeTranscriptSnapshot>[0];

/**
 * The default transcript storage presigns a URL and then GETs or PUTs the
 * blob: two HTTP round trips per save, and the turn-start save gates a turn's
 * first output. Here the same blob, in the same format, goes straight to the
 * engine thread. The presign endpoints stay for readers outside a run.
 */
export function installSnapshotIo(callEngine: EngineClient) {
  __setWriteChatSnapshotImplForTests(snapshotWriter(callEngine));
  __setReadChatSnapshotImplForTests(async (sessionId: string) => {
    const blob = await callEngine({ op: "snapshot-read", sessionId });
    return blob === null ? undefined : parseTranscriptBlob(blob);
  });
}

/**
 * A save is done for the agent once it is posted: the engine takes a run's
 * calls in the order they were made, so the snapshot is stored before any
 * output, read or suspension that follows it, which is what the SDK waits
 * for. Waiting for the answer too only held the turn's first output until the
 * thread was idle enough to read it. A failed save is logged, as the SDK logs
 * its own.
 */
export function snapshotWriter(callEngine: EngineClient) {
  return async (sessionId: string, snapshot: Snapshot) => {
    callEngine({ op: "snapshot-write", sessionId, blob: serializeTranscriptSnapshot(snapshot) }).catch(
      (error: unknown) =>
        logger.warn("chat.agent: transcript snapshot write failed; the next run will replay further", {
          error: error instanceof Error ? error.message : String(error),
          sessionId,
        }),
    );
  };
}
