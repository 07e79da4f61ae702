#!/usr/bin/env python3
"""Generate the golden file for the uncased BERT WordPiece tokenizer.

Produces ``tests/golden/tokenizer_uncased.jsonl``: one JSON object per line,
``{"text": <input string>, "ids": [<token id>, ...]}``, where ``ids`` is what
HuggingFace's ``BertTokenizerFast`` (built from
``assets/bert-base-uncased-vocab.txt`` with ``do_lower_case=True``) returns for
``tok(text, add_special_tokens=False)["input_ids"]``.  The Rust tokenizer in
this crate must reproduce every line exactly.

Inputs are ~100 hand-written edge-case sentences (accents, CJK, emoji, control
and zero-width characters, very long words, scripts other than Latin, ...)
followed by a few hundred sentences generated deterministically with
``random.Random(1234)`` from small word/fragment pools defined below.  All text
is written for this script; nothing is copied from any corpus.

Rerun from the repository root (needs ``pip install transformers tokenizers``;
PyTorch is not required):

    python3 scripts/make_tokenizer_golden.py

The output is deterministic: rerunning with the same vocabulary and tokenizer
versions yields a byte-identical file.  Works with transformers 4.x (which
reads ``vocab_file=``) and 5.x (which silently ignores ``vocab_file=`` and
needs ``vocab=`` instead; handled in ``build_tokenizer``).

Note: the literal special-token strings ([CLS], [SEP], [MASK], [PAD], [UNK])
are deliberately kept out of the inputs, because HuggingFace matches them as
added tokens in raw text while the original BERT tokenizer does not.
"""

import collections
import json
import os
import random
import sys

VOCAB_PATH = "assets/bert-base-uncased-vocab.txt"
OUT_PATH = "tests/golden/tokenizer_uncased.jsonl"
SEED = 1234
N_GENERATED = 240

SPECIAL_IDS = {"[PAD]": 0, "[UNK]": 100, "[CLS]": 101, "[SEP]": 102, "[MASK]": 103}

# ---------------------------------------------------------------------------
# Hand-written edge cases.
# ---------------------------------------------------------------------------

LONG_WORD_100 = "a" * 100  # exactly max_input_chars_per_word: still word-pieced
LONG_WORD_101 = "b" * 101  # one char over the limit: becomes [UNK]
LONG_MIXED = "Supercalifragilistic" * 6  # 120 chars
LONG_MULTIBYTE = "é" * 60  # 120 UTF-8 bytes but only 60 chars (NFD: 120 chars!)
LONG_HYPHENATED = "-".join(["tick"] * 30)  # long but split on punctuation

HANDWRITTEN = [
    # --- plain English, mixed case, apostrophes, hyphenation -------------
    "The quick brown fox jumps over the lazy dog.",
    "HELLO World, hElLo wOrLd!",
    "It's the cat's toy, isn't it? They'd've known.",
    "Rock 'n' roll never dies; O'Brien and D'Angelo agree.",
    "A well-known state-of-the-art mother-in-law arrived.",
    "Re-enter the co-operative pre-1990s re-examination.",
    "Unbelievably, the tokenization of unaffordable hyperparameters works.",
    "McDonald's iPhone eBay YouTube JavaScript camelCaseIdentifier",
    "snake_case_identifier and SCREAMING_SNAKE_CASE and kebab-case-name",
    "",
    " ",
    "   leading and trailing whitespace   ",
    "a",
    "I",
    ".",
    # --- accents and diacritics ------------------------------------------
    "Café au lait, naïve résumé, jalapeño piñata, façade.",
    "Ångström measured 1 Å; Dvořák composed; Škoda and Łódź.",
    "Crème brûlée à la française, déjà vu, über cool, Straße.",
    "SØREN KIERKEGAARD and Ærøskøbing; Þórr and Ðuro.",
    "Zoë Brontë coöperate reëlect; Mötley Crüe.",
    "İstanbul ışık ĞÜŞÖÇ Iğdır",
    "Nguyễn Thị Minh Khai, Việt Nam, Hà Nội.",
    "ﬁnancial ﬂow with ligatures ﬀ ﬃ and Ǆ digraph",
    # --- combining marks ---------------------------------------------------
    "Combining: e\u0301 a\u0300 n\u0303 o\u0308 u\u0308ber",
    "Z\u0335\u0327a\u0336\u0327l\u0338\u0328g\u0337\u0322o\u0334\u0327 text",
    "\u0301leading combining acute and trailing\u0301",
    "Stacked: a\u0301\u0302\u0303\u0304\u0305\u0306\u0307\u0308",
    # --- CJK ------------------------------------------------------------
    "中文分词测试：我爱北京天安门。",
    "北京大学的学生在图书馆里学习人工智能。",
    "東京タワーは高さ333メートルです。",
    "ひらがなとカタカナと漢字が混ざった文。",
    "ｶﾀｶﾅ半角 and ＦＵＬＬＷＩＤＴＨ ｌｅｔｔｅｒｓ １２３",
    "한국어 문장입니다. 서울특별시 강남구.",
    "안녕하세요, 세계! 대한민국 만세.",
    "Mixed 中文 and English 混合 text with 日本語.",
    "CJK punctuation「引用」『二重』【括弧】、。・",
    "Rare ideographs: 𠀀𠀁 𪚥 㐀㐁 丽丸",
    # --- other scripts -------------------------------------------------
    "Русский текст: Москва — столица России.",
    "ПРИВЕТ, мир! Ёлка и ёжик.",
    "Ελληνικά: Η Αθήνα είναι η πρωτεύουσα της Ελλάδας.",
    "ΟΔΟΣ ΣΟΦΟΚΛΕΟΥΣ and ΣΊΣΥΦΟΣ in capitals",
    "العربية: مرحبا بالعالم. اَلْعَرَبِيَّةُ",
    "עברית: שלום עולם",
    "हिन्दी: नमस्ते दुनिया। भारत एक देश है।",
    "বাংলা ভাষা and தமிழ் மொழி",
    "ภาษาไทย สวัสดีครับ",
    "ქართული ენა and Հայերեն լեզու",
    "አማርኛ ቋንቋ and ᠮᠣᠩᠭᠣᠯ",
    # --- punctuation runs and quotes --------------------------------------
    "Wait... what?!?! No!!! Really???",
    "Ellipsis… em—dash – en-dash ‒ figure ― bar",
    "\"Double\" 'single' “curly double” ‘curly single’ «guillemets» ‹angle›",
    "„German quotes“ and ‚low single‘ and 「Japanese」",
    "`backticks` and ``double backticks'' and ´acute´",
    "(parens) [brackets] {braces} <angles> /slashes\\ |pipes|",
    "~!@#$%^&*()_+-={}[]|\\:;\"'<>,.?/",
    "*** --- === ___ +++ ### @@@ %%% ^^^ ~~~",
    "¡Hola! ¿Qué tal? ‼ ⁇ ⁈ ⁉",
    "§ 12 ¶ 3 † ‡ • · ° ′ ″ ‰ ‱",
    # --- numbers ------------------------------------------------------
    "Pi is about 3.14159 and e is about 2.71828.",
    "There were 1,000,000 people; 1.000.000 in German notation.",
    "The 2019–20 season and the 1990s and '80s.",
    "Ten to the sixth is 10^6 = 1e6 = 1E+06.",
    "Phone: +1 (555) 123-4567, ext. 89.",
    "Dates: 2024-03-15, 15/03/2024, 03.15.24, 12:34:56.",
    "Fractions ½ ¼ ¾ ⅓ and superscripts x² y³ and subscripts H₂O",
    "Ordinals 1st 2nd 3rd 4th 21st 101st and Roman XIV Ⅻ",
    "Arabic-Indic digits ١٢٣٤٥ and Devanagari digits १२३",
    "Version v1.2.3-beta+build.456 and 0x1F and 0b1010",
    "12345678901234567890123456789012345678901234567890",
    # --- currency -----------------------------------------------------
    "Prices: $5, €10.50, £3, ¥1000, ₹250, ₩5000, ₽99, ₿0.01.",
    "It costs USD 1.5M or $1.5 million (≈ €1.4m).",
    "50¢ and 3¤ and ₺20 and ₪7 and ฿100",
    # --- emoji --------------------------------------------------------
    "I love it 😀😂🤣❤️👍",
    "Family emoji: 👨\u200d👩\u200d👧\u200d👦 and couple 👩\u200d❤️\u200d👨",
    "Skin tones: 👋🏻 👋🏼 👋🏽 👋🏾 👋🏿",
    "Flags 🇺🇸 🇯🇵 🇩🇪 and keycap 1️⃣ #️⃣",
    "Professions 👩🏽\u200d🔬 🧑\u200d🚀 and 🏳️\u200d🌈",
    "Symbols ☺ ☃ ★ ♠ ♣ ♥ ♦ ✓ ✗ → ← ↑ ↓ ∞ ≠ ≤ ≥",
    # --- control and zero-width characters, tabs, odd whitespace -----------
    "tab\tseparated\tvalues\there",
    "line one\nline two\r\nline three\rline four",
    "zero\u200bwidth\u200bspace and zero\u200cwidth\u200dnon-joiner",
    "soft\u00adhyphen and word\u2060joiner and \ufeffBOM",
    "null\u0000char bell\u0007 escape\u001b[31mred\u001b[0m",
    "replacement \ufffd char and DEL\u007f and C1\u0085next",
    "no\u00a0break\u00a0space and ideographic\u3000space and thin\u2009space",
    "form\u000cfeed and vertical\u000btab",
    "line\u2028separator and paragraph\u2029separator",
    "bidi \u202eoverride\u202c and \u200fRLM\u200e marks",
    "\t\n\r\u00a0\u3000",
    "\u200b\u200b\u200b",
    "variation selector text\ufe0e emoji\ufe0f",
    "private use \ue000\uf8ff and tag \U000e0041",
    # --- very long words ------------------------------------------------
    f"short {LONG_WORD_100} short",
    f"short {LONG_WORD_101} short",
    f"The word {LONG_MIXED} is too long.",
    f"multibyte {LONG_MULTIBYTE} word",
    f"hyphenated {LONG_HYPHENATED} chain",
    "Pneumonoultramicroscopicsilicovolcanoconiosis is long but fine.",
    "Llanfairpwllgwyngyllgogerychwyrndrobwllllantysiliogogogoch station",
    # --- URLs, e-mail, paths, code -----------------------------------------
    "Visit https://www.example.com/path/to/page?query=1&lang=en#section now.",
    "ftp://files.example.org:2121/pub/file_v2.tar.gz",
    "Mail me at john.doe+tag@example.co.uk or admin@localhost.",
    "C:\\Program Files\\App\\bin\\app.exe and /usr/local/bin/python3",
    "Use `fn main() { println!(\"hi\"); }` in Rust.",
    "<html><body class=\"x\">Hello &amp; welcome &lt;3</body></html>",
    "#hashtag @mention r/subreddit u/username",
    # --- chemistry, maths, science ------------------------------------------
    "Water is H2O, table salt is NaCl, and glucose is C6H12O6.",
    "Sulfuric acid H₂SO₄ reacts with Ca(OH)₂ to form CaSO₄·2H₂O.",
    "E = mc² and ∫₀^∞ e^{-x²} dx = √π/2 and ∑ᵢ xᵢ",
    "The α-helix and β-sheet; Δ G < 0; μm and Ω.",
    "Temperature was 37.5°C (99.5°F) at 1013.25 hPa.",
    # --- abbreviations and initials -------------------------------------
    "Dr. J. R. R. Tolkien and Mr. T.S. Eliot met in the U.S.A. e.g. in St. Louis, i.e. Missouri.",
    "The U.N. and N.A.T.O. and Ph.D. and a.m. vs p.m.",
]

# ---------------------------------------------------------------------------
# Pools for deterministic random generation.
# ---------------------------------------------------------------------------

SUBJECTS = [
    "The committee", "A small village", "Our research group", "The old lighthouse",
    "Every student", "The river delta", "My neighbour's dog", "The orchestra",
    "An unknown author", "The city council", "The startup", "Her grandmother",
    "The spacecraft", "A flock of starlings", "The museum curator", "Nobody",
]
VERBS = [
    "announced", "rebuilt", "discovered", "ignored", "celebrated", "measured",
    "photographed", "translated", "re-evaluated", "didn't understand", "won't forget",
    "carefully catalogued", "unexpectedly abandoned", "painted", "borrowed",
]
OBJECTS = [
    "the northern bridge", "a forgotten manuscript", "three hundred lanterns",
    "the annual harvest festival", "an experimental violin", "the tide tables",
    "a pair of mismatched boots", "the municipal archives", "a café near the station",
    "the Dvořák symphony", "a naïve hypothesis", "the Ångström scale",
    "its own reflection", "the 1,000th visitor", "a 3.5-metre sculpture",
]
ADVERBIALS = [
    "yesterday", "in 1987", "during the 2019–20 winter", "at 6:45 a.m.",
    "for about $2.50", "without hesitation", "in São Paulo", "near Zürich",
    "after the storm", "on Tuesday", "in the U.K.", "for 10^3 days",
    "with 99.9% certainty", "before dawn", "twice", "at St. Mary's",
]
FRAGMENTS = [
    "東京", "北京市", "서울", "カタカナ", "ひらがな", "Москва", "Αθήνα", "القاهرة",
    "मुंबई", "ไทย", "😀", "👍🏽", "🇫🇷", "👩\u200d💻", "❤️", "→", "≥", "½",
    "H₂O", "CO2", "C8H10N4O2", "™", "©", "®", "¶", "§", "€", "£", "¥",
    "e\u0301", "n\u0303", "\u200b", "\u00ad", "\t", "\u00a0", "\u3000",
    "https://example.net/a?b=c", "user@example.org", "#tag", "@handle",
    "O'Neill", "rock-'n'-roll", "co-op", "e.g.", "i.e.", "etc.", "Dr.", "Ph.D.",
    "3.14", "1,234,567", "-42", "+7", "0.001", "1e-9", "10^6", "2nd", "42nd",
    "CamelCase", "ALLCAPS", "MiXeD", "snake_case", "x86_64", "UTF-8",
]
PUNCT = [".", "!", "?", "...", "?!", ";", ":", " —", ",", "…", "", "!!!", ".\"", ".)"]
WRAPPERS = [
    ("", ""), ("\"", "\""), ("“", "”"), ("'", "'"), ("(", ")"), ("[", "]"),
    ("«", "»"), ("「", "」"), ("*", "*"), ("_", "_"),
]
WORDS = [
    "apple", "banana", "cherry", "delta", "echo", "foxtrot", "granite", "harbour",
    "island", "juniper", "kettle", "lantern", "meadow", "nebula", "orchard",
    "pavilion", "quartz", "ridge", "saffron", "thimble", "umbrella", "velvet",
    "willow", "xylophone", "yarrow", "zephyr", "antidisestablishmentarianism",
    "photosynthesis", "electroencephalography", "unhappiness", "rewriting",
    "tokenizers", "wordpiece", "preprocessing", "Ångström", "naïve", "résumé",
    "façade", "jalapeño", "Straße", "Ελλάδα", "Россия", "日本", "中国", "한국",
]


def gen_sentence(rng: random.Random) -> str:
    """Build one pseudo-random sentence from the pools above."""
    kind = rng.randrange(6)
    if kind == 0:
        # Grammatical sentence with an optional fragment inserted.
        parts = [rng.choice(SUBJECTS), rng.choice(VERBS), rng.choice(OBJECTS),
                 rng.choice(ADVERBIALS)]
        if rng.random() < 0.5:
            parts.insert(rng.randrange(1, len(parts) + 1), rng.choice(FRAGMENTS))
        return " ".join(parts) + rng.choice(PUNCT)
    if kind == 1:
        # Word salad with random casing.
        words = []
        for _ in range(rng.randint(3, 12)):
            w = rng.choice(WORDS)
            r = rng.random()
            if r < 0.2:
                w = w.upper()
            elif r < 0.4:
                w = w.capitalize()
            elif r < 0.5:
                w = "".join(c.upper() if rng.random() < 0.5 else c for c in w)
            words.append(w)
        return " ".join(words) + rng.choice(PUNCT)
    if kind == 2:
        # Fragments glued together with or without separators.
        seps = ["", " ", "-", "/", ",", "\t", "  ", "_", "."]
        n = rng.randint(2, 8)
        return rng.choice(seps).join(rng.choice(FRAGMENTS) for _ in range(n))
    if kind == 3:
        # Quoted phrase inside a sentence.
        left, right = rng.choice(WRAPPERS)
        inner = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 4)))
        return (f"{rng.choice(SUBJECTS)} said {left}{inner}{right} "
                f"{rng.choice(ADVERBIALS)}{rng.choice(PUNCT)}")
    if kind == 4:
        # Numbers, units and currencies.
        n = rng.choice([
            str(rng.randint(0, 10**9)),
            f"{rng.randint(0, 999)},{rng.randint(0, 999):03d},{rng.randint(0, 999):03d}",
            f"{rng.uniform(0, 1000):.{rng.randint(1, 6)}f}",
            f"{rng.randint(1900, 2099)}–{rng.randint(0, 99):02d}",
            f"{rng.randint(1, 20)}^{rng.randint(1, 12)}",
            f"-{rng.randint(1, 99)}.{rng.randint(0, 9)}e{rng.randint(-9, 9)}",
        ])
        unit = rng.choice(["km", "kg", "°C", "%", "m²", "µs", "GB", "", "x", "€", "$"])
        sym = rng.choice(["$", "€", "£", "¥", "₹", ""])
        return f"{rng.choice(SUBJECTS)} paid {sym}{n}{unit} {rng.choice(ADVERBIALS)}."
    # Character-level noise: a word with random insertions.
    w = list(rng.choice(WORDS + OBJECTS))
    inserts = ["\u0301", "\u200b", "\u00ad", "'", "-", ".", "ß", "æ", "ø", "中",
               "😀", " ", "\t", "\u0000", "#", "@", "9"]
    for _ in range(rng.randint(1, 4)):
        w.insert(rng.randrange(len(w) + 1), rng.choice(inserts))
    return "".join(w)


# ---------------------------------------------------------------------------


def load_vocab(path: str) -> "collections.OrderedDict[str, int]":
    vocab = collections.OrderedDict()
    with open(path, "r", encoding="utf-8") as f:
        for index, line in enumerate(f):
            vocab[line.rstrip("\n")] = index
    return vocab


def build_tokenizer():
    from transformers import BertTokenizerFast

    tok = BertTokenizerFast(vocab_file=VOCAB_PATH, do_lower_case=True)
    if tok.convert_tokens_to_ids("[CLS]") != SPECIAL_IDS["[CLS]"]:
        # transformers >= 5 ignores vocab_file= and falls back to a tiny default
        # vocabulary; it takes the vocabulary through vocab= instead.
        tok = BertTokenizerFast(vocab=load_vocab(VOCAB_PATH), do_lower_case=True)

    # Guard against silent API drift: the tokenizer must really use our vocab.
    vocab = load_vocab(VOCAB_PATH)
    assert len(vocab) == 30522, len(vocab)
    assert tok.vocab_size == len(vocab), tok.vocab_size
    for token, idx in SPECIAL_IDS.items():
        assert tok.convert_tokens_to_ids(token) == idx, (token, idx)
    probe = tok("Hello, world!", add_special_tokens=False)["input_ids"]
    assert probe == [vocab["hello"], vocab[","], vocab["world"], vocab["!"]], probe
    return tok


def main() -> int:
    if not os.path.exists(VOCAB_PATH):
        print(f"error: {VOCAB_PATH} not found; run from the repository root",
              file=sys.stderr)
        return 1
    tok = build_tokenizer()

    rng = random.Random(SEED)
    texts = list(HANDWRITTEN)
    seen = set(texts)
    while len(texts) < len(HANDWRITTEN) + N_GENERATED:
        t = gen_sentence(rng)
        if t not in seen:
            seen.add(t)
            texts.append(t)

    for t in texts:
        low = t.lower()
        for special in SPECIAL_IDS:
            assert special.lower() not in low, f"special token string in input: {t!r}"

    os.makedirs(os.path.dirname(OUT_PATH), exist_ok=True)
    n_unk = 0
    with open(OUT_PATH, "w", encoding="utf-8", newline="\n") as out:
        for t in texts:
            ids = tok(t, add_special_tokens=False)["input_ids"]
            n_unk += ids.count(SPECIAL_IDS["[UNK]"])
            out.write(json.dumps({"text": t, "ids": ids}, ensure_ascii=False) + "\n")
    print(f"wrote {len(texts)} sentences ({len(HANDWRITTEN)} hand-written, "
          f"{len(texts) - len(HANDWRITTEN)} generated, {n_unk} [UNK] ids) to {OUT_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
