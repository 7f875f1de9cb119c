/**
 * A tiny real TokenVerifier for tests: HS256 JWTs checked with jose, claims `sub`, `name` and
 * `wr` (write rooms). The production verifier lives in src/auth/; this one only lets the device
 * tests run real tokens through the port.
 */
import { jwtVerify, SignJWT } from "jose";
import type { Identity, TokenVerifier } from "../../src/core/index.js";

export class Hs256Verifier implements TokenVerifier {
  private readonly key: Uint8Array;

  constructor(secret: string) {
    this.key = new TextEncoder().encode(secret);
  }

  async verify(token: string): Promise<Identity> {
    let payload;
    try {
      ({ payload } = await jwtVerify(token, this.key, { algorithms: ["HS256"] }));
    } catch (err) {
      throw Object.assign(new Error(`bad token: ${String(err)}`), { reason: "bad_signature" });
    }
    if (typeof payload.sub !== "string") {
      throw Object.assign(new Error("no subject"), { reason: "claims" });
    }
    const wr = payload.wr;
    return {
      subject: payload.sub,
      ...(typeof payload.name === "string" && { name: payload.name }),
      ...(Array.isArray(wr) && {
        writeRooms: wr.filter((r): r is string => typeof r === "string"),
      }),
    };
  }
}

/** Signs an HS256 token with `secret` for `sub`, valid for an hour. */
export function signToken(
  secret: string,
  sub: string,
  claims: { name?: string; wr?: string[] } = {},
): Promise<string> {
  return new SignJWT({ ...claims })
    .setProtectedHeader({ alg: "HS256" })
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime("1h")
    .sign(new TextEncoder().encode(secret));
}
