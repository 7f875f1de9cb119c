import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ErrorCode } from "../../src/protocol/index.js";
import { ChatError } from "../../src/core/errors.js";
import { UserRegistry } from "../../src/core/user-registry.js";

function refusedWith(code: ErrorCode, f: () => unknown): string {
  try {
    f();
  } catch (err) {
    assert.ok(err instanceof ChatError, String(err));
    assert.equal(err.code, code);
    return err.message;
  }
  assert.fail(`expected ${code}`);
}

describe("UserRegistry", () => {
  it("stores the NFKC form of a name and returns it", () => {
    const users = new UserRegistry(32);
    const id = users.register();
    assert.equal(users.rename(id, id, "Ａｌｉｃｅ"), "Alice");
    assert.equal(users.rename(id, "Alice", "Jose\u0301"), "José");
  });

  it("refuses an invalid name with NAME_INVALID and the reason", () => {
    const users = new UserRegistry(32);
    const id = users.register();
    const message = refusedWith(ErrorCode.NAME_INVALID, () => users.rename(id, id, "pаypal"));
    assert.equal(message, "invalid name: mixes scripts (Latin and Cyrillic)");
    refusedWith(ErrorCode.NAME_INVALID, () => users.rename(id, id, "a\u202Eb"));
  });

  it("refuses a name another user holds in another case, or as a lookalike, with NAME_TAKEN", () => {
    const users = new UserRegistry(32);
    const a = users.register();
    const b = users.register();
    users.rename(a, a, "alice");
    users.rename(b, b, "pope");
    const c = users.register();
    refusedWith(ErrorCode.NAME_TAKEN, () => users.rename(c, c, "ALICE"));
    refusedWith(ErrorCode.NAME_TAKEN, () => users.rename(c, c, "роре")); // Cyrillic
    refusedWith(ErrorCode.NAME_TAKEN, () => users.rename(c, c, "ＰＯＰＥ"));
    const d = users.register(); // a default name is the user id, in the same namespace
    refusedWith(ErrorCode.NAME_TAKEN, () => users.rename(c, c, d.toUpperCase()));
    assert.equal(users.rename(c, c, "carol"), "carol");
  });

  it("lets a user change the case of its own name", () => {
    const users = new UserRegistry(32);
    const a = users.register();
    users.rename(a, a, "νο");
    assert.equal(users.rename(a, "νο", "ΝΟ"), "ΝΟ");
  });

  it("frees every key of the old name on rename and on release", () => {
    const users = new UserRegistry(32);
    const a = users.register();
    const b = users.register();
    users.rename(a, a, "νο"); // Greek: clashes with "vo" and "no"
    refusedWith(ErrorCode.NAME_TAKEN, () => users.rename(b, b, "vo"));
    refusedWith(ErrorCode.NAME_TAKEN, () => users.rename(b, b, "NO"));
    users.rename(a, "νο", "alpha");
    assert.equal(users.rename(b, b, "vo"), "vo");
    users.release(b, "vo");
    assert.equal(users.rename(a, "alpha", "NO"), "NO");
    refusedWith(ErrorCode.NAME_TAKEN, () => users.rename(users.register(), "x", "no"));
    users.release(a, "NO");
    const c = users.register();
    assert.equal(users.rename(c, c, "no"), "no");
    assert.equal(users.size, 2);
  });
});
