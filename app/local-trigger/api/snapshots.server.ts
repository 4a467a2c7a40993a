import { createHmac, timingSafeEqual } from "node:crypto";
import { pageTranscriptEntries, parseTranscriptBlob } from "@trigger.dev/core/v3";
import { readBody } from "../http/body.server";
import { badRequest, HttpError, json, notFound } from "../http/errors.server";
import type { Route, RouteContext } from "../http/router.server";
import { BODY_LIMITS } from "../limits.server";
import { isIntactSnapshot } from "../storage/data-folder.server";
import type { EngineContext } from "./context.server";

const PRESIGN_TTL_MS = 15 * 60 * 1000;
const SESSION = "([^/]+)";
const OBJECT = /^\/local\/v1\/objects\/snapshots\/(session_[a-z0-9]+)$/;

/**
 * Transcript snapshots: presigned URLs on the engine itself (production
 * presigns object storage), signed with a key derived from the secret key,
 * and the paged transcript read that renders a chat's history.
 */
export function snapshotRoutes(engine: EngineContext): Route[] {
  const { store, data, auth } = engine;
  const objectKey = createHmac("sha256", engine.secretKey).update("local-trigger object urls").digest();
  const signObject = (method: string, id: string, expires: number) =>
    createHmac("sha256", objectKey).update(`${method}\n${id}\n${expires}`).digest("base64url");

  async function snapshotUrl({ request, url, basePath, params }: RouteContext) {
    await auth.requireSecretKey(request);
    const session = store.requireWithData(params[0]!);
    const method = request.method === "PUT" ? "PUT" : "GET";
    const expires = Date.now() + PRESIGN_TTL_MS;
    const target = new URL(`${basePath}/local/v1/objects/snapshots/${session.friendlyId}`, url.origin);
    target.searchParams.set("method", method);
    target.searchParams.set("expires", String(expires));
    target.searchParams.set("signature", signObject(method, session.friendlyId, expires));
    return json(200, { presignedUrl: target.href });
  }

  async function snapshotObject({ request, url, params }: RouteContext) {
    const id = params[0]!;
    const method = request.method === "PUT" ? "PUT" : "GET";
    const expires = Number(url.searchParams.get("expires"));
    const signature = Buffer.from(url.searchParams.get("signature") ?? "");
    const expected = Buffer.from(signObject(method, id, expires));
    if (
      url.searchParams.get("method") !== method ||
      signature.length !== expected.length ||
      !timingSafeEqual(signature, expected)
    ) {
      throw new HttpError(403, { error: "Invalid object signature" });
    }
    if (!(expires > Date.now())) throw new HttpError(403, { error: "Object URL has expired" });
    const session = store.requireWithData(id);
    if (method === "PUT") {
      const blob = await readBody(request, BODY_LIMITS.snapshot);
      if (!isIntactSnapshot(blob)) throw badRequest("Not a transcript snapshot");
      // Deleted while the body arrived: nothing of it may be written again.
      store.requireWithData(id);
      data.writeSnapshot(session.friendlyId, blob);
      return new Response(null, { status: 200 });
    }
    const blob = data.readSnapshot(session.friendlyId);
    if (blob === undefined) throw notFound("No snapshot yet");
    return new Response(blob, {
      status: 200,
      headers: { "Content-Type": "application/vnd.trigger.transcript+ndjson" },
    });
  }

  async function transcript({ request, url, params }: RouteContext) {
    await auth.requireSecretKey(request);
    const session = store.requireWithData(params[0]!);
    const limitParam = url.searchParams.get("limit");
    const before = url.searchParams.get("before") ?? undefined;
    if (limitParam !== null && !/^[1-9]\d{0,5}$/.test(limitParam)) throw badRequest("limit must be a positive integer");
    const blob = data.readSnapshot(session.friendlyId);
    const snapshot = blob === undefined ? undefined : parseTranscriptBlob(blob);
    if (!snapshot) return json(200, { messages: [] });
    const page = pageTranscriptEntries(snapshot.messages, {
      limit: limitParam === null ? undefined : Number(limitParam),
      before,
    });
    return json(200, {
      messages: page.entries.map((entry) => entry.message),
      cursors: { lastOutEventId: snapshot.lastOutEventId, lastInEventId: snapshot.lastInEventId },
      ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}),
    });
  }

  return [
    { method: "GET", pattern: new RegExp(`^/api/v1/sessions/${SESSION}/snapshot-url$`), handler: snapshotUrl },
    { method: "PUT", pattern: new RegExp(`^/api/v1/sessions/${SESSION}/snapshot-url$`), handler: snapshotUrl },
    { method: "GET", pattern: new RegExp(`^/api/v1/sessions/${SESSION}/transcript$`), handler: transcript },
    { method: "GET", pattern: OBJECT, handler: snapshotObject },
    { method: "PUT", pattern: OBJECT, handler: snapshotObject },
  ];
}
