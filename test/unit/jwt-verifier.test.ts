import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { SignJWT } from "jose";
import { JwtVerifier } from "../../src/auth/jwt-verifier.js";
import { AuthError, ChatServer, CounterMetrics } from "../../src/core/index.js";
import { ManualClock } from "../helpers/manual-clock.js";
import { MemoryConnection } from "../helpers/memory-connection.js";

const secret = new TextEncoder().encode("unit-test-secret-unit-test-secret-0123");
const DAY_MS = 24 * 60 * 60 * 1000;

/** Signs any claims, ill-typed ones included (what a careless issuer might send). */
function sign(claims: Record<string, unknown>, expAtMs?: number): Promise<string> {
  const jwt = new SignJWT(claims).setProtectedHeader({ alg: "HS256" });
  if (expAtMs !== undefined) jwt.setExpirationTime(Math.floor(expAtMs / 1000));
  return jwt.sign(secret);
}

async function reason(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof AuthError, `not an AuthError: ${String(err)}`);
    return err.reason;
  }
  return "accepted";
}

describe("JwtVerifier", () => {
  const verifier = new JwtVerifier({ secret, clockToleranceMs: 30_000 });

  it("maps sub, name, rooms and exp (plus the tolerance) to the Identity", async () => {
    const exp = Date.now() + 3_600_000;
    const id = await verifier.verify(
      await sign({ sub: "u1", name: "Ann", rooms: { read: ["a", "b"], write: ["a"] } }, exp),
    );
    assert.deepEqual(id, {
      subject: "u1",
      name: "Ann",
      readRooms: ["a", "b"],
      writeRooms: ["a"],
      expiresAt: Math.floor(exp / 1000) * 1000 + 30_000,
    });
  });

  it('treats an absent rooms claim, an absent list and "*" as every room', async () => {
    assert.deepEqual(await verifier.verify(await sign({ sub: "u1" })), { subject: "u1" });
    const id = await verifier.verify(await sign({ sub: "u1", rooms: { read: ["*", "a"] } }));
    assert.equal(id.readRooms, undefined);
    assert.equal(id.writeRooms, undefined);
    const readOnly = await verifier.verify(await sign({ sub: "u1", rooms: { write: [] } }));
    assert.deepEqual(readOnly.writeRooms, []);
  });

  it("refuses bad claim shapes with reason claims", async () => {
    for (const claims of [
      { sub: "" },
      { sub: 42 },
      { sub: "x".repeat(257) },
      { sub: "u1", name: 7 },
      { sub: "u1", rooms: "*" },
      { sub: "u1", rooms: { read: "a" } },
      { sub: "u1", rooms: { write: ["a", 1] } },
    ]) {
      assert.equal(
        await reason(verifier.verify(await sign(claims))),
        "claims",
        JSON.stringify(claims),
      );
    }
  });

  it("accepts an expired token within the clock tolerance only", async () => {
    const now = Date.now();
    assert.equal(await reason(verifier.verify(await sign({ sub: "u" }, now - 10_000))), "accepted");
    assert.equal(await reason(verifier.verify(await sign({ sub: "u" }, now - 60_000))), "expired");
  });

  it("will not be made without a key or with a short secret", () => {
    assert.throws(() => new JwtVerifier({}), /needs a secret or a JWKS/);
    assert.throws(() => new JwtVerifier({ secret: new Uint8Array(16) }), /at least 32 bytes/);
  });
});

/** Node fires a timer longer than 2^31 - 1 ms at once (TimeoutOverflowWarning): refused here. */
class NodeLimitedClock extends ManualClock {
  override setTimeout(fn: () => void, ms: number): unknown {
    if (ms > 2 ** 31 - 1) throw new Error(`a ${ms} ms timer would fire at once in Node`);
    return super.setTimeout(fn, ms);
  }
}

describe("token expiry of a session", () => {
  it("ends a session whose token expires in 40 days then, with no timer beyond Node's 24.8-day limit", async () => {
    const clock = new NodeLimitedClock();
    const metrics = new CounterMetrics();
    const chat = new ChatServer({
      rooms: [{ name: "a", description: "room a" }],
      clock,
      metrics,
      auth: {
        mode: "required",
        verifier: new JwtVerifier({ secret, clockToleranceMs: 0, now: () => clock.now() }),
      },
      limits: { firstCommandTimeoutMs: 0, idleTimeoutMs: 0 },
    });
    await chat.start();
    const conn = new MemoryConnection();
    const tok = await sign({ sub: "u-long" }, clock.now() + 40 * DAY_MS);
    const session = (await chat.accept(conn, { authorization: `Bearer ${tok}` }))!;
    assert.equal(session.ctx.principal, "u-long");
    assert.equal(metrics.authSuccesses, 1);
    clock.advance(30 * DAY_MS);
    assert.equal(session.closed, false);
    clock.advance(10 * DAY_MS - 2_000);
    assert.equal(session.closed, false);
    clock.advance(2_000);
    assert.equal(session.closed, true);
    assert.equal(conn.closedWith?.code, "UNAUTHORIZED");
    assert.equal(metrics.closedBy.get("UNAUTHORIZED"), 1);
    await chat.stop();
  });
});
