import type { Server as TlsServer, TlsOptions } from "node:tls";
import type { Logger } from "../core/index.js";
import { silentLogger } from "../core/index.js";
import { loadTlsIdentity, type TlsFiles, type TlsIdentity } from "./tls-identity.js";

/**
 * Why a TLS handshake did not complete, as counted: `timeout` (not done within the handshake
 * deadline: a stalled or plain-text client that waits for the server to speak), `protocol` (the
 * peer does not speak TLS, or only a version or cipher refused here), `peer_rejected` (the peer
 * sent an alert: typically it does not trust the certificate), `reset` (the peer went away
 * mid-handshake), `other`.
 */
export type TlsHandshakeFailure = "timeout" | "protocol" | "peer_rejected" | "reset" | "other";

/** Which listener a TLS server is: the chat transports' kinds, or the HTTPS server. */
export type TlsListenerKind = "tcp" | "tcp-lp" | "https";

export interface TlsListenersOptions {
  files: TlsFiles;
  /** the pair read at start (loadTlsIdentity) */
  identity: TlsIdentity;
  /**
   * a handshake not complete this long after the TCP connection opened is cut, ms. Nothing of
   * a connection reaches the chat server (no session, no connection slot, no per-IP count)
   * before its handshake completes; this bounds how long a socket can sit before that.
   */
  handshakeTimeoutMs: number;
  onHandshakeFailure?: (listener: TlsListenerKind, reason: TlsHandshakeFailure) => void;
  /** a reload's outcome, with the identity now in use */
  onReload?: (ok: boolean, identity: TlsIdentity) => void;
  logger?: Logger;
}

export type TlsReloadResult =
  { ok: true; identity: TlsIdentity } | { ok: false; code: string; error: string };

/**
 * The TLS side shared by every TLS listener (line TCP, length-prefixed TCP, HTTPS/WSS): the
 * options a listener is created with, the handshake failure accounting, and the certificate
 * reload that swaps the pair on every listener at once (new connections use the new pair, open
 * ones keep the one they were made with).
 */
export class TlsListeners {
  private readonly servers: TlsServer[] = [];
  private readonly logger: Logger;
  private current: TlsIdentity;
  /** reloads run one at a time, in the order asked */
  private reloading: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: TlsListenersOptions) {
    this.current = options.identity;
    this.logger = options.logger ?? silentLogger;
  }

  get identity(): TlsIdentity {
    return this.current;
  }

  /** Options for tls.createServer / https.createServer. */
  serverOptions(): TlsOptions {
    return { ...this.current.context, handshakeTimeout: this.options.handshakeTimeoutMs };
  }

  /** Counts `server`'s failed handshakes and includes it in reloads. */
  register(server: TlsServer, listener: TlsListenerKind): void {
    this.servers.push(server);
    server.on("tlsClientError", (err: NodeJS.ErrnoException, socket) => {
      const reason = handshakeFailureReason(err);
      this.options.onHandshakeFailure?.(listener, reason);
      this.logger.debug(
        { listener, reason, code: err.code, remote: socket.remoteAddress },
        "tls handshake failed",
      );
      // Node destroys the socket after a timeout, not always after an error.
      socket.destroy();
    });
  }

  /**
   * Reads the files again and, if they make a usable pair, gives it to every listener. A bad
   * pair leaves the current one in place and says why.
   */
  reload(): Promise<TlsReloadResult> {
    const run = this.reloading.then(() => this.reloadNow());
    this.reloading = run.catch(() => {});
    return run;
  }

  private async reloadNow(): Promise<TlsReloadResult> {
    let next: TlsIdentity;
    try {
      next = await loadTlsIdentity(this.options.files);
    } catch (err) {
      const code = (err as { code?: string }).code ?? "TLS_RELOAD_FAILED";
      const error = (err as Error).message;
      this.options.onReload?.(false, this.current);
      this.logger.error(
        { code, err: error, serial: this.current.serialNumber },
        "tls reload failed: keeping the current certificate",
      );
      return { ok: false, code, error };
    }
    for (const s of this.servers) s.setSecureContext(next.context);
    const previous = this.current;
    this.current = next;
    this.options.onReload?.(true, next);
    this.logger.info(
      {
        subject: next.subject,
        serial: next.serialNumber,
        previousSerial: previous.serialNumber,
        notAfter: next.notAfter.toISOString(),
      },
      "tls certificate reloaded",
    );
    return { ok: true, identity: next };
  }
}

/** Sorts the error of a failed handshake (Node's and OpenSSL's codes) into a counted reason. */
export function handshakeFailureReason(err: NodeJS.ErrnoException): TlsHandshakeFailure {
  const code = err.code ?? "";
  if (code === "ERR_TLS_HANDSHAKE_TIMEOUT") return "timeout";
  if (code === "ECONNRESET" || code === "EPIPE") return "reset";
  if (/^ERR_SSL_.*ALERT/.test(code)) return "peer_rejected";
  if (code.startsWith("ERR_SSL_")) return "protocol";
  return "other";
}
