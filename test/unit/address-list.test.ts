import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { parseAddressList } from "../../clients/lib/address.js";
import { ClientError } from "../../clients/lib/errors.js";

describe("parseAddressList", () => {
  it("reads the servers of a cluster, in order, separated by commas and/or spaces", () => {
    assert.deepEqual(parseAddressList("127.0.0.1:8080,lp://[::1]:9082 , ws://b:9081/ws  c"), [
      { kind: "tcp", host: "127.0.0.1", port: 8080 },
      { kind: "lp", host: "::1", port: 9082 },
      { kind: "ws", url: "ws://b:9081/ws" },
      { kind: "tcp", host: "c", port: 8080 },
    ]);
  });

  it("refuses an empty list and names a bad address, with BAD_ADDRESS", () => {
    for (const [text, why] of [
      [" , ", /no server address/],
      ["a:1,b:99999", /"b:99999": port must be 1-65535/],
    ] as const) {
      assert.throws(
        () => parseAddressList(text),
        (err: unknown) =>
          err instanceof ClientError && err.code === "BAD_ADDRESS" && why.test(err.message),
      );
    }
  });
});
