/** U+0000, and a UTF-16 surrogate without its pair (`u` flag: a proper pair is one code point, not Cs). */
const UNSTORABLE = /[\0\p{Cs}]/u;
const UNSTORABLE_ALL = /[\0\p{Cs}]/gu;

/**
 * The text as every backend stores it: U+0000 and unpaired surrogates become U+FFFD.
 * PostgreSQL's `text` refuses U+0000 (it would fail the whole batch) and UTF-8 cannot encode an
 * unpaired surrogate (SQLite would keep invalid bytes that read back as three U+FFFD). Every
 * backend applies the same rule, so a replay reads the same whichever backend served it. Text
 * without such characters (nearly all) is returned as is after one regex test.
 */
export function storableText(text: string): string {
  return UNSTORABLE.test(text) ? text.replace(UNSTORABLE_ALL, "\uFFFD") : text;
}
