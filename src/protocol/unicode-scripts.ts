/**
 * Which Unicode scripts a character belongs to, from the JavaScript engine's own Unicode data
 * (`\p{Script_Extensions=…}` regexes), so the server and the browser need no data file.
 *
 * Limits: the answer follows the engine's Unicode version (Node 20 here: Unicode 17), so a
 * browser with older data may not know a recent script; names the engine cannot parse are
 * skipped, and a character of such a script is unassigned to that engine anyway.
 */

/**
 * Every script long name (PropertyValueAliases.txt, Unicode 17) except Common, Inherited and
 * Unknown. Ordered by how often names use them, so `scriptOf` usually stops early.
 */
const SCRIPT_NAMES = [
  "Latin", "Han", "Cyrillic", "Arabic", "Hiragana", "Katakana", "Hangul", "Greek", "Devanagari",
  "Hebrew", "Thai", "Bengali", "Tamil", "Telugu", "Gujarati", "Gurmukhi", "Kannada", "Malayalam",
  "Armenian", "Georgian", "Ethiopic", "Sinhala", "Myanmar", "Khmer", "Lao", "Tibetan", "Bopomofo",
  "Oriya", "Thaana", "Syriac", "Mongolian",
  "Adlam", "Ahom", "Anatolian_Hieroglyphs", "Avestan", "Balinese", "Bamum", "Bassa_Vah", "Batak",
  "Beria_Erfe", "Bhaiksuki", "Brahmi", "Braille", "Buginese", "Buhid", "Canadian_Aboriginal",
  "Carian", "Caucasian_Albanian", "Chakma", "Cham", "Cherokee", "Chorasmian", "Coptic",
  "Cuneiform", "Cypriot", "Cypro_Minoan", "Deseret", "Dives_Akuru", "Dogra", "Duployan",
  "Egyptian_Hieroglyphs", "Elbasan", "Elymaic", "Garay", "Glagolitic", "Gothic", "Grantha",
  "Gunjala_Gondi", "Gurung_Khema", "Hanifi_Rohingya", "Hanunoo", "Hatran", "Imperial_Aramaic",
  "Inscriptional_Pahlavi", "Inscriptional_Parthian", "Javanese", "Kaithi", "Kawi", "Kayah_Li",
  "Kharoshthi", "Khitan_Small_Script", "Khojki", "Khudawadi", "Kirat_Rai", "Lepcha", "Limbu",
  "Linear_A", "Linear_B", "Lisu", "Lycian", "Lydian", "Mahajani", "Makasar", "Mandaic",
  "Manichaean", "Marchen", "Masaram_Gondi", "Medefaidrin", "Meetei_Mayek", "Mende_Kikakui",
  "Meroitic_Cursive", "Meroitic_Hieroglyphs", "Miao", "Modi", "Mro", "Multani", "Nabataean",
  "Nag_Mundari", "Nandinagari", "New_Tai_Lue", "Newa", "Nko", "Nushu", "Nyiakeng_Puachue_Hmong",
  "Ogham", "Ol_Chiki", "Ol_Onal", "Old_Hungarian", "Old_Italic", "Old_North_Arabian",
  "Old_Permic", "Old_Persian", "Old_Sogdian", "Old_South_Arabian", "Old_Turkic", "Old_Uyghur",
  "Osage", "Osmanya", "Pahawh_Hmong", "Palmyrene", "Pau_Cin_Hau", "Phags_Pa", "Phoenician",
  "Psalter_Pahlavi", "Rejang", "Runic", "Samaritan", "Saurashtra", "Sharada", "Shavian",
  "Siddham", "Sidetic", "SignWriting", "Sogdian", "Sora_Sompeng", "Soyombo", "Sundanese",
  "Sunuwar", "Syloti_Nagri", "Tagalog", "Tagbanwa", "Tai_Le", "Tai_Tham", "Tai_Viet", "Tai_Yo",
  "Takri", "Tangsa", "Tangut", "Tifinagh", "Tirhuta", "Todhri", "Tolong_Siki", "Toto",
  "Tulu_Tigalari", "Ugaritic", "Vai", "Vithkuqi", "Wancho", "Warang_Citi", "Yezidi", "Yi",
  "Zanabazar_Square",
] as const; // prettier-ignore

/** Characters that belong to every script (UTS #24 Common and Inherited): digits 0-9, "_", marks… */
const ANY_SCRIPT = /^[\p{scx=Zyyy}\p{scx=Zinh}]$/u;

interface Script {
  name: string;
  /** Script property: the script the character is assigned to */
  sc: RegExp;
  /** Script_Extensions property: the scripts the character is used with */
  scx: RegExp;
}

interface Tables {
  /** the scripts this engine knows, in SCRIPT_NAMES order */
  scripts: Script[];
  /** one capture group per script (group i+1 is scripts[i]): one exec finds the script */
  which: RegExp;
  /**
   * Characters used with more scripts than their own (Script_Extensions beyond Script: "ー",
   * Arabic-Indic digits, Vedic marks; about 350). Undefined where the engine lacks the `v` flag
   * (older browsers): then every character takes the slow path.
   */
  extended: RegExp | undefined;
}

let tables: Tables | undefined;
/** Script sets of extended characters: bounded, since only those ~350 characters land here. */
const extendedSets = new Map<string, ReadonlySet<string>>();
/**
 * The script scriptOf found last, tried first: the letters of a name share one script, and one
 * regex test (~0.1 µs) is much cheaper than the alternation's exec (~3 µs).
 */
let lastFound: Script | undefined;

/** Built on first use (about 25 ms): a client that never checks a non-ASCII name never pays. */
function getTables(): Tables {
  if (tables !== undefined) return tables;
  const scripts: Script[] = [];
  for (const name of SCRIPT_NAMES) {
    try {
      scripts.push({
        name,
        sc: new RegExp(`^\\p{sc=${name}}$`, "u"),
        scx: new RegExp(`^\\p{scx=${name}}$`, "u"),
      });
    } catch {
      // this engine's Unicode data predates the script
    }
  }
  let extended: RegExp | undefined;
  try {
    const parts = scripts.map((s) => `[\\p{scx=${s.name}}--\\p{sc=${s.name}}]`).join("");
    extended = new RegExp(`^[${parts}]$`, "v");
  } catch {
    extended = undefined;
  }
  const which = new RegExp(`^(?:${scripts.map((s) => `(\\p{sc=${s.name}})`).join("|")})$`, "u");
  tables = { scripts, which, extended };
  return tables;
}

/**
 * The scripts `char` (one code point) is used with: its Script_Extensions, so the Japanese
 * prolonged sound mark "ー" gives Hiragana and Katakana. `undefined` for Common and Inherited
 * characters, which go with any script. A character of a script missing from the table above
 * gets a set of its own ("Unknown"), so it never joins another script.
 */
export function scriptsOf(char: string): ReadonlySet<string> | undefined {
  if (ANY_SCRIPT.test(char)) return undefined;
  const t = getTables();
  if (t.extended !== undefined && !t.extended.test(char)) return new Set([scriptOf(char)]);
  const cached = extendedSets.get(char);
  if (cached !== undefined) return cached;
  const found = new Set<string>();
  for (const s of t.scripts) if (s.scx.test(char)) found.add(s.name);
  if (found.size === 0) found.add("Unknown");
  if (t.extended !== undefined) extendedSets.set(char, found);
  return found;
}

/** The one script `char` is assigned (Script property); "Common" or "Inherited" for those. */
export function scriptOf(char: string): string {
  if (/^\p{sc=Zyyy}$/u.test(char)) return "Common";
  if (/^\p{sc=Zinh}$/u.test(char)) return "Inherited";
  if (lastFound?.sc.test(char) === true) return lastFound.name;
  const t = getTables();
  const m = t.which.exec(char);
  if (m === null) return "Unknown";
  const i = m.findIndex((group, index) => index > 0 && group !== undefined);
  lastFound = t.scripts[i - 1];
  return lastFound?.name ?? "Unknown";
}

/** Every script name this engine knows, for tests. */
export function knownScripts(): readonly string[] {
  return getTables().scripts.map((s) => s.name);
}
