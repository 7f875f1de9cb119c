import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { FrameError } from "../../src/protocol/index.js";
import { MessageFramer } from "../../src/transports/message-framer.js";
import { closeReason, closeStatus, refusalStatus } from "../../src/transports/ws-close-codes.js";

describe("MessageFramer", () => {
  it("returns whole messages and queued errors in arrival order, then undefined", () => {
    const f = new MessageFramer();
    f.push(Buffer.from('{"_ct":"quit"}'));
    f.pushError(new FrameError("FRAME_TOO_LARGE", "too big", true));
    f.push(Buffer.from("héllo"));
    assert.equal(f.buffered, 14 + 6);
    assert.equal(f.next(), '{"_ct":"quit"}');
    assert.ok(f.next() instanceof FrameError);
    assert.equal(f.next(), "héllo");
    assert.equal(f.next(), undefined);
    assert.equal(f.buffered, 0);
  });

  it("reports invalid UTF-8 as a non-fatal BAD_ENCODING", () => {
    const f = new MessageFramer();
    f.push(new Uint8Array([0xff, 0xfe]));
    const e = f.next();
    assert.ok(e instanceof FrameError);
    assert.equal(e.code, "BAD_ENCODING");
    assert.equal(e.fatal, false);
  });
});

describe("WebSocket close codes", () => {
  it("maps disconnect codes to 4000+ statuses, QUIT to 1000, refusals to 1013/1008", () => {
    assert.equal(closeStatus("QUIT"), 1000);
    assert.equal(closeStatus("SLOW_CONSUMER"), 4002);
    assert.equal(closeStatus("PEER_CLOSED"), 1000);
    assert.equal(refusalStatus("SERVER_FULL"), 1013);
    assert.equal(refusalStatus("SERVER_SHUTDOWN"), 1013);
    assert.equal(refusalStatus("UNAUTHORIZED"), 1008);
  });

  it("cuts a close reason to 123 bytes without splitting a character", () => {
    const r = closeReason("é".repeat(100));
    assert.ok(Buffer.byteLength(r) <= 123);
    assert.equal(r, "é".repeat(61));
  });
});
