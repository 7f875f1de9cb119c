import { readFile } from "node:fs/promises";
import { createSecureContext, type SecureContextOptions } from "node:tls";
import { X509Certificate } from "node:crypto";

/** Where the server's certificate chain and private key are (PEM files). */
export interface TlsFiles {
  /** the server certificate, followed by any intermediates */
  certPath: string;
  keyPath: string;
}

/** Oldest protocol version a client may negotiate: TLS 1.0 and 1.1 are refused. */
export const TLS_MIN_VERSION = "TLSv1.2";

/** A certificate and key that belong together, read and checked, ready for a listener. */
export interface TlsIdentity {
  /** what tls.createServer / setSecureContext take */
  readonly context: SecureContextOptions;
  /** of the leaf certificate, for logs and /metrics */
  readonly subject: string;
  readonly serialNumber: string;
  readonly fingerprint256: string;
  readonly notAfter: Date;
}

export type TlsIdentityErrorCode = "TLS_FILE_UNREADABLE" | "TLS_CREDENTIALS_INVALID";

/** The files cannot be read, or do not make a usable certificate and key pair. */
export class TlsIdentityError extends Error {
  constructor(
    readonly code: TlsIdentityErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Reads both files and checks them the way a listener would use them (OpenSSL parses the chain
 * and the key and verifies that the key is the certificate's), so that a bad pair is refused
 * here, at start or at reload, and never reaches a listener.
 */
export async function loadTlsIdentity(files: TlsFiles): Promise<TlsIdentity> {
  const cert = await read(files.certPath, "certificate");
  const key = await read(files.keyPath, "key");
  const context: SecureContextOptions = { cert, key, minVersion: TLS_MIN_VERSION };
  let leaf: X509Certificate;
  try {
    createSecureContext(context);
    leaf = new X509Certificate(cert);
  } catch (err) {
    throw new TlsIdentityError(
      "TLS_CREDENTIALS_INVALID",
      `${files.certPath} and ${files.keyPath} are not a usable certificate and key: ${(err as Error).message}`,
    );
  }
  return {
    context,
    subject: leaf.subject.replace(/\n/g, ", "),
    serialNumber: leaf.serialNumber,
    fingerprint256: leaf.fingerprint256,
    notAfter: new Date(leaf.validTo),
  };
}

async function read(path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    throw new TlsIdentityError(
      "TLS_FILE_UNREADABLE",
      `cannot read the TLS ${what} file ${path}: ${(err as Error).message}`,
    );
  }
}
