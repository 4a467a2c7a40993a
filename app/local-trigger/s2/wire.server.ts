import { MessageType, ScalarType, LongType, RepeatType } from "@protobuf-ts/runtime";

/*
 * The part of S2's wire format that `@s2-dev/streamstore` 0.25 uses to
 * append: the protobuf messages of `s2.v1` (field numbers as in its
 * generated `proto/s2.js`), and the s2s framing it streams them in over
 * HTTP/2 (`lib/stream/transport/s2s/framing.js`).
 */

type ProtoHeader = { name: Uint8Array; value: Uint8Array };
type ProtoRecord = { timestamp?: bigint; headers: ProtoHeader[]; body: Uint8Array };
type ProtoPosition = { seqNum: bigint; timestamp: bigint };

const Header = new MessageType<ProtoHeader>("s2.v1.Header", [
  { no: 1, name: "name", kind: "scalar", T: ScalarType.BYTES },
  { no: 2, name: "value", kind: "scalar", T: ScalarType.BYTES },
]);
const AppendRecord = new MessageType<ProtoRecord>("s2.v1.AppendRecord", [
  { no: 1, name: "timestamp", kind: "scalar", opt: true, T: ScalarType.UINT64, L: LongType.BIGINT },
  { no: 2, name: "headers", kind: "message", repeat: RepeatType.UNPACKED, T: () => Header },
  { no: 3, name: "body", kind: "scalar", T: ScalarType.BYTES },
]);
export const AppendInput = new MessageType<{ records: ProtoRecord[]; matchSeqNum?: bigint; fencingToken?: string }>(
  "s2.v1.AppendInput",
  [
    { no: 1, name: "records", kind: "message", repeat: RepeatType.UNPACKED, T: () => AppendRecord },
    { no: 2, name: "match_seq_num", kind: "scalar", opt: true, T: ScalarType.UINT64, L: LongType.BIGINT },
    { no: 3, name: "fencing_token", kind: "scalar", opt: true, T: ScalarType.STRING },
  ],
);
const StreamPosition = new MessageType<ProtoPosition>("s2.v1.StreamPosition", [
  { no: 1, name: "seq_num", kind: "scalar", T: ScalarType.UINT64, L: LongType.BIGINT },
  { no: 2, name: "timestamp", kind: "scalar", T: ScalarType.UINT64, L: LongType.BIGINT },
]);
const AppendAck = new MessageType<{ start?: ProtoPosition; end?: ProtoPosition; tail?: ProtoPosition }>(
  "s2.v1.AppendAck",
  [
    { no: 1, name: "start", kind: "message", T: () => StreamPosition },
    { no: 2, name: "end", kind: "message", T: () => StreamPosition },
    { no: 3, name: "tail", kind: "message", T: () => StreamPosition },
  ],
);

/** A record as the engine's logs keep it: a string body (bytes are kept as UTF-8) and string headers. */
export type S2Record = { body: string; headers: [string, string][]; bodyBytes: Uint8Array };
export type S2Ack = { start: number; end: number; timestamp: number };

const utf8 = new TextDecoder();

/** Decodes an `AppendInput` from protobuf bytes. */
export function decodeAppendInput(bytes: Uint8Array): S2Record[] {
  return AppendInput.fromBinary(bytes).records.map((record) => ({
    body: utf8.decode(record.body),
    bodyBytes: record.body,
    headers: record.headers.map(({ name, value }): [string, string] => [utf8.decode(name), utf8.decode(value)]),
  }));
}

export function encodeAppendAck({ start, end, timestamp }: S2Ack): Uint8Array<ArrayBuffer> {
  const at = BigInt(timestamp);
  return new Uint8Array(
    AppendAck.toBinary({
      start: { seqNum: BigInt(start), timestamp: at },
      end: { seqNum: BigInt(end), timestamp: at },
      tail: { seqNum: BigInt(end), timestamp: at },
    }),
  );
}

/** The JSON `AppendAck` of S2's REST API. */
export const appendAckJson = ({ start, end, timestamp }: S2Ack) => ({
  start: { seq_num: start, timestamp },
  end: { seq_num: end, timestamp },
  tail: { seq_num: end, timestamp },
});

const MAX_FRAME_BYTES = 2 * 1024 * 1024;
const TERMINAL = 0x80;
const COMPRESSION_BITS = 0x60;

/** One s2s frame: a 3-byte big-endian length (flag byte included), a flag byte, the body. */
export function frame(body: Uint8Array, terminalStatus?: number): Uint8Array {
  const payload =
    terminalStatus === undefined
      ? body
      : Buffer.concat([Buffer.from([terminalStatus >> 8, terminalStatus & 0xff]), body]);
  const length = payload.length + 1;
  const out = new Uint8Array(3 + length);
  out.set([(length >> 16) & 0xff, (length >> 8) & 0xff, length & 0xff, terminalStatus === undefined ? 0 : TERMINAL]);
  out.set(payload, 4);
  return out;
}

/** Splits an s2s byte stream into frame bodies; throws on what this engine does not accept. */
export class FrameReader {
  private buffer = Buffer.alloc(0);

  push(chunk: Uint8Array) {
    this.buffer = this.buffer.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.buffer, chunk]);
  }

  next(): Uint8Array | undefined {
    if (this.buffer.length < 4) return undefined;
    const length = (this.buffer[0]! << 16) | (this.buffer[1]! << 8) | this.buffer[2]!;
    if (length < 1 || length > MAX_FRAME_BYTES) throw new Error(`Invalid s2s frame length ${length}`);
    if (this.buffer.length < 3 + length) return undefined;
    const flag = this.buffer[3]!;
    if (flag & TERMINAL) throw new Error("Clients do not send terminal s2s frames");
    if (flag & COMPRESSION_BITS) throw new Error("Compressed s2s frames are not supported");
    const body = this.buffer.subarray(4, 3 + length);
    this.buffer = this.buffer.subarray(3 + length);
    return body;
  }
}
