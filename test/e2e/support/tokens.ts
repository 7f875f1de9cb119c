import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { exportJWK, generateKeyPair, type JWTPayload, SignJWT } from "jose";

/** The HS256 secret the auth tests' servers share with them (at least 32 bytes). */
export const SECRET = "parley-test-secret-0123456789-abcdefghij";
const secretKey = new TextEncoder().encode(SECRET);

export interface TokenOptions {
  /** default "u-alice"; null: no sub claim */
  sub?: string | null;
  /** seconds since the epoch; default an hour from now; null: no exp claim */
  exp?: number | null;
  /** default HS256 with SECRET */
  alg?: "HS256" | "HS512";
  key?: Uint8Array;
  claims?: JWTPayload;
}

/** Signs a JWT with the shared secret (or another HMAC key: a wrong signature). */
export function hsToken(o: TokenOptions = {}): Promise<string> {
  const jwt = new SignJWT({ ...o.claims }).setProtectedHeader({ alg: o.alg ?? "HS256" });
  if (o.sub !== null) jwt.setSubject(o.sub ?? "u-alice");
  if (o.exp !== null) jwt.setExpirationTime(o.exp ?? Math.floor(Date.now() / 1000) + 3600);
  return jwt.sign(o.key ?? secretKey);
}

/** An unsigned token (`alg: none`), which no server may accept. */
export function noneToken(sub = "u-alice"): string {
  const b64 = (o: object): string => Buffer.from(JSON.stringify(o)).toString("base64url");
  return `${b64({ alg: "none", typ: "JWT" })}.${b64({ sub, exp: Math.floor(Date.now() / 1000) + 3600 })}.`;
}

/** An ES256 key pair with its public key in a JWKS file (kid "k1") written to `dir`. */
export async function es256Jwks(dir: string): Promise<{
  file: string;
  sign: (claims: JWTPayload & { sub?: string }, kid?: string) => Promise<string>;
}> {
  const { publicKey, privateKey } = await generateKeyPair("ES256");
  const jwk = { ...(await exportJWK(publicKey)), kid: "k1", alg: "ES256", use: "sig" };
  const file = join(dir, "jwks.json");
  writeFileSync(file, JSON.stringify({ keys: [jwk] }));
  return {
    file,
    sign: (claims, kid = "k1") =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: "ES256", kid })
        .setExpirationTime(Math.floor(Date.now() / 1000) + 3600)
        .sign(privateKey),
  };
}

/** The value of one Prometheus series in a /metrics text, or 0 when absent. */
export async function metric(httpPort: number, series: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(series + " "));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}
