/**
 * Display-name rules, shared by the server (which decides) and the clients (which check early,
 * so they never refuse a name the server accepts). Pure functions, no I/O; runs in browsers.
 *
 * A wanted name is NFKC-normalised (fullwidth "Ａｌｉｃｅ" is "Alice", "ﬁ" is "fi") and never
 * trimmed. It is accepted when, after normalisation, it is
 * - 1 to `maxChars` code points long (not UTF-16 units, not graphemes: "é" is one code point
 *   after NFKC, a letter with a combining mark that has no precomposed form is two);
 * - made of letters (with their combining marks), decimal digits, letter-numbers (Ⅻ, 〇) and
 *   "_", "." or "-"; nothing invisible, direction-changing, blank, private, unassigned, and no
 *   other symbol or punctuation;
 * - written in one script, by UTS #39's "highly restrictive" profile: Common and Inherited
 *   characters (0-9, "_", ".", "-", most marks) go with any script, and the only mixes allowed
 *   are Latin+Han+Hiragana+Katakana (Japanese), Latin+Han+Bopomofo (Chinese) and
 *   Latin+Han+Hangul (Korean). "pаypal" with a Cyrillic "а" is refused; "Дмитрий" and
 *   "山田taro" are fine.
 * Uniqueness is decided on `displayNameKeys` (the skeletons): case-insensitive, and whole-script
 * lookalikes of a Latin name count as that name.
 */
import { scriptOf, scriptsOf } from "./unicode-scripts.js";

export type NameRefusalReason =
  | "EMPTY"
  | "TOO_LONG"
  | "SURROGATE"
  | "CONTROL"
  | "INVISIBLE"
  | "SPACE_AT_EDGE"
  | "SPACE"
  | "PRIVATE_USE"
  | "UNASSIGNED"
  | "DISALLOWED"
  | "MARK_WITHOUT_BASE"
  | "STACKED_MARKS"
  | "MIXED_SCRIPTS";

/** `name`: the normalised form, the one to store and show. `message` reads after "invalid name: ". */
export type DisplayNameCheck =
  { ok: true; name: string } | { ok: false; reason: NameRefusalReason; message: string };

/**
 * UTS #39 (section 5.4) suggests refusing more than 4 nonspacing marks in a row (and one mark
 * twice in a row): enough for real words, which after NFKC rarely carry more than 2, while
 * "Zalgo" text that spills over neighbouring lines is refused.
 */
const MAX_MARKS_IN_A_ROW = 4;

/**
 * Script sets allowed together besides a single script (UTS #39 "highly restrictive"): Latin
 * with the scripts Japanese, Chinese and Korean are written in.
 */
const SCRIPT_MIXES: readonly ReadonlySet<string>[] = [
  new Set(["Latin", "Han", "Hiragana", "Katakana"]),
  new Set(["Latin", "Han", "Bopomofo"]),
  new Set(["Latin", "Han", "Hangul"]),
];

const PLAIN_ASCII = /^[A-Za-z0-9_.-]+$/;
const LATIN: ReadonlySet<string> = new Set(["Latin"]);
const ASCII_LETTER = /^[A-Za-z]$/;
const ALLOWED_CHAR = /^[\p{L}\p{Mn}\p{Mc}\p{Nd}\p{Nl}_.-]$/u;
const MARK = /^[\p{Mn}\p{Mc}]$/u;
const SPACE = /[\p{White_Space}\p{Z}]/u;

/** Refused anywhere, before and after normalisation; checked in this order (first match reported). */
const REFUSED: ReadonlyArray<{ reason: NameRefusalReason; re: RegExp; what: string }> = [
  { reason: "SURROGATE", re: /\p{Cs}/u, what: "contains an unpaired surrogate" },
  { reason: "CONTROL", re: /\p{Cc}/u, what: "contains a control character" },
  {
    // Cf: bidi overrides and isolates, zero-width characters, soft hyphen, BOM, tags…; plus the
    // default-ignorables that are letters or marks but show nothing (Hangul fillers U+3164,
    // U+115F, variation selectors, combining grapheme joiner).
    reason: "INVISIBLE",
    re: /[\p{Cf}\p{Default_Ignorable_Code_Point}]/u,
    what: "contains an invisible or direction-changing character",
  },
  { reason: "SPACE", re: SPACE, what: "contains a space or another separator" },
  { reason: "PRIVATE_USE", re: /\p{Co}/u, what: "contains a private-use character" },
  { reason: "UNASSIGNED", re: /\p{Cn}/u, what: "contains an unassigned code point" },
];

/** Checks and normalises a wanted display name; `maxChars` counts code points after NFKC. */
export function checkDisplayName(wanted: string, maxChars: number): DisplayNameCheck {
  if (wanted.length === 0) return refuse("EMPTY", "is empty");
  const tooLong = refuse("TOO_LONG", `is longer than ${maxChars} characters`);
  if (PLAIN_ASCII.test(wanted)) {
    return wanted.length <= maxChars ? { ok: true, name: wanted } : tooLong; // NFKC changes no ASCII
  }
  // NFKC composes at most 4 code points into 1 (ᾇ), and a code point is at most 2 UTF-16
  // units: past 8 units per allowed character the normalised name is certainly too long.
  if (wanted.length > maxChars * 8) return tooLong;

  const early = refusedChar(wanted);
  if (early !== undefined) return early;
  const name = wanted.normalize("NFKC");
  const late = refusedChar(name);
  if (late !== undefined) return late;

  const chars = Array.from(name);
  if (chars.length === 0) return refuse("EMPTY", "is empty");
  if (chars.length > maxChars) return tooLong;

  let marks = 0;
  let previous = "";
  const scripts: Array<ReadonlySet<string>> = [];
  for (const ch of chars) {
    if (!ALLOWED_CHAR.test(ch)) {
      return refuse(
        "DISALLOWED",
        `contains ${describe(ch)}: only letters, digits, "_", "." and "-" are allowed`,
      );
    }
    if (MARK.test(ch)) {
      if (marks === 0 && (previous === "" || "_.-".includes(previous))) {
        return refuse(
          "MARK_WITHOUT_BASE",
          `has a combining mark (${codePoint(ch)}) that follows no letter or digit`,
        );
      }
      marks++;
      if (marks > MAX_MARKS_IN_A_ROW || ch === previous) {
        return refuse(
          "STACKED_MARKS",
          `stacks combining marks (more than ${MAX_MARKS_IN_A_ROW}, or one repeated)`,
        );
      }
    } else {
      marks = 0;
    }
    previous = ch;
    const set = ASCII_LETTER.test(ch) ? LATIN : scriptsOf(ch);
    if (set !== undefined) scripts.push(set);
  }

  if (!oneScript(scripts)) {
    return refuse("MIXED_SCRIPTS", `mixes scripts (${listScripts(chars)})`);
  }
  return { ok: true, name };
}

function refuse(reason: NameRefusalReason, message: string): DisplayNameCheck {
  return { ok: false, reason, message };
}

function refusedChar(s: string): DisplayNameCheck | undefined {
  for (const { reason, re, what } of REFUSED) {
    const m = re.exec(s);
    if (m === null) continue;
    if (reason === "SPACE" && (SPACE.test(firstChar(s)) || SPACE.test(lastChar(s)))) {
      return refuse("SPACE_AT_EDGE", "starts or ends with a space (names are not trimmed)");
    }
    return refuse(reason, `${what} (${codePoint(m[0])})`);
  }
  return undefined;
}

/** True when one script, or one of the allowed mixes, covers every character's scripts. */
function oneScript(sets: ReadonlyArray<ReadonlySet<string>>): boolean {
  const [first, ...rest] = sets;
  if (first === undefined) return true;
  for (const script of first) if (rest.every((s) => s.has(script))) return true;
  return SCRIPT_MIXES.some((mix) => sets.every((s) => [...s].some((x) => mix.has(x))));
}

/**
 * "Latin and Cyrillic", in order of appearance, for the refusal message: the scripts letters are
 * assigned to; those of shared characters ("ー", a combining acute) only if that names fewer than 2.
 */
function listScripts(chars: readonly string[]): string {
  const seen: string[] = [];
  const add = (script: string): void => {
    const label = script.replace(/_/g, " ");
    if (!seen.includes(label)) seen.push(label);
  };
  const shared: string[] = [];
  for (const ch of chars) {
    const script = scriptOf(ch);
    if (script !== "Common" && script !== "Inherited") add(script);
    else shared.push(ch);
  }
  for (const ch of shared) {
    if (seen.length >= 2) break;
    const first = [...(scriptsOf(ch) ?? [])][0];
    if (first !== undefined) add(first);
  }
  if (seen.length < 2) return seen.join("");
  return `${seen.slice(0, -1).join(", ")} and ${seen[seen.length - 1]}`;
}

function firstChar(s: string): string {
  return String.fromCodePoint(s.codePointAt(0) ?? 0);
}

function lastChar(s: string): string {
  const chars = Array.from(s);
  return chars[chars.length - 1] ?? "";
}

function codePoint(ch: string): string {
  return `U+${(ch.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, "0")}`;
}

/** A symbol or punctuation shown as itself and its code point; anything else by code point. */
function describe(ch: string): string {
  return /^[\p{S}\p{P}\p{N}]$/u.test(ch) ? `"${ch}" (${codePoint(ch)})` : codePoint(ch);
}

// ------------------------------------------------------------------ skeletons (uniqueness keys)

/**
 * Non-Latin letters that look like a Latin letter in common fonts, mapped to it: a compact
 * subset of Unicode's confusables.txt, limited to the whole-script lookalikes that let an
 * all-Cyrillic or all-Greek name pass for a Latin one (the mixed-script rule refuses the rest).
 * Written as escapes so the table itself cannot be misread. Both case forms are listed: the
 * lowercase view maps lowercase letters, the uppercase view uppercase ones (see displayNameKeys).
 */
const LATIN_LOOKALIKES: ReadonlyMap<string, string> = new Map([
  // Cyrillic, lowercase: а в е к м н о р с т у х і ј ѕ ԁ ӏ һ
  ["\u0430", "a"], ["\u0432", "b"], ["\u0435", "e"], ["\u043A", "k"], ["\u043C", "m"],
  ["\u043D", "h"], ["\u043E", "o"], ["\u0440", "p"], ["\u0441", "c"], ["\u0442", "t"],
  ["\u0443", "y"], ["\u0445", "x"], ["\u0456", "i"], ["\u0458", "j"], ["\u0455", "s"],
  ["\u0501", "d"], ["\u04CF", "l"], ["\u04BB", "h"],
  // Cyrillic, uppercase: А В Е К М Н О Р С Т У Х І Ј Ѕ Ԁ Ӏ Һ
  ["\u0410", "A"], ["\u0412", "B"], ["\u0415", "E"], ["\u041A", "K"], ["\u041C", "M"],
  ["\u041D", "H"], ["\u041E", "O"], ["\u0420", "P"], ["\u0421", "C"], ["\u0422", "T"],
  ["\u0423", "Y"], ["\u0425", "X"], ["\u0406", "I"], ["\u0408", "J"], ["\u0405", "S"],
  ["\u0500", "D"], ["\u04C0", "I"], ["\u04BA", "H"],
  // Greek, lowercase: α ο ν ρ τ ι κ υ
  ["\u03B1", "a"], ["\u03BF", "o"], ["\u03BD", "v"], ["\u03C1", "p"], ["\u03C4", "t"],
  ["\u03B9", "i"], ["\u03BA", "k"], ["\u03C5", "u"],
  // Greek, uppercase: Α Β Ε Η Ι Κ Μ Ν Ο Ρ Τ Υ Χ Ζ
  ["\u0391", "A"], ["\u0392", "B"], ["\u0395", "E"], ["\u0397", "H"], ["\u0399", "I"],
  ["\u039A", "K"], ["\u039C", "M"], ["\u039D", "N"], ["\u039F", "O"], ["\u03A1", "P"],
  ["\u03A4", "T"], ["\u03A5", "Y"], ["\u03A7", "X"], ["\u0396", "Z"],
  // Latin letters outside ASCII that are drawn like an ASCII one: ɡ (script g) and Ɡ
  ["\u0261", "g"], ["\uA7AC", "G"],
]); // prettier-ignore

/**
 * The uniqueness keys ("skeletons") of a normalised display name: two names clash when they
 * share a key. An ASCII name has one key, its lowercase form, exactly as before Unicode names.
 *
 * Otherwise there are up to two, a lowercase view and an uppercase view, each case-mapped with
 * toLowerCase/toUpperCase (full Unicode case mappings, locale-independent: "ß" gives "SS") then
 * NFKC again, then LATIN_LOOKALIKES, then lowercased. Two views because look-alikeness depends on
 * case: Greek "ν" looks like "v" but its capital "Ν" like "N", and names are compared
 * case-insensitively, so "νο" must clash with "vo" and "ΝΟ" with "NO". One key cannot do both;
 * the price is a few harmless over-matches (a Greek "νο" also clashes with "no").
 * Not covered: lookalikes inside one script (Latin "rn" and "m", "l" and "I"), digits.
 */
export function displayNameKeys(name: string): readonly string[] {
  if (PLAIN_ASCII.test(name)) return [name.toLowerCase()];
  const lower = latinLookalikes(name.toLowerCase().normalize("NFKC")).toLowerCase();
  const upper = latinLookalikes(name.toUpperCase().normalize("NFKC")).toLowerCase();
  return lower === upper ? [lower] : [lower, upper];
}

function latinLookalikes(s: string): string {
  let out = "";
  for (const ch of s) out += LATIN_LOOKALIKES.get(ch) ?? ch;
  return out;
}
