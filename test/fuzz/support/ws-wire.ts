/**
 * RFC 6455 by hand, for fuzzing the WebSocket endpoint below any library: a client frame encoder
 * that can also build broken frames (unmasked, reserved bits, lying lengths), the opening
 * handshake, and a strict reader of what the server sends back.
 */
import assert from "node:assert/strict";
import { isUtf8 } from "node:buffer";
import { createHash, randomBytes } from "node:crypto";
import type { Event } from "../../../src/protocol/index.js";
import { decodeEvent } from "../../../src/protocol/index.js";
import { RawPeer } from "./raw-peer.js";

export const OP = { CONT: 0x0, TEXT: 0x1, BINARY: 0x2, CLOSE: 0x8, PING: 0x9, PONG: 0xa } as const;

export interface ClientFrame {
  /** default true */
  fin?: boolean;
  /** RSV1..RSV3 as a 3-bit number (0: clear, as without extensions) */
  rsv?: number;
  opcode: number;
  payload: Uint8Array;
  /** the 4-byte masking key; undefined sends the frame unmasked (forbidden from a client) */
  mask: Uint8Array | undefined;
  /** payload length written in the header when it is to differ from the payload's */
  announced?: bigint;
}

/** Encodes one client frame, masking the payload with the frame's key. */
export function encodeFrame(f: ClientFrame): Uint8Array {
  const len = f.announced ?? BigInt(f.payload.length);
  const head: number[] = [((f.fin ?? true) ? 0x80 : 0) | ((f.rsv ?? 0) << 4) | (f.opcode & 0x0f)];
  const maskBit = f.mask ? 0x80 : 0;
  if (len < 126n) head.push(maskBit | Number(len));
  else if (len < 65536n) head.push(maskBit | 126, Number(len >> 8n), Number(len & 0xffn));
  else {
    head.push(maskBit | 127);
    for (let shift = 56n; shift >= 0n; shift -= 8n) head.push(Number((len >> shift) & 0xffn));
  }
  const body = Uint8Array.from(f.payload);
  if (f.mask) for (let i = 0; i < body.length; i++) body[i]! ^= f.mask[i & 3]!;
  const out = new Uint8Array(head.length + (f.mask ? 4 : 0) + body.length);
  out.set(head, 0);
  if (f.mask) out.set(f.mask, head.length);
  out.set(body, head.length + (f.mask ? 4 : 0));
  return out;
}

/** A close frame payload: 2-byte status code, then the UTF-8 reason. */
export function closePayload(code: number, reason: Uint8Array = new Uint8Array(0)): Uint8Array {
  const out = new Uint8Array(2 + reason.length);
  new DataView(out.buffer).setUint16(0, code, false);
  out.set(reason, 2);
  return out;
}

/** Status codes a close frame may carry on the wire (RFC 6455 7.4). */
export function isValidCloseCode(code: number): boolean {
  return (
    (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) ||
    (code >= 3000 && code <= 4999)
  );
}

/**
 * Opens a WebSocket on `path` with a raw socket: sends the upgrade request, checks the 101 answer
 * and its Sec-WebSocket-Accept. Returns the peer and where the frames start in `peer.received`.
 */
export async function openRawWebSocket(
  port: number,
  path = "/ws",
): Promise<{ peer: RawPeer; framesAt: number }> {
  const peer = await RawPeer.connect(port);
  const key = randomBytes(16).toString("base64");
  peer.socket.write(
    `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\n` +
      `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  await peer.until("the upgrade response", () => peer.received.includes("\r\n\r\n"));
  const end = peer.received.indexOf("\r\n\r\n");
  const head = peer.received.subarray(0, end).toString("latin1");
  assert.match(head, /^HTTP\/1\.1 101 /);
  const accept = createHash("sha1")
    .update(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")
    .digest("base64");
  assert.match(
    head,
    new RegExp(`\r\nsec-websocket-accept: ${accept.replace(/[+/]/g, "\\$&")}`, "i"),
  );
  return { peer, framesAt: end + 4 };
}

/** What a server sent on one connection, read strictly. */
export interface ServerStream {
  events: Event[];
  /** payloads of the pong frames, in order */
  pongs: Buffer[];
  /** the close frame, if one arrived: its status (undefined when the payload is empty) and reason */
  close: { code: number | undefined; reason: string } | undefined;
  /** bytes of an incomplete frame at the end */
  partial: number;
}

/**
 * Reads server frames from `bytes`, asserting what RFC 6455 and Parley promise: frames unmasked,
 * reserved bits clear, no fragmentation, only text / close / ping / pong; every text frame valid
 * UTF-8 and a JSON event; a close frame with a valid status and a UTF-8 reason of at most 123
 * bytes, and nothing after it.
 */
export function readServerStream(bytes: Buffer): ServerStream {
  const out: ServerStream = { events: [], pongs: [], close: undefined, partial: 0 };
  let pos = 0;
  while (pos < bytes.length) {
    if (bytes.length - pos < 2) break;
    const b0 = bytes[pos]!;
    const b1 = bytes[pos + 1]!;
    let len = b1 & 0x7f;
    let at = pos + 2;
    if (len === 126) {
      if (bytes.length - at < 2) break;
      len = bytes.readUInt16BE(at);
      at += 2;
    } else if (len === 127) {
      if (bytes.length - at < 8) break;
      const big = bytes.readBigUInt64BE(at);
      assert.ok(big < 2n ** 32n, `server frame of ${big} bytes`);
      len = Number(big);
      at += 8;
    }
    if (bytes.length - at < len) break;
    const payload = bytes.subarray(at, at + len);
    pos = at + len;
    assert.equal(out.close, undefined, "a frame after the server's close frame");
    assert.equal(b1 & 0x80, 0, "a masked server frame");
    assert.equal(b0 & 0x70, 0, "reserved bits set on a server frame");
    assert.equal(b0 & 0x80, 0x80, "a fragmented server frame");
    const opcode = b0 & 0x0f;
    if (opcode === OP.TEXT) {
      assert.ok(isUtf8(payload), "a text frame that is not UTF-8");
      const ev = decodeEvent(payload.toString("utf8"));
      assert.ok(ev, `a text frame that is not an event: ${payload.toString("utf8")}`);
      out.events.push(ev);
    } else if (opcode === OP.CLOSE) {
      assert.notEqual(len, 1, "a close frame with a 1-byte payload");
      if (len === 0) out.close = { code: undefined, reason: "" };
      else {
        const code = payload.readUInt16BE(0);
        assert.ok(isValidCloseCode(code), `close status ${code}`);
        const reason = payload.subarray(2);
        assert.ok(isUtf8(reason) && reason.length <= 123, "a bad close reason");
        out.close = { code, reason: reason.toString("utf8") };
      }
    } else if (opcode === OP.PONG) {
      out.pongs.push(Buffer.from(payload));
    } else {
      assert.equal(opcode, OP.PING, `server frame opcode ${opcode}`);
    }
  }
  out.partial = bytes.length - pos;
  return out;
}
