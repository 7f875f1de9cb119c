import { readFile } from "node:fs/promises";
import type { JSONWebKeySet } from "jose";
import type { JwtVerifier } from "./jwt-verifier.js";

/** Where the verifier's keys come from (config.ts's auth settings). */
export interface JwtKeySettings {
  /** HS256 shared secret, as given */
  secret?: string | undefined;
  /** a file holding the HS256 secret (one trailing newline is not part of it) */
  secretFile?: string | undefined;
  /** a JSON Web Key Set file: public keys for RS256 and ES256 */
  jwksFile?: string | undefined;
  issuer?: string | undefined;
  audience?: string | undefined;
  clockToleranceMs: number;
}

/** Whether any key is configured (a verifier can be made). */
export function hasJwtKeys(s: JwtKeySettings): boolean {
  return s.secret !== undefined || s.secretFile !== undefined || s.jwksFile !== undefined;
}

/** Reads the key files and makes the verifier; throws with the file and the reason. */
export async function loadJwtVerifier(s: JwtKeySettings): Promise<JwtVerifier> {
  let secret: Uint8Array | undefined;
  if (s.secret !== undefined) secret = new TextEncoder().encode(s.secret);
  if (s.secretFile !== undefined) {
    const text = await readKeyFile(s.secretFile, "--jwt-secret-file");
    secret = new TextEncoder().encode(text.replace(/\r?\n$/, ""));
  }
  let jwks: JSONWebKeySet | undefined;
  if (s.jwksFile !== undefined) {
    const text = await readKeyFile(s.jwksFile, "--jwks");
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw new Error(`--jwks ${s.jwksFile}: not JSON (${(err as Error).message})`);
    }
    const keys = (parsed as { keys?: unknown } | null)?.keys;
    if (!Array.isArray(keys) || keys.length === 0) {
      throw new Error(`--jwks ${s.jwksFile}: not a JSON Web Key Set ({"keys": [...]}, not empty)`);
    }
    jwks = parsed as JSONWebKeySet;
  }
  // jose is loaded only by a server that verifies tokens.
  const { JwtVerifier } = await import("./jwt-verifier.js");
  try {
    return new JwtVerifier({
      ...(secret !== undefined && { secret }),
      ...(jwks !== undefined && { jwks }),
      ...(s.issuer !== undefined && { issuer: s.issuer }),
      ...(s.audience !== undefined && { audience: s.audience }),
      clockToleranceMs: s.clockToleranceMs,
    });
  } catch (err) {
    throw new Error(`token verification: ${(err as Error).message}`);
  }
}

async function readKeyFile(path: string, flag: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    throw new Error(`${flag} ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}
