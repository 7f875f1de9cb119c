import {
  createLocalJWKSet,
  errors,
  type JSONWebKeySet,
  type JWTPayload,
  jwtVerify,
  type JWTVerifyGetKey,
} from "jose";
import { AuthError, type Identity, type TokenVerifier } from "../core/index.js";

import { DEFAULT_CLOCK_TOLERANCE_MS, MIN_SECRET_BYTES } from "./jwt-limits.js";

export { DEFAULT_CLOCK_TOLERANCE_MS, MIN_SECRET_BYTES };

/** Longest `sub`, in characters; a subject is a stable user id, not a document. */
const MAX_SUBJECT_CHARS = 256;

/** The JWS algorithms accepted, by key kind; nothing else, never `none`. */
const SECRET_ALGS = ["HS256"] as const;
const JWKS_ALGS = ["RS256", "ES256"] as const;

export interface JwtVerifierOptions {
  /** HS256 shared secret, at least MIN_SECRET_BYTES long */
  secret?: Uint8Array;
  /** public keys for RS256 and ES256 tokens, picked by the token's `kid` (and `alg`) */
  jwks?: JSONWebKeySet;
  /** the `iss` a token must carry, if set */
  issuer?: string;
  /** the `aud` a token must be meant for, if set */
  audience?: string;
  /** default DEFAULT_CLOCK_TOLERANCE_MS */
  clockToleranceMs?: number;
  /** the current time, for tests; default the system clock */
  now?: () => number;
}

/**
 * Verifies JWTs (jose): HS256 with a shared secret, RS256/ES256 with a JSON Web Key Set, or
 * both (the token's `alg` picks the key). Claims:
 * - `sub` (required, 1 to 256 characters): the Identity's subject;
 * - `name` (optional string): the display name;
 * - `rooms` (optional): `{"read": [ROOM...], "write": [ROOM...]}`, each list optional; absent
 *   means every room, and a list holding `"*"` too;
 * - `exp` (optional, seconds): the Identity expires at `exp` + the clock tolerance, the last
 *   moment the token is accepted; a token without `exp` never expires;
 * - `iss`, `aud`: checked when configured; `nbf` when present.
 * Every refusal is an AuthError whose reason is expired, malformed, bad_signature or claims.
 */
export class JwtVerifier implements TokenVerifier {
  private readonly getKey: JWTVerifyGetKey;
  private readonly algorithms: string[];
  private readonly toleranceMs: number;

  constructor(private readonly options: JwtVerifierOptions) {
    const { secret, jwks } = options;
    if (secret === undefined && jwks === undefined) {
      throw new Error("a JWT verifier needs a secret or a JWKS");
    }
    if (secret !== undefined && secret.length < MIN_SECRET_BYTES) {
      throw new Error(`the HS256 secret must be at least ${MIN_SECRET_BYTES} bytes`);
    }
    const keySet = jwks === undefined ? undefined : createLocalJWKSet(jwks);
    this.algorithms = [
      ...(secret !== undefined ? SECRET_ALGS : []),
      ...(keySet !== undefined ? JWKS_ALGS : []),
    ];
    // jose checks `alg` against `algorithms` before asking for a key: only allowed ones get here.
    this.getKey = (header, token) => (header.alg === "HS256" ? secret! : keySet!(header, token));
    this.toleranceMs = options.clockToleranceMs ?? DEFAULT_CLOCK_TOLERANCE_MS;
  }

  /** the algorithms this verifier accepts, for logs */
  get accepted(): readonly string[] {
    return this.algorithms;
  }

  async verify(token: string): Promise<Identity> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.getKey, {
        algorithms: this.algorithms,
        clockTolerance: this.toleranceMs / 1000,
        ...(this.options.issuer !== undefined && { issuer: this.options.issuer }),
        ...(this.options.audience !== undefined && { audience: this.options.audience }),
        ...(this.options.now !== undefined && { currentDate: new Date(this.options.now()) }),
      }));
    } catch (err) {
      throw refusal(err);
    }
    return this.identity(payload);
  }

  private identity(payload: JWTPayload): Identity {
    const { sub, name, exp } = payload;
    if (typeof sub !== "string" || sub === "") throw new AuthError("claims", 'no "sub" claim');
    if (sub.length > MAX_SUBJECT_CHARS) {
      throw new AuthError("claims", `"sub" is longer than ${MAX_SUBJECT_CHARS} characters`);
    }
    if (name !== undefined && (typeof name !== "string" || name === "")) {
      throw new AuthError("claims", '"name" is not a non-empty string');
    }
    const rooms = roomClaims(payload.rooms);
    return {
      subject: sub,
      ...(name !== undefined && { name }),
      ...(rooms.read !== undefined && { readRooms: rooms.read }),
      ...(rooms.write !== undefined && { writeRooms: rooms.write }),
      ...(exp !== undefined && { expiresAt: exp * 1000 + this.toleranceMs }),
    };
  }
}

/** The `rooms` claim: `{"read"?: string[], "write"?: string[]}`; `"*"` in a list: every room. */
function roomClaims(claim: unknown): { read?: string[]; write?: string[] } {
  if (claim === undefined) return {};
  if (typeof claim !== "object" || claim === null || Array.isArray(claim)) {
    throw new AuthError("claims", '"rooms" is not an object {"read": [...], "write": [...]}');
  }
  const { read, write } = claim as { read?: unknown; write?: unknown };
  const list = (v: unknown, key: string): string[] | undefined => {
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || !v.every((r): r is string => typeof r === "string")) {
      throw new AuthError("claims", `"rooms.${key}" is not a list of room names`);
    }
    return v.includes("*") ? undefined : v;
  };
  const r = list(read, "read");
  const w = list(write, "write");
  return { ...(r !== undefined && { read: r }), ...(w !== undefined && { write: w }) };
}

/** jose's error as an AuthError with a stable reason (jose's messages never hold the token). */
function refusal(err: unknown): AuthError {
  if (err instanceof errors.JWTExpired) return new AuthError("expired", "the token has expired");
  if (err instanceof errors.JWTClaimValidationFailed) {
    return new AuthError("claims", `"${err.claim}" claim: ${err.message}`);
  }
  if (err instanceof errors.JOSEAlgNotAllowed) {
    return new AuthError("bad_signature", "the token's algorithm is not accepted");
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) {
    return new AuthError("bad_signature", "the signature does not verify");
  }
  if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys) {
    return new AuthError("bad_signature", "no single key matches the token");
  }
  return new AuthError(
    "malformed",
    err instanceof errors.JOSEError ? err.message : "the token is not a JWT",
  );
}
