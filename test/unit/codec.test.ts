import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { decodeCommand, DecodeError, EncodedEvent } from "../../src/protocol/index.js";

describe("decodeCommand", () => {
  it("decodes every original command with its exact field names", () => {
    assert.deepEqual(decodeCommand('{"_ct":"join_room","r":"rust"}'), {
      _ct: "join_room",
      r: "rust",
    });
    assert.deepEqual(decodeCommand('{"_ct":"leave_room","r":"rust"}'), {
      _ct: "leave_room",
      r: "rust",
    });
    assert.deepEqual(decodeCommand('{"_ct":"send_message","r":"rust","c":"hi"}'), {
      _ct: "send_message",
      r: "rust",
      c: "hi",
    });
    assert.deepEqual(decodeCommand('{"_ct":"quit"}'), { _ct: "quit" });
  });

  it("ignores unknown extra fields, as the original's decoder does", () => {
    assert.deepEqual(decodeCommand('{"_ct":"join_room","r":"x","extra":[1]}'), {
      _ct: "join_room",
      r: "x",
    });
  });

  it("returns a coded error for bad JSON, a non-command, an unknown command and a bad field", () => {
    const code = (s: string): string => {
      const r = decodeCommand(s);
      return r instanceof DecodeError ? r.code : "ok";
    };
    assert.equal(code("{"), "BAD_JSON");
    assert.equal(code("null"), "BAD_COMMAND");
    assert.equal(code('{"_ct":5}'), "BAD_COMMAND");
    assert.equal(code('{"_ct":"nope"}'), "UNKNOWN_COMMAND");
    assert.equal(code('{"_ct":"send_message","r":"x","c":1}'), "BAD_COMMAND");
    assert.equal(code('{"_ct":"send_message","r":"x","c":"y","cid":2}'), "BAD_COMMAND");
  });
});

describe("EncodedEvent", () => {
  it("encodes once and frames the same text for lines and length prefixes", () => {
    const e = new EncodedEvent({ _et: "user_message", r: "a", u: "b", c: "ü" });
    assert.equal(Buffer.from(e.line).toString("utf8"), e.json + "\r\n");
    assert.equal(e.line.length, Buffer.byteLength(e.json) + 2); // UTF-8 bytes, not characters
    assert.equal(e.line, e.line); // cached: the same Buffer for every recipient
    const lp = e.lengthPrefixed;
    assert.equal(Buffer.from(lp).readUInt32BE(0), Buffer.byteLength(e.json));
    assert.equal(Buffer.from(lp.subarray(4)).toString(), e.json);
    assert.equal(e.extension, false);
    assert.equal(new EncodedEvent({ _et: "pong", ts: 1 }).extension, true);
  });
});
