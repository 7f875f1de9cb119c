import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  checkDisplayName,
  displayNameKeys,
  type NameRefusalReason,
} from "../../src/protocol/index.js";
import { knownScripts, scriptOf, scriptsOf } from "../../src/protocol/unicode-scripts.js";

const MAX = 32;

function accepted(wanted: string, max = MAX): string {
  const r = checkDisplayName(wanted, max);
  assert.ok(r.ok, `${JSON.stringify(wanted)} refused: ${r.ok ? "" : r.message}`);
  return r.name;
}

function refusal(wanted: string, max = MAX): { reason: NameRefusalReason; message: string } {
  const r = checkDisplayName(wanted, max);
  assert.ok(!r.ok, `${JSON.stringify(wanted)} accepted as ${r.ok ? JSON.stringify(r.name) : ""}`);
  return r;
}

const clash = (a: string, b: string): boolean =>
  displayNameKeys(a).some((k) => displayNameKeys(b).includes(k));

describe("checkDisplayName: accepted names", () => {
  const same: string[] = [
    "alice",
    "Bob_1",
    "a.b-c",
    "_",
    "José",
    "李",
    "Zoë",
    "Дмитрий",
    "Дми\u0301трий", // stress mark: U+0301 is used with Cyrillic
    "محمد",
    "محمد١٢",
    "١٢٣",
    "山田taro",
    "山田たろう",
    "ラーメン",
    "김민수",
    "金민수",
    "王小明ㄅㄆ",
    "Ελληνικά",
    "देवनागरी",
    "कें",
    "สมชาย",
    "Straße",
    "İstanbul",
    "ʻOkina",
    "〇",
    "Nguyễn",
    "ᾇ",
    "x".repeat(MAX),
    "李".repeat(MAX),
  ];
  for (const name of same) {
    it(`accepts ${JSON.stringify(name)} unchanged`, () => {
      assert.equal(accepted(name), name);
    });
  }

  const normalised: Array<[string, string]> = [
    ["Ａｌｉｃｅ", "Alice"],
    ["Jose\u0301", "José"],
    ["ﬁsh", "fish"],
    ["x²", "x2"],
    ["Ⅻ", "XII"],
    ["①", "1"],
    ["𝒜lice", "Alice"],
    ["ｶﾀｶﾅ", "カタカナ"],
    ["＿．－", "_.-"],
    ["\u1100\u1161\u11A8", "각"],
    ["น้ำ", "น้\u0E4D\u0E32"], // Thai sara am has a compatibility decomposition
  ];
  for (const [wanted, name] of normalised) {
    it(`accepts ${JSON.stringify(wanted)} as its NFKC form ${JSON.stringify(name)}`, () => {
      assert.equal(accepted(wanted), name);
    });
  }

  it("counts the length in code points after normalisation", () => {
    assert.equal(accepted("abc", 3), "abc");
    assert.equal(accepted("𝒜𝒜𝒜", 3), "AAA"); // 6 UTF-16 units before NFKC
    assert.equal(accepted("𐐀𐐀𐐀", 3), "𐐀𐐀𐐀"); // Deseret: 2 UTF-16 units each
    assert.equal(accepted("e\u0301e\u0301e\u0301", 3), "ééé");
  });
});

describe("checkDisplayName: refused names", () => {
  const cases: Array<[string, NameRefusalReason]> = [
    ["", "EMPTY"],
    ["x".repeat(MAX + 1), "TOO_LONG"],
    ["李".repeat(MAX + 1), "TOO_LONG"],
    ["é".repeat(MAX * 20), "TOO_LONG"],
    [" alice", "SPACE_AT_EDGE"],
    ["alice ", "SPACE_AT_EDGE"],
    ["\u3000alice", "SPACE_AT_EDGE"],
    ["has space", "SPACE"],
    ["a\u00A0b", "SPACE"],
    ["a\u2028b", "SPACE"],
    ["a\u3000b", "SPACE"],
    ["a\u0007b", "CONTROL"],
    ["a\nb", "CONTROL"],
    ["a\tb", "CONTROL"],
    ["a\u0085b", "CONTROL"],
    ["evil\u202Egnp.exe", "INVISIBLE"],
    ["\u202Dabc", "INVISIBLE"],
    ["a\u202Ab", "INVISIBLE"],
    ["a\u2066b\u2069", "INVISIBLE"],
    ["a\u200Bb", "INVISIBLE"],
    ["a\u200Cb", "INVISIBLE"],
    ["a\u200Db", "INVISIBLE"],
    ["a\u200Eb", "INVISIBLE"],
    ["\uFEFFabc", "INVISIBLE"],
    ["a\u00ADb", "INVISIBLE"],
    ["a\u061Cb", "INVISIBLE"],
    ["a\u2060b", "INVISIBLE"],
    ["\u3164", "INVISIBLE"],
    ["a\u3164b", "INVISIBLE"],
    ["\u115Fa", "INVISIBLE"],
    ["a\uFE0Fb", "INVISIBLE"],
    ["a\u034Fb", "INVISIBLE"],
    ["a\u{E0041}b", "INVISIBLE"],
    [" \u202E", "INVISIBLE"],
    ["\uD800a", "SURROGATE"],
    ["a\uDC00", "SURROGATE"],
    ["a\uE000b", "PRIVATE_USE"],
    ["\u{F0000}", "PRIVATE_USE"],
    ["a\u0378b", "UNASSIGNED"],
    ["\uFFFF", "UNASSIGNED"],
    ["a\uFDD0", "UNASSIGNED"],
    ["a★b", "DISALLOWED"],
    ["a@b", "DISALLOWED"],
    ["a!b", "DISALLOWED"],
    ["a/b", "DISALLOWED"],
    ["a'b", "DISALLOWED"],
    ["a+b", "DISALLOWED"],
    ["😀", "DISALLOWED"],
    ["½", "DISALLOWED"],
    ["⑴", "DISALLOWED"],
    ["a\u20DDb", "DISALLOWED"],
    ["\u0301abc", "MARK_WITHOUT_BASE"],
    ["a_\u0301", "MARK_WITHOUT_BASE"],
    ["Z\u0351\u0352\u0353\u0354\u0355", "STACKED_MARKS"],
    ["x\u0301\u0301", "STACKED_MARKS"],
    ["pаypal", "MIXED_SCRIPTS"],
    ["аlice", "MIXED_SCRIPTS"],
    ["Ελληνικάa", "MIXED_SCRIPTS"],
    ["محمدa", "MIXED_SCRIPTS"],
    ["李Дима", "MIXED_SCRIPTS"],
    ["김たろう", "MIXED_SCRIPTS"],
    ["ㄅたろう", "MIXED_SCRIPTS"],
    ["abc१", "MIXED_SCRIPTS"],
    ["שלוםa", "MIXED_SCRIPTS"],
  ];
  for (const [wanted, reason] of cases) {
    const shown = JSON.stringify(wanted.length > 40 ? `${wanted.slice(0, 10)}…` : wanted);
    it(`refuses ${shown} (${reason})`, () => {
      assert.equal(refusal(wanted).reason, reason);
    });
  }

  it("states the reason in words an error message can carry", () => {
    assert.equal(refusal("pаypal").message, "mixes scripts (Latin and Cyrillic)");
    assert.equal(refusal("李Дimа").message, "mixes scripts (Han, Cyrillic and Latin)");
    assert.equal(refusal("Дми\u0301трий李").message, "mixes scripts (Cyrillic and Han)");
    assert.equal(
      refusal("a\u202Eb").message,
      "contains an invisible or direction-changing character (U+202E)",
    );
    assert.equal(refusal("a★b").message.startsWith('contains "★" (U+2605)'), true);
    assert.equal(refusal("x".repeat(4), 3).message, "is longer than 3 characters");
    assert.match(refusal(" bob").message, /starts or ends with a space/);
  });
});

describe("displayNameKeys (uniqueness skeletons)", () => {
  it("keeps ASCII names to one key, their lowercase form, as before", () => {
    assert.deepEqual(displayNameKeys("Alice"), ["alice"]);
    assert.deepEqual(displayNameKeys("BOB_1.x-y"), ["bob_1.x-y"]);
  });

  it("makes names that differ only in case clash, in any script", () => {
    assert.ok(clash("alice", "ALICE"));
    assert.ok(clash("Дмитрий", "ДМИТРИЙ"));
    assert.ok(clash("Ελληνικά", "ΕΛΛΗΝΙΚΆ"));
    assert.ok(clash("Straße", "STRASSE"));
  });

  it("makes an all-Cyrillic or all-Greek lookalike clash with the Latin name", () => {
    assert.ok(clash("аое", "aoe")); // Cyrillic а о е
    assert.ok(clash("роре", "pope")); // Cyrillic р о р е
    assert.ok(clash("СОКЕ", "coke")); // Cyrillic С О К Е
    assert.ok(clash("ΤΟΚΥΟ", "tokyo")); // Greek Τ Ο Κ Υ Ο
    assert.ok(clash("νο", "vo")); // Greek ν looks like v…
    assert.ok(clash("ΝΟ", "NO")); // …and its capital Ν like N
    assert.ok(clash("ɡoogle", "google")); // Latin script g
    assert.ok(clash("ӏ", "l")); // Cyrillic palochka
  });

  it("keeps different names apart", () => {
    assert.ok(!clash("José", "Jose"));
    assert.ok(!clash("Дмитрий", "Dmitry"));
    assert.ok(!clash("李", "季"));
    assert.ok(!clash("alice", "alice2"));
    assert.ok(!clash("аое", "aoa"));
  });
});

describe("unicode scripts", () => {
  it("names the script of every letter, mark and digit this engine knows", () => {
    const missing: string[] = [];
    for (let cp = 0; cp <= 0x10ffff; cp++) {
      if (cp >= 0xd800 && cp <= 0xdfff) continue;
      const ch = String.fromCodePoint(cp);
      if (!/^[\p{L}\p{M}\p{N}]$/u.test(ch)) continue;
      if (scriptOf(ch) === "Unknown") missing.push(cp.toString(16));
    }
    assert.deepEqual(missing.slice(0, 10), []);
    assert.ok(knownScripts().length > 150);
  });

  it("uses Script_Extensions: the prolonged sound mark goes with Hiragana and Katakana", () => {
    assert.deepEqual([...(scriptsOf("ー") ?? [])].sort(), ["Hiragana", "Katakana"]);
    assert.ok(scriptsOf("٠")?.has("Thaana"));
    assert.equal(scriptsOf("7"), undefined);
    assert.equal(scriptsOf("\u0327"), undefined);
    assert.ok(scriptsOf("\u0301")?.has("Cyrillic")); // Unicode 17 lists its scripts
    assert.deepEqual([...(scriptsOf("д") ?? [])], ["Cyrillic"]);
  });
});

// ------------------------------------------------------------------ properties

const pick = (chars: string): fc.Arbitrary<string> => fc.constantFrom(...Array.from(chars));
const COMMON = "0123456789_.-";
const ALPHABETS: Record<string, string> = {
  latin: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZéèêëçñøåæœßÿžšłıİĳǅ",
  latinCompat: "ＡＢＣｘｙｚ０１２＿．－ﬁﬂ²³𝒜𝔟",
  cyrillic: "абвгдежзийклмнопрстуфхцчшщъыьэюяАБВГДЕЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯёЁіїєґӏԁ",
  greek: "αβγδεζηθικλμνξοπρστυφχψωςΑΒΓΔΕΖΗΘΙΚΛΜΝΞΟΠΡΣΤΥΦΧΨΩάέήίόύώϊϋΐΰ",
  arabic: "ابتثجحخدذرزسشصضطظعغفقكلمنهوي٠١٢٣",
  hebrew: "אבגדהוזחטיכלמנסעפצקרשת",
  japanese: "山田太郎花子あいうえおかきくけこアイウエオカキクケコーabcXYZ",
  korean: "김이박최정민수영희철한국서울abc漢字",
  chinese: "王李张刘陈小明华ㄅㄆㄇㄈabc",
  thai: "กขคงจฉชซญดตถทธนบปผพฟภมยรลวศษสหอฮ",
  georgian: "აბგდევზთიკლმნოპჟრსტუფქღყშჩცძწჭხჯჰ",
};

/** Names of one writing system's letters with digits and "_.-", always starting with a letter. */
const wellFormed: fc.Arbitrary<string> = fc
  .constantFrom(...Object.values(ALPHABETS))
  .chain((letters) =>
    fc
      .tuple(
        pick(letters.replace(/[0-9０-９_.\-＿．－]/gu, "")),
        fc.string({ unit: pick(letters + COMMON), maxLength: 20 }),
      )
      .map(([first, rest]) => first + rest),
  );

/** Characters of every class a name must never contain. */
const forbidden: fc.Arbitrary<string> = fc.oneof(
  pick(
    "\u0000\u0007\n\r\t\u001B\u007F\u0085 \u00A0\u1680\u2000\u2007\u200A\u2028\u2029\u202F\u205F\u3000" +
      "\u00AD\u061C\u180E\u200B\u200C\u200D\u200E\u200F\u202A\u202B\u202C\u202D\u202E\u2060\u2066\u2067\u2068\u2069\uFEFF\u3164\uFFA0\u115F\uFE0F\u034F" +
      "\uE000\uF8FF\u0378\uFFFE\uFFFF\uD800\uDBFF\uDC00\uDFFF",
  ),
  fc.constantFrom("\u{E0001}", "\u{F0000}", "\u{10FFFD}", "\u{1BCA0}"),
  fc
    .string({ unit: "binary", minLength: 1, maxLength: 1 })
    .filter((c) => /[\p{Cc}\p{Cf}\p{Co}\p{Cn}\p{Z}\p{White_Space}]/u.test(c)),
);

const CLASS_REASONS: ReadonlySet<NameRefusalReason> = new Set<NameRefusalReason>([
  "SURROGATE",
  "CONTROL",
  "INVISIBLE",
  "SPACE_AT_EDGE",
  "SPACE",
  "PRIVATE_USE",
  "UNASSIGNED",
]);

describe("checkDisplayName and displayNameKeys: properties", () => {
  it("accepts every single-script name of letters, digits and _ . - that starts with a letter", () => {
    fc.assert(
      fc.property(wellFormed, (name) => {
        const r = checkDisplayName(name, MAX);
        assert.ok(r.ok, `${JSON.stringify(name)}: ${r.ok ? "" : r.message}`);
      }),
      { numRuns: 500 },
    );
  });

  it("accepts plain ASCII names unchanged with their lowercase form as the only key", () => {
    const ascii = fc.string({
      unit: pick("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" + COMMON),
      minLength: 1,
      maxLength: MAX,
    });
    fc.assert(
      fc.property(ascii, (name) => {
        assert.deepEqual(checkDisplayName(name, MAX), { ok: true, name });
        assert.deepEqual(displayNameKeys(name), [name.toLowerCase()]);
      }),
    );
  });

  it("accepts the normalised form of an accepted name as itself (idempotent), in NFC or NFD", () => {
    const anything = fc.oneof(
      wellFormed,
      fc.string({ unit: "binary", maxLength: 12 }),
      fc.string({ unit: "grapheme", maxLength: 8 }),
    );
    fc.assert(
      fc.property(anything, (wanted) => {
        const r = checkDisplayName(wanted, MAX);
        if (!r.ok) return;
        assert.deepEqual(checkDisplayName(r.name, MAX), { ok: true, name: r.name });
        assert.deepEqual(checkDisplayName(wanted.normalize("NFD"), MAX), r);
        assert.deepEqual(checkDisplayName(wanted.normalize("NFC"), MAX), r);
      }),
      { numRuns: 1000 },
    );
  });

  it("refuses any name containing a control, invisible, space, private-use, unassigned or lone surrogate character", () => {
    fc.assert(
      fc.property(wellFormed, forbidden, wellFormed, (before, bad, after) => {
        for (const wanted of [before + bad + after, bad + before, before + bad]) {
          const r = checkDisplayName(wanted, MAX);
          assert.ok(!r.ok, `${JSON.stringify(wanted)} accepted`);
          assert.ok(CLASS_REASONS.has(r.reason), `${JSON.stringify(wanted)}: ${r.reason}`);
        }
      }),
      { numRuns: 500 },
    );
  });

  it("gives names that differ only in case a common key", () => {
    fc.assert(
      fc.property(wellFormed, (name) => {
        const n = name.normalize("NFKC");
        assert.ok(clash(n, n.toUpperCase().normalize("NFKC")), `upper of ${n}`);
        assert.ok(clash(n, n.toLowerCase().normalize("NFKC")), `lower of ${n}`);
      }),
      { numRuns: 500 },
    );
  });

  it("gives an all-Cyrillic spelling of a Latin name made of lookalike letters the Latin name's key", () => {
    const toCyrillic: Record<string, string> = {
      a: "а", c: "с", e: "е", o: "о", p: "р", x: "х", y: "у", i: "і", j: "ј", s: "ѕ",
      A: "А", B: "В", C: "С", E: "Е", H: "Н", K: "К", M: "М", O: "О", P: "Р", T: "Т", X: "Х",
    }; // prettier-ignore
    const latin = fc.string({ unit: pick(Object.keys(toCyrillic).join("")), minLength: 1 });
    fc.assert(
      fc.property(latin, (word) => {
        const cyrillic = Array.from(word, (c) => toCyrillic[c] ?? c).join("");
        const r = checkDisplayName(cyrillic, MAX);
        assert.ok(r.ok, cyrillic);
        assert.ok(clash(r.name, word), `${cyrillic} / ${word}`);
      }),
    );
  });
});
