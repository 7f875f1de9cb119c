import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A server certificate signed by the test CA, for localhost and 127.0.0.1. */
export interface ServerCert {
  certPath: string;
  keyPath: string;
  /** as X509Certificate.serialNumber and getPeerCertificate().serialNumber give it (hex, upper case) */
  serial: string;
}

export interface TlsFixture {
  dir: string;
  /** the test CA's certificate (PEM): what a client must trust */
  ca: Buffer;
  caPath: string;
  /** makes another server certificate (its own key) with this serial (hex digits) */
  serverCert(name: string, serialHex: string): ServerCert;
  /** removes every file */
  remove(): void;
}

/**
 * A self-signed CA and what it signs, made with the `openssl` command in a temporary folder
 * (P-256 keys: quick to make). Call remove() when done.
 */
export function makeTlsFixture(): TlsFixture {
  const dir = mkdtempSync(join(tmpdir(), "parley-tls-"));
  const run = (...args: string[]): void => {
    execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
  };
  const newKey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
  run(
    "req",
    "-x509",
    ...newKey,
    "-keyout",
    "ca.key",
    "-out",
    "ca.crt",
    "-days",
    "2",
    "-subj",
    "/CN=Parley Test CA",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  );
  writeFileSync(
    join(dir, "server.ext"),
    "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n" +
      "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n",
  );
  return {
    dir,
    caPath: join(dir, "ca.crt"),
    ca: readFileSync(join(dir, "ca.crt")),
    serverCert(name, serialHex) {
      run(
        "req",
        ...newKey,
        "-keyout",
        `${name}.key`,
        "-out",
        `${name}.csr`,
        "-subj",
        "/CN=localhost",
      );
      run(
        "x509",
        "-req",
        "-in",
        `${name}.csr`,
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-set_serial",
        `0x${serialHex}`,
        "-days",
        "2",
        "-extfile",
        "server.ext",
        "-out",
        `${name}.crt`,
      );
      return {
        certPath: join(dir, `${name}.crt`),
        keyPath: join(dir, `${name}.key`),
        serial: serialHex.toUpperCase(),
      };
    },
    remove() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
