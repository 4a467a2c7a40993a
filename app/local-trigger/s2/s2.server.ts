import { createHmac, timingSafeEqual } from "node:crypto";
import type http2 from "node:http2";
import { z } from "zod";
import { readBodyBytes } from "../http/body.server";
import { HttpError, json, NO_RETRY } from "../http/errors.server";
import type { Route, RouteContext } from "../http/router.server";
import { type OutRecord, type SessionRuns, TRIM_COMMAND } from "../sessions/session-runs.server";
import type { Session, SessionStore } from "../sessions/session-store.server";
import {
  appendAckJson,
  decodeAppendInput,
  encodeAppendAck,
  FrameReader,
  frame,
  type S2Ack,
  type S2Record,
} from "./wire.server";

/** The basin every session stream lives in; S2 requires 8 to 48 lowercase letters, digits and hyphens. */
export const S2_BASIN = "local-trigger";
/** Where the emulated S2 API is served, on the engine's own origin. */
const S2_PATH = "/s2";
const RECORDS = /^\/s2\/streams\/([^/?]+)\/records$/;
/** Long enough for any run; a writer whose token expired re-initializes on its next write. */
const TOKEN_TTL_SECONDS = 24 * 60 * 60;
/**
 * How long the SDK's writer batches records before it sends them. S2's SDK
 * defaults to 5 ms; the writer itself to 200 ms, which would hold every
 * streamed word back that long.
 */
const FLUSH_INTERVAL_MS = 5;
/** S2 caps an append at 1,000 records and 1 MiB of metered bytes; the framing adds a little. */
const MAX_RECORDS_PER_APPEND = 1000;
const MAX_APPEND_BYTES = 1024 * 1024 + 64 * 1024;

type Target = { session: Session; channel?: string };

const s2Error = (status: number, code: string, message: string) =>
  new HttpError(
    status,
    { code, message, error: message },
    status === 401 || status === 403 || status === 404 ? NO_RETRY : {},
  );

const JsonAppendInput = z.strictObject({
  records: z.array(
    z.strictObject({
      body: z.string().optional(),
      headers: z.array(z.tuple([z.string(), z.string()])).optional(),
      timestamp: z.number().int().nonnegative().optional(),
    }),
  ),
  match_seq_num: z.number().int().nonnegative().optional(),
  fencing_token: z.string().optional(),
});

/**
 * The subset of S2's API that the SDK's session output writer uses, so a
 * backend holding the secret key writes `.out` (a side channel's too) through
 * the unmodified SDK: `PUT /realtime/v1/sessions/:id/out` hands out
 * credentials for one stream (`credentialsFor`), and the writer then appends
 * to `POST /s2/streams/:name/records`, as JSON or protobuf over HTTP/1 for one
 * batch (control records, trims) and as an s2s append session over HTTP/2 for
 * piped output. Records land in the same logs that subscribers read.
 */
export class S2Emulation {
  constructor(
    private readonly options: { store: SessionStore; sessionRuns: SessionRuns; secretKey: string; apiURL: string },
  ) {}

  /** The headers of `PUT …/out`: what the SDK's `SessionStreamInstance` reads. */
  credentialsFor(session: Session, channel: string | undefined): Record<string, string> {
    const stream = streamNameOf(session, channel);
    return {
      "x-s2-access-token": this.mint(stream),
      "x-s2-basin": S2_BASIN,
      "x-s2-stream-name": stream,
      "x-s2-endpoint": `${this.options.apiURL}${S2_PATH}`,
      "x-s2-flush-interval-ms": String(FLUSH_INTERVAL_MS),
    };
  }

  routes(): Route[] {
    return [{ method: "POST", pattern: RECORDS, handler: (context) => this.appendOnce(context) }];
  }

  /** One append over HTTP/1: JSON in and out, or protobuf (the SDK sends trims so). */
  private async appendOnce({ request, params }: RouteContext) {
    const target = this.authorize(request.headers.get("authorization"), request.headers.get("s2-basin"), params[0]!);
    const body = await readBodyBytes(request, MAX_APPEND_BYTES);
    const protobuf = request.headers.get("content-type")?.startsWith("application/protobuf") ?? false;
    const records = protobuf ? decodeProtobuf(body) : decodeJson(body);
    const ack = this.append(target, records);
    if (request.headers.get("accept")?.includes("application/protobuf")) {
      return new Response(encodeAppendAck(ack), { headers: { "Content-Type": "application/protobuf" } });
    }
    return json(200, appendAckJson(ack));
  }

  /** An s2s append session over HTTP/2: a frame with an `AppendInput` in, a frame with its `AppendAck` out, in order. */
  handleHttp2Stream(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) {
    const refuse = (error: unknown) => {
      const { status, body } =
        error instanceof HttpError
          ? error
          : { status: 500, body: { code: "internal", message: "Internal error in the local engine" } };
      if (stream.headersSent) {
        stream.end(frame(Buffer.from(JSON.stringify(body)), status));
      } else {
        stream.respond({ ":status": status, "content-type": "application/json" });
        stream.end(JSON.stringify(body));
      }
    };
    stream.on("error", () => stream.destroy());
    let target: Target;
    try {
      const path = String(headers[":path"] ?? "");
      const match = headers[":method"] === "POST" ? RECORDS.exec(path) : null;
      if (!match) throw s2Error(404, "not_found", `No route for ${headers[":method"]} ${path}`);
      if (headers["content-type"] !== "s2s/proto") throw s2Error(415, "invalid", "Append sessions must be s2s/proto");
      target = this.authorize(
        headerValue(headers.authorization),
        headerValue(headers["s2-basin"]),
        decodeURIComponent(match[1]!),
      );
    } catch (error) {
      refuse(error);
      return;
    }
    stream.respond({ ":status": 200, "content-type": "s2s/proto" });
    const frames = new FrameReader();
    stream.on("data", (chunk: Buffer) => {
      try {
        frames.push(chunk);
        for (let body = frames.next(); body; body = frames.next()) {
          stream.write(frame(encodeAppendAck(this.append(target, decodeProtobuf(body)))));
        }
      } catch (error) {
        refuse(error);
      }
    });
    stream.on("end", () => {
      if (!stream.closed) stream.end();
    });
  }

  private append(target: Target, records: S2Record[]): S2Ack {
    if (records.length === 0) throw s2Error(422, "invalid", "An append needs at least one record");
    if (records.length > MAX_RECORDS_PER_APPEND) {
      throw s2Error(422, "invalid", `An append takes at most ${MAX_RECORDS_PER_APPEND} records`);
    }
    const { session, channel } = target;
    if (this.options.store.isPurged(session)) throw s2Error(404, "stream_not_found", "Stream not found");
    const { start, end } = this.options.sessionRuns.appendOut(session, channel, records.map(toOutRecord));
    return { start, end, timestamp: Date.now() };
  }

  private mint(stream: string) {
    const expires = Math.floor(Date.now() / 1000) + TOKEN_TTL_SECONDS;
    const streamPart = Buffer.from(stream).toString("base64url");
    return `s2local.${expires}.${streamPart}.${this.sign(stream, expires)}`;
  }

  private sign(stream: string, expires: number) {
    return createHmac("sha256", this.options.secretKey).update(`s2-append\n${stream}\n${expires}`).digest("base64url");
  }

  /** The stream a token may append to, if it was minted here, is unexpired, and names the stream in the URL. */
  private authorize(
    authorization: string | null | undefined,
    basin: string | null | undefined,
    streamName: string,
  ): Target {
    const token = authorization?.match(/^Bearer\s+(\S+)\s*$/i)?.[1];
    if (!token) throw s2Error(401, "unauthenticated", "Missing access token");
    const [scheme, expiresText, streamPart, signature] = token.split(".");
    const expires = Number(expiresText);
    const tokenStream = streamPart ? Buffer.from(streamPart, "base64url").toString() : "";
    if (
      scheme !== "s2local" ||
      !Number.isSafeInteger(expires) ||
      !signature ||
      !sameText(signature, this.sign(tokenStream, expires))
    ) {
      throw s2Error(401, "unauthenticated", "Invalid access token");
    }
    if (expires * 1000 <= Date.now()) throw s2Error(401, "unauthenticated", "Access token has expired");
    if (tokenStream !== streamName) throw s2Error(403, "permission_denied", "The access token is for another stream");
    if (basin && basin !== S2_BASIN) throw s2Error(404, "basin_not_found", `Basin "${basin}" not found`);
    const parsed = /^sessions\/([^/]+)\/(?:channels\/([^/]+)\/)?out$/.exec(streamName);
    const session = parsed ? this.options.store.resolve(parsed[1]!) : undefined;
    if (!session || this.options.store.isPurged(session)) throw s2Error(404, "stream_not_found", "Stream not found");
    return { session, channel: parsed?.[2] };
  }
}

const streamNameOf = (session: Session, channel: string | undefined) =>
  channel ? `sessions/${session.friendlyId}/channels/${channel}/out` : `sessions/${session.friendlyId}/out`;

const headerValue = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);

function sameText(a: string, b: string) {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

function decodeProtobuf(bytes: Uint8Array): S2Record[] {
  try {
    return decodeAppendInput(bytes);
  } catch {
    throw s2Error(422, "invalid", "The body is not a valid s2.v1.AppendInput");
  }
}

function decodeJson(bytes: Buffer): S2Record[] {
  let parsed: z.infer<typeof JsonAppendInput>;
  try {
    parsed = JsonAppendInput.parse(JSON.parse(bytes.toString("utf8")));
  } catch {
    throw s2Error(
      422,
      "invalid",
      'The body must be an AppendInput: {"records":[{"body":"…","headers":[["name","value"]]}]}',
    );
  }
  if (parsed.match_seq_num !== undefined || parsed.fencing_token !== undefined) {
    throw s2Error(422, "invalid", "This engine does not support match_seq_num or fencing_token");
  }
  return parsed.records.map(({ body = "", headers = [] }) => ({ body, headers, bodyBytes: Buffer.from(body) }));
}

/** S2 command records have one header with an empty name; the engine keeps trims (applied later) and refuses others. */
function toOutRecord(record: S2Record): OutRecord {
  const command = record.headers[0]?.[0] === "" ? record.headers[0][1] : undefined;
  if (command === undefined) return { body: record.body, headers: record.headers };
  if (command !== "trim" || record.bodyBytes.length !== 8) {
    throw s2Error(422, "invalid", `Unsupported command record "${command}"`);
  }
  const trimTo = Number(Buffer.from(record.bodyBytes).readBigUInt64BE(0));
  return { ...TRIM_COMMAND, trimTo };
}
