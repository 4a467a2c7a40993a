import { parseTranscriptBlob, serializeTranscriptSnapshot } from "@trigger.dev/core/v3";
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
  __setWriteChatSnapshotImplForTests(async (sessionId: string, snapshot: Snapshot) => {
    await callEngine({ op: "snapshot-write", sessionId, blob: serializeTranscriptSnapshot(snapshot) });
  });
  __setReadChatSnapshotImplForTests(async (sessionId: string) => {
    const blob = await callEngine({ op: "snapshot-read", sessionId });
    return blob === null ? undefined : parseTranscriptBlob(blob);
  });
}
