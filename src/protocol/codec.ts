import type { Command, Event } from "./messages.js";
import { ErrorCode } from "./error-codes.js";

/** Why a line or frame could not be turned into a command. */
export class DecodeError {
  constructor(
    readonly code: ErrorCode,
    readonly message: string,
    /** the `_ct` of the offending command, when it could be read */
    readonly cmd?: string,
    /** the room the command named, when it could be read */
    readonly room?: string,
  ) {}
}

type Fields = Record<string, unknown>;

function str(o: Fields, key: string, ct: string): string | DecodeError {
  const v = o[key];
  return typeof v === "string"
    ? v
    : new DecodeError(ErrorCode.BAD_COMMAND, `${ct}: field "${key}" must be a string`, ct);
}

function optStr(o: Fields, key: string, ct: string): string | undefined | DecodeError {
  const v = o[key];
  return v === undefined ? undefined : str(o, key, ct);
}

const UNSTORABLE = /[\0\p{Cs}]/u;
const UNSTORABLE_ALL = /[\0\p{Cs}]/gu;

/**
 * Text as it will be stored and replayed: U+0000 and unpaired surrogates (which JSON escapes can
 * carry, but UTF-8 and PostgreSQL cannot) become U+FFFD, so live delivery and replay show the same.
 */
export function wellFormed(text: string): string {
  return UNSTORABLE.test(text) ? text.replace(UNSTORABLE_ALL, "\uFFFD") : text;
}

/**
 * A number JSON can carry back: 1e999 parses as Infinity, which JSON.stringify would write as null
 * (a `pong` with `t: null`). Dropped like a value of the wrong type.
 */
function finite(v: unknown): number | undefined {
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}

/** An optional offset: absent, or a whole number >= 0 (else BAD_OFFSET). */
function optOffset(
  o: Fields,
  key: string,
  ct: string,
  r: string,
): number | undefined | DecodeError {
  const v = o[key];
  if (v === undefined) return undefined;
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0
    ? v
    : new DecodeError(
        ErrorCode.BAD_OFFSET,
        `${ct}: "${key}" must be a whole number >= 0 (a message id)`,
        ct,
        r,
      );
}

/** An optional count: absent, or a whole number >= 1 (else BAD_LIMIT; the server checks the top). */
function optCount(o: Fields, key: string, ct: string, r: string): number | undefined | DecodeError {
  const v = o[key];
  if (v === undefined) return undefined;
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 1
    ? v
    : new DecodeError(ErrorCode.BAD_LIMIT, `${ct}: "${key}" must be a whole number >= 1`, ct, r);
}

/**
 * Decodes one command from the text of one line or frame. Unknown extra fields are ignored (as
 * the original's serde decoder does); a wrong type or a missing field is a BAD_COMMAND.
 */
export function decodeCommand(text: string): Command | DecodeError {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return new DecodeError(ErrorCode.BAD_JSON, "not valid JSON");
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    return new DecodeError(ErrorCode.BAD_COMMAND, "a command is a JSON object with a _ct field");
  }
  const o = raw as Fields;
  const ct = o._ct;
  if (typeof ct !== "string") {
    return new DecodeError(ErrorCode.BAD_COMMAND, "a command is a JSON object with a _ct field");
  }
  switch (ct) {
    case "join_room": {
      const r = str(o, "r", ct);
      if (typeof r !== "string") return r;
      const off = optOffset(o, "o", ct, r);
      if (off instanceof DecodeError) return off;
      const e = optStr(o, "e", ct);
      if (e instanceof DecodeError) return e;
      const b = optCount(o, "b", ct, r);
      if (b instanceof DecodeError) return b;
      return {
        _ct: ct,
        r,
        ...(off !== undefined && { o: off }),
        ...(e !== undefined && { e }),
        ...(b !== undefined && { b }),
      };
    }
    case "history": {
      const r = str(o, "r", ct);
      if (typeof r !== "string") return r;
      const before = optOffset(o, "before", ct, r);
      if (before instanceof DecodeError) return before;
      const after = optOffset(o, "after", ct, r);
      if (after instanceof DecodeError) return after;
      if (before !== undefined && after !== undefined) {
        return new DecodeError(
          ErrorCode.BAD_COMMAND,
          `${ct}: give "before" or "after", not both`,
          ct,
          r,
        );
      }
      const l = optCount(o, "l", ct, r);
      if (l instanceof DecodeError) return l;
      return {
        _ct: ct,
        r,
        ...(before !== undefined && { before }),
        ...(after !== undefined && { after }),
        ...(l !== undefined && { l }),
      };
    }
    case "leave_room":
    case "list_members": {
      const r = str(o, "r", ct);
      return typeof r === "string" ? { _ct: ct, r } : r;
    }
    case "send_message": {
      const r = str(o, "r", ct);
      if (typeof r !== "string") return r;
      const c = str(o, "c", ct);
      if (typeof c !== "string") return c;
      const cid = optStr(o, "cid", ct);
      if (cid instanceof DecodeError) return cid;
      const text = wellFormed(c);
      return cid === undefined
        ? { _ct: ct, r, c: text }
        : { _ct: ct, r, c: text, cid: wellFormed(cid) };
    }
    case "quit":
    case "list_rooms":
      return { _ct: ct };
    case "hello": {
      const n = optStr(o, "n", ct);
      if (n instanceof DecodeError) return n;
      const rawKey = optStr(o, "k", ct);
      if (rawKey instanceof DecodeError) return rawKey;
      const k = rawKey === undefined ? undefined : wellFormed(rawKey);
      const tok = optStr(o, "tok", ct);
      if (tok instanceof DecodeError) return tok;
      const v = finite(o.v);
      return {
        _ct: ct,
        ...(v !== undefined && { v }),
        ...(n !== undefined && { n }),
        ...(k !== undefined && { k }),
        ...(tok !== undefined && { tok }),
      };
    }
    case "set_name": {
      const n = str(o, "n", ct);
      return typeof n === "string" ? { _ct: ct, n } : n;
    }
    case "ping": {
      const t = typeof o.t === "string" ? o.t : finite(o.t);
      return t !== undefined ? { _ct: ct, t } : { _ct: ct };
    }
    default:
      return new DecodeError(ErrorCode.UNKNOWN_COMMAND, `unknown command "${ct}"`, ct);
  }
}

/** Encodes a command as JSON text (no framing). */
export function encodeCommand(cmd: Command): string {
  return JSON.stringify(cmd);
}

/** Encodes an event as JSON text (no framing). */
export function encodeEvent(ev: Event): string {
  return JSON.stringify(ev);
}

/**
 * Decodes an event received by a client. Returns undefined for text that is not an event object;
 * an event type the client does not know is returned as is (clients must ignore it, not fail).
 */
export function decodeEvent(text: string): Event | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof raw !== "object" || raw === null || typeof (raw as Fields)._et !== "string") {
    return undefined;
  }
  return raw as Event;
}
