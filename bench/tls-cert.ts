import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A self-signed certificate for 127.0.0.1 and localhost, trusted by the load generator as its CA. */
export interface BenchCert {
  certPath: string;
  keyPath: string;
  remove(): void;
}

/**
 * Makes the certificate with the `openssl` command in a temporary folder: ECDSA P-256, what a
 * production certificate (e.g. from Let's Encrypt) would commonly be, so the handshakes and the
 * record layer cost what they would in production.
 */
export function makeBenchCert(): BenchCert {
  const dir = mkdtempSync(join(tmpdir(), "parley-bench-tls-"));
  const certPath = join(dir, "server.crt");
  const keyPath = join(dir, "server.key");
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-keyout",
      keyPath,
      "-out",
      certPath,
      "-days",
      "2",
      "-subj",
      "/CN=localhost",
      "-addext",
      "subjectAltName=IP:127.0.0.1,DNS:localhost",
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  return { certPath, keyPath, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
