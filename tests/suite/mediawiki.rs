//! MediaWiki XML dumps through the binary, on the real samples in
//! `../shared/corpora/mediawiki/`: detection by content, pages counted and chosen, text clean
//! of markup, WikiExtractor's words kept, `extract` round trips, every compression (multi-stream
//! bzip2 decompressed in parallel), and bad dumps as clear errors.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use bertprep::output::manifest::Manifest;

use crate::util::{bertprep, build_ok, file_names, shared_corpus};

/// A sample dump, or `None` (skipped, unless the corpora are required).
fn sample(name: &str) -> Option<PathBuf> {
    Some(shared_corpus("mediawiki")?.join(name))
}

/// The decompressed bytes of a `.bz2` sample.
fn decompressed(path: &Path) -> Vec<u8> {
    let mut out = Vec::new();
    bzip2::read::MultiBzDecoder::new(std::fs::File::open(path).unwrap())
        .read_to_end(&mut out)
        .unwrap();
    out
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// `bertprep sentences ARGS` (asserted to succeed): its output.
fn sentences(args: &[&str]) -> String {
    let mut all = vec!["sentences"];
    all.extend_from_slice(args);
    let out = bertprep(&all);
    assert!(
        out.status.success(),
        "sentences {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A finished build of `input` into a new directory under `dir`, with `extra` flags.
fn build_in(dir: &Path, name: &str, input: &Path, extra: &[&str]) -> (PathBuf, Manifest) {
    let out = dir.join(name);
    let mut flags = vec!["--max-seq-len", "128"];
    flags.extend_from_slice(extra);
    build_ok(input, &out, &flags);
    let manifest = Manifest::read(&out).unwrap();
    (out, manifest)
}

/// Markup a clean extraction never holds.
const MARKUP: [&str; 11] = [
    "{{",
    "}}",
    "[[",
    "]]",
    "<ref",
    "&quot;",
    "&nbsp;",
    "&amp;",
    "'''",
    "__NOTOC__",
    "|-",
];

#[test]
fn an_english_dump_builds_its_articles_only_and_clean() {
    let Some(dump) = sample("enwiki-sample.xml.bz2") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (_, m) = build_in(dir.path(), "out", &dump, &[]);
    let p = &m.counters.pages;
    assert_eq!(
        (
            p.pages,
            p.articles,
            p.redirects,
            p.other_namespaces,
            p.empty
        ),
        (100, 30, 70, 0, 0)
    );
    assert_eq!(m.counters.documents, 30);
    assert_eq!(m.inputs[0].format.name(), "mediawiki");
    let text = sentences(&[s(&dump)]);
    let words = text.split_whitespace().count();
    assert!(words > 80_000, "{words} words");
    for bad in MARKUP {
        let at = text.find(bad);
        assert!(
            at.is_none(),
            "{bad:?} left in: {:?}",
            at.map(|i| &text[i.saturating_sub(60)..(i + 60).min(text.len())])
        );
    }
    assert!(text.contains("Anarchism is a political philosophy"));
}

/// Words of `text` as a multiset, lowercased, punctuation trimmed.
fn word_counts(text: &str) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for w in text.split_whitespace() {
        let w = w
            .trim_matches(|c: char| !c.is_alphanumeric())
            .to_lowercase();
        if !w.is_empty() {
            *counts.entry(w).or_default() += 1;
        }
    }
    counts
}

#[test]
fn a_vietnamese_dump_keeps_wikiextractors_words_and_drops_its_markup() {
    let (Some(dump), Some(reference)) = (
        sample("viwiki-sample.xml.bz2"),
        sample("viwiki-sample.wikiextractor.txt"),
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (_, m) = build_in(dir.path(), "out", &dump, &[]);
    let p = &m.counters.pages;
    assert_eq!(
        (
            p.pages,
            p.articles,
            p.redirects,
            p.other_namespaces,
            p.empty
        ),
        (10, 6, 3, 1, 1)
    );
    let ours = sentences(&[s(&dump)]);
    // WikiExtractor's own output, read as WikiExtractor text: the same articles' words.
    let theirs = sentences(&["--format", "wiki", s(&reference)]);
    let (ours_w, theirs_w) = (word_counts(&ours), word_counts(&theirs));
    let total: usize = theirs_w.values().sum();
    let kept: usize = theirs_w
        .iter()
        .map(|(w, &n)| n.min(ours_w.get(w).copied().unwrap_or(0)))
        .sum();
    assert!(
        kept as f64 >= 0.97 * total as f64,
        "kept {kept} of WikiExtractor's {total} words"
    );
    assert!(ours.contains("Tiếng Việt"));
    for bad in [
        "Tập tin:",
        "[[",
        "{{",
        "templatestyles",
        "__NOEDITSECTION__",
    ] {
        assert!(!ours.contains(bad), "{bad:?} left in our text");
    }
    assert!(theirs.contains("templatestyles"), "WikiExtractor keeps it");
}

#[test]
fn a_utf16_bulgarian_dump_reads_its_local_namespaces() {
    let Some(dump) = sample("bgwiki-sample.xml.bz2") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (_, m) = build_in(dir.path(), "out", &dump, &[]);
    let p = &m.counters.pages;
    assert_eq!((p.pages, p.articles, p.other_namespaces), (3, 1, 2));
    let text = sentences(&[s(&dump)]);
    assert!(
        text.contains("Григориански"),
        "{}",
        &text[..200.min(text.len())]
    );
    assert!(!text.contains("[[") && !text.contains("{{"));
    // --namespaces chooses others: the two non-article pages become documents too.
    let (_, all) = build_in(dir.path(), "all", &dump, &["--namespaces", "0,4,10,14"]);
    assert!(all.counters.pages.articles > 1, "{:?}", all.counters.pages);
    assert_eq!(all.config.namespaces, [0, 4, 10, 14]);
}

/// The enwiki sample's XML, written plain under a name that says nothing, and compressed every
/// way: each is found to be a dump by its content and gives the same shards.
#[test]
fn dumps_are_found_by_content_under_any_name_and_compression() {
    let Some(dump) = sample("enwiki-sample.xml.bz2") else {
        return;
    };
    let xml = decompressed(&dump);
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("data.txt");
    std::fs::write(&plain, &xml).unwrap();
    let gz = dir.path().join("data.gz");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(&xml).unwrap();
    std::fs::write(&gz, enc.finish().unwrap()).unwrap();
    let zst = dir.path().join("data.zst");
    std::fs::write(&zst, zstd::encode_all(&xml[..], 1).unwrap()).unwrap();
    let xz = dir.path().join("data.xz");
    let mut enc = xz2::write::XzEncoder::new(Vec::new(), 1);
    enc.write_all(&xml).unwrap();
    std::fs::write(&xz, enc.finish().unwrap()).unwrap();
    let (reference, _) = build_in(dir.path(), "bz2", &dump, &[]);
    let want = shard_bytes(&reference);
    for (name, input) in [("plain", &plain), ("gz", &gz), ("zst", &zst), ("xz", &xz)] {
        let (out, m) = build_in(dir.path(), name, input, &[]);
        assert_eq!(m.counters.pages.articles, 30, "{name}");
        assert!(shard_bytes(&out) == want, "{name} gives other shards");
    }
}

/// The bytes of every shard in `dir`, in order.
fn shard_bytes(dir: &Path) -> Vec<Vec<u8>> {
    file_names(dir)
        .iter()
        .filter(|n| n.ends_with(".parquet"))
        .map(|n| std::fs::read(dir.join(n)).unwrap())
        .collect()
}

/// `xml` cut into bzip2 streams as Wikimedia's multistream dumps are: the header, then groups
/// of `pages` pages, each compressed on its own, concatenated.
fn multistream(xml: &[u8], pages: usize) -> Vec<u8> {
    let text = std::str::from_utf8(xml).unwrap();
    let mut cuts = vec![0];
    for (seen, (i, _)) in text.match_indices("  <page>").enumerate() {
        if seen % pages == 0 {
            cuts.push(i);
        }
    }
    cuts.push(xml.len());
    cuts.dedup();
    let mut out = Vec::new();
    for w in cuts.windows(2) {
        let mut enc = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
        enc.write_all(&xml[w[0]..w[1]]).unwrap();
        out.extend(enc.finish().unwrap());
    }
    out
}

#[test]
fn a_multistream_dump_decompressed_in_parallel_gives_the_same_shards() {
    let Some(dump) = sample("enwiki-sample.xml.bz2") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let multi = dir.path().join("enwiki-multistream.xml.bz2");
    let bytes = multistream(&decompressed(&dump), 5);
    assert!(
        bertprep::input::bz2par::is_multistream(&bytes[..bytes.len().min(1 << 20)]),
        "the test file must be multi-stream for the parallel decoder to be used"
    );
    std::fs::write(&multi, bytes).unwrap();
    let (single, _) = build_in(dir.path(), "single", &dump, &["--threads", "2"]);
    let (parallel, m) = build_in(dir.path(), "multi", &multi, &["--threads", "2"]);
    assert_eq!(m.counters.pages.pages, 100);
    assert!(shard_bytes(&parallel) == shard_bytes(&single));
}

/// A multi-stream dump cut into pieces for tasks holds every page once: the same pages,
/// articles, documents and text as the file read whole, in streams of 7 pages (each longer
/// than a piece, so some pieces hold no stream start, up to the file's end).
#[test]
fn a_multistream_dump_in_pieces_holds_every_page_once() {
    let Some(dump) = sample("enwiki-sample.xml.bz2") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let multi = dir.path().join("enwiki-multistream.xml.bz2");
    std::fs::write(&multi, multistream(&decompressed(&dump), 7)).unwrap();
    let (_, whole) = build_in(dir.path(), "whole", &multi, &[]);
    let out = dir.path().join("tasks");
    for worker in ["0/2", "1/2"] {
        let flags = [
            "--max-seq-len",
            "128",
            "--piece-bytes",
            "65536",
            "--tasks",
            "3",
        ];
        let mut flags = flags.to_vec();
        flags.extend(["--worker", worker]);
        build_ok(&multi, &out, &flags);
    }
    let finalized = bertprep(&["finalize", s(&out)]);
    assert!(
        finalized.status.success(),
        "{}",
        String::from_utf8_lossy(&finalized.stderr)
    );
    let tasks = Manifest::read(&out).unwrap();
    let (a, b) = (&whole.counters, &tasks.counters);
    assert_eq!(b.pages.pages, 100);
    assert_eq!(
        (a.pages, a.documents, a.sentences, a.text_bytes),
        (b.pages, b.documents, b.sentences, b.text_bytes)
    );
}

#[test]
fn extract_writes_wikiextractor_files_that_read_back_to_the_same_text() {
    let Some(dump) = sample("enwiki-sample.xml.bz2") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let docs = dir.path().join("docs");
    let json = dir.path().join("json");
    for (out, extra) in [(&docs, None), (&json, Some("--json"))] {
        let mut args = vec!["extract", s(&dump), "--out", s(out), "--bytes", "200000"];
        args.extend(extra);
        let run = bertprep(&args);
        assert!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert!(stderr.contains("extracted 30 articles"), "{stderr}");
    }
    let files = file_names(&docs.join("AA"));
    assert!(files.len() > 1 && files[0] == "wiki_00", "{files:?}");
    let first = std::fs::read_to_string(docs.join("AA/wiki_00")).unwrap();
    assert!(first.starts_with(
        "<doc id=\"12\" url=\"https://en.wikipedia.org/wiki?curid=12\" title=\"Anarchism\">\nAnarchism\n"
    ));
    let direct = sentences(&[s(&dump)]);
    assert_eq!(sentences(&[s(&docs)]), direct, "<doc> files read back");
    assert_eq!(sentences(&[s(&json)]), direct, "JSON lines read back");
    // The output directory must be new or empty.
    let again = bertprep(&["extract", s(&dump), "--out", s(&docs)]);
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("not empty"));
}

/// Asserts a failed command: exit 1, one line on stderr containing every one of `what`.
fn assert_fails(args: &[&str], what: &[&str]) {
    let out = bertprep(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "not one line: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    for w in what {
        assert!(stderr.contains(w), "{stderr} does not say {w:?}");
    }
}

#[test]
fn a_truncated_dump_is_an_error_and_skip_keeps_the_pages_before_it() {
    let Some(dump) = sample("enwiki-sample.xml.bz2") else {
        return;
    };
    let xml = decompressed(&dump);
    let text = std::str::from_utf8(&xml).unwrap();
    // Cut inside the 60th page's title.
    let page = text.match_indices("  <page>").nth(59).unwrap().0;
    let cut = page + text[page..].find("<title>").unwrap() + 10;
    let dir = tempfile::tempdir().unwrap();
    let truncated = dir.path().join("cut.xml");
    std::fs::write(&truncated, &xml[..cut]).unwrap();
    let out = dir.path().join("out");
    assert_fails(
        &[
            "build",
            "--in",
            s(&truncated),
            "--out",
            s(&out),
            "--max-seq-len",
            "128",
        ],
        &["cut.xml", "truncated dump", "never closes"],
    );
    assert!(
        file_names(&out).is_empty(),
        "left behind: {:?}",
        file_names(&out)
    );
    let (_, m) = build_in(dir.path(), "skip", &truncated, &["--on-error", "skip"]);
    assert_eq!(m.counters.pages.pages, 59, "the 59 complete pages are kept");
    assert_eq!(m.skipped.len(), 1);
    assert!(m.skipped[0].reason.contains("truncated dump"));
    // Cut inside a bzip2 stream: an error naming the file.
    let compressed = std::fs::read(&dump).unwrap();
    let cut_bz2 = dir.path().join("cut.xml.bz2");
    std::fs::write(&cut_bz2, &compressed[..compressed.len() / 2]).unwrap();
    assert_fails(
        &[
            "build",
            "--in",
            s(&cut_bz2),
            "--out",
            s(&dir.path().join("o2")),
        ],
        &["cut.xml.bz2"],
    );
}

#[test]
fn bad_dumps_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let header = "<mediawiki xml:lang=\"en\">\n  <siteinfo>\n    <dbname>enwiki</dbname>\n    \
                  <base>https://en.wikipedia.org/wiki/Main_Page</base>\n  </siteinfo>\n";
    let page = |body: &str| {
        format!("  <page>\n    <title>T</title>\n    <ns>0</ns>\n    <id>1</id>\n{body}  </page>\n")
    };
    let cases: [(&str, Vec<u8>, &[&str]); 4] = [
        (
            "other.xml",
            b"<catalog>\n  <book>x</book>\n</catalog>\n".to_vec(),
            &["not a MediaWiki dump"],
        ),
        (
            "unclosed-text.xml",
            format!(
                "{header}{}</mediawiki>\n",
                page("    <revision><text>Never closed.\n    </revision>\n")
            )
            .into_bytes(),
            &["unclosed-text.xml"],
        ),
        (
            "malformed.xml",
            format!(
                "{header}{}</mediawiki>\n",
                page("    <revision><text>x</txt></revision>\n")
            )
            .into_bytes(),
            &["malformed.xml", "malformed MediaWiki XML"],
        ),
        (
            "bad-utf8.xml",
            [
                header.as_bytes(),
                page("    <revision><text>caf\u{e9}</text></revision>\n").as_bytes(),
                b"</mediawiki>\n",
            ]
            .concat()
            .iter()
            .map(|&b| if b == 0xc3 { 0xff } else { b })
            .collect(),
            &["bad-utf8.xml", "invalid UTF-8"],
        ),
    ];
    for (name, bytes, what) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let out = dir.path().join(format!("out-{name}"));
        assert_fails(
            &[
                "build",
                "--in",
                s(&path),
                "--out",
                s(&out),
                "--format",
                "mediawiki",
            ],
            what,
        );
    }
}

#[test]
fn wikitext_read_as_plain_text_is_warned_about() {
    let Some(dump) = sample("enwiki-sample.xml.bz2") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let run = bertprep(&[
        "build",
        "--in",
        s(&dump),
        "--out",
        s(&out),
        "--max-seq-len",
        "128",
        "--format",
        "text",
    ]);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    let warnings: Vec<&str> = stderr.lines().filter(|l| l.contains("warning")).collect();
    assert_eq!(warnings.len(), 1, "{stderr}");
    assert!(warnings[0].contains("enwiki-sample.xml.bz2") && warnings[0].contains("wikitext"));
    let m = Manifest::read(&out).unwrap();
    assert_eq!(m.inputs[0].looks_like.as_deref(), Some("wikitext"));
}
