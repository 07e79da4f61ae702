//! `bertprep inspect` through the real binary.
//!
//! - Snapshots of the text and JSON reports on a build of `fixtures/` with fixed flags (the build
//!   is byte-reproducible, so the reports are too). They live in `tests/suite/snapshots/`; after
//!   an intended change to the output run `INSTA_UPDATE=always cargo test inspect` and read the
//!   diff before committing it.
//! - The numbers in the JSON agree with the manifest's counters and with the rows read back.
//! - `--check` passes on a fresh build and fails (exit 1, naming shard and row) on shards altered
//!   by hand: a broken row, a valid-looking edit only the checksum sees, flipped bytes, a missing
//!   or unlisted shard.
//! - Paths that cannot be inspected exit 2 with a message naming the file: not Parquet, Parquet
//!   from another program, truncated, missing; a lost tokenizer.json shows ids and says so.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use arrow_array::{
    ArrayRef, Int16Array, Int32Array, Int64Array, Int8Array, ListArray, RecordBatch, StringArray,
    UInt64Array,
};
use arrow_buffer::OffsetBuffer;
use arrow_schema::{DataType, Field, Schema};
use bertprep::output::manifest::Manifest;
use bertprep::shard::{arrow_schema, read_shard, ShardRow};
use parquet::arrow::ArrowWriter;
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use serde_json::Value;
use tempfile::TempDir;

use crate::util::*;

/// Flags of the fixture build every test here inspects: 130 rows in 4 shards of row groups of 16.
const FLAGS: [&str; 8] = [
    "--max-seq-len",
    "64",
    "--rows-per-shard",
    "40",
    "--row-group-rows",
    "16",
    "--threads",
    "2",
];

fn fixture_build() -> TempDir {
    let out = tempfile::tempdir().unwrap();
    build_ok(&fixtures(), out.path(), &FLAGS);
    out
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn inspect(args: &[&str]) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_bertprep"))
        .arg("inspect")
        .args(args)
        .env_remove("NO_COLOR")
        .output()
        .expect("run bertprep inspect");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The temporary directory's path replaced by `[OUT]`, so snapshots do not depend on it.
fn redact(text: &str, dir: &Path) -> String {
    text.replace(path(dir), "[OUT]")
}

fn json(run: &Run) -> Value {
    serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", run.stdout, run.stderr))
}

#[test]
fn text_report_snapshot() {
    let out = fixture_build();
    let run = inspect(&[path(out.path())]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!run.stdout.contains('\x1b'), "colour when piped");
    insta::assert_snapshot!("text_report", redact(&run.stdout, out.path()));
}

#[test]
fn json_report_snapshot() {
    let out = fixture_build();
    let shard = out.path().join("shard-0001.parquet");
    let run = inspect(&[path(&shard), "--json", "--rows", "2", "--check"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    insta::assert_snapshot!("json_report", redact(&run.stdout, out.path()));
}

/// A decoded segment with its predictions' markup replaced by what they predict.
fn unmarked(shown: &str) -> String {
    let mut out = String::new();
    let mut rest = shown;
    while let Some(at) = ["[MASK→", "[random→", "[kept "]
        .iter()
        .filter_map(|m| rest.find(m).map(|i| (i, m.len())))
        .min()
    {
        out.push_str(&rest[..at.0]);
        let inner = &rest[at.0 + at.1..];
        let end = inner.find(']').unwrap_or(inner.len());
        out.push_str(&inner[..end]);
        rest = &inner[(end + 1).min(inner.len())..];
    }
    out.push_str(rest);
    out
}

#[test]
fn roberta_pairs_decode_and_count_segment_b_after_both_separators() {
    let out = tempfile::tempdir().unwrap();
    let tok_path = fixture_tokenizer("bpe");
    build_ok(
        &fixtures(),
        out.path(),
        &["--tokenizer", path(&tok_path), "--max-seq-len", "64"],
    );
    let tok = bertprep::tokenize::Tokenizer::from_json_file(&tok_path).unwrap();
    let sep = tok.specials().sep as i32;
    let shard = out.path().join("shard-0000.parquet");
    let rows = read_shard(&shard).unwrap().rows;
    let shown = rows.len().min(40);
    let report = json(&inspect(&[
        path(&shard),
        "--json",
        "--rows",
        &shown.to_string(),
    ]));
    let instances = report["instances"].as_array().unwrap();
    assert_eq!(instances.len(), shown);
    // `<s> A </s></s> B </s>`: A before the first `</s>`, B after the second.
    let (mut a_len, mut b_len, mut compared) = (0, 0, 0);
    for (i, row) in rows.iter().enumerate() {
        let n = row.num_tokens as usize;
        let seps: Vec<usize> = (0..n).filter(|&i| row.input_ids[i] == sep).collect();
        assert_eq!(seps.len(), 3, "row {i}");
        a_len += seps[0] - 1;
        b_len += seps[2] - seps[1] - 1;
        let Some(decoded) = instances.get(i) else {
            continue;
        };
        let original: Vec<u32> = (0..n)
            .map(|i| {
                let label = row.labels[i];
                (if label >= 0 { label } else { row.input_ids[i] }) as u32
            })
            .collect();
        let text = |r: std::ops::Range<usize>| tok.decode(&original[r]).unwrap().trim().to_string();
        let (a, b) = (
            decoded["segment_a"].as_str().unwrap(),
            decoded["segment_b"].as_str().unwrap(),
        );
        assert!(
            !a.contains("</s>") && !b.contains("</s>"),
            "row {i}: {a} | {b}"
        );
        let (want_a, want_b) = (text(1..seps[0]), text(seps[1] + 1..seps[2]));
        // Pieces of a character masked alone show as their spelling: compare ASCII rows.
        if want_a.is_ascii() && want_b.is_ascii() && !a.contains("→\"") && !b.contains("→\"") {
            assert_eq!(unmarked(a), want_a, "row {i}");
            assert_eq!(unmarked(b), want_b, "row {i}");
            compared += 1;
        }
    }
    assert!(compared >= 10, "only {compared} rows compared");
    let stats = &report["stats"];
    let mean = |k: &str| stats[k].as_f64().unwrap();
    let rows_n = rows.len() as f64;
    // The report rounds to six decimals.
    assert!((mean("segment_a_mean") - a_len as f64 / rows_n).abs() < 1e-6);
    assert!((mean("segment_b_mean") - b_len as f64 / rows_n).abs() < 1e-6);
    let check = inspect(&[path(out.path()), "--check"]);
    assert_eq!(check.code, 0, "{}", check.stdout);
}

#[test]
fn json_numbers_agree_with_the_manifest_and_the_rows() {
    let out = fixture_build();
    let manifest = Manifest::read(out.path()).unwrap();
    let report = json(&inspect(&[path(out.path()), "--json", "--rows", "0"]));
    let c = &manifest.counters;
    let stats = &report["stats"];
    assert_eq!(report["kind"], "directory");
    assert_eq!(report["files"]["rows"], c.instances);
    assert_eq!(report["files"]["shards"], manifest.shards.len());
    assert_eq!(stats["predictions"]["total"], c.masked);
    assert_eq!(stats["predictions"]["mask"], c.masked_as_mask);
    // A random draw may pick the original token: the build counts it random, the rows show it
    // kept.
    let observed = |k: &str| stats["predictions"][k].as_u64().unwrap();
    assert_eq!(
        observed("random") + observed("kept"),
        c.masked_as_random + c.masked_as_kept
    );
    assert!(observed("kept") >= c.masked_as_kept);
    assert_eq!(stats["next_sentence"]["random_next"], c.random_next);
    let mean = stats["num_tokens"]["mean"].as_f64().unwrap();
    assert!((mean - c.tokens as f64 / c.instances as f64).abs() < 1e-5);
    let histogram: u64 = stats["num_tokens"]["histogram"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["rows"].as_u64().unwrap())
        .sum();
    assert_eq!(histogram, c.instances);
    let per_shard: Vec<u64> = report["shards"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["rows"].as_u64().unwrap())
        .collect();
    let listed: Vec<u64> = manifest.shards.iter().map(|s| s.rows).collect();
    assert_eq!(per_shard, listed);
    assert_eq!(report["instances"].as_array().unwrap().len(), 0);
    assert_eq!(report["check"], Value::Null);

    // Segment lengths and padding from the rows themselves.
    let rows: Vec<ShardRow> = manifest
        .shards
        .iter()
        .flat_map(|s| read_shard(&out.path().join(&s.file)).unwrap().rows)
        .collect();
    let seg_a: usize = rows
        .iter()
        .map(|r| r.input_ids.iter().position(|&t| t == 102).unwrap() - 1)
        .sum();
    let want = seg_a as f64 / rows.len() as f64;
    let got = stats["segment_a_mean"].as_f64().unwrap();
    assert!((got - want).abs() < 1e-5, "{got} vs {want}");
    let padding = rows
        .iter()
        .map(|r| 64 - r.num_tokens as usize)
        .sum::<usize>() as f64
        / (rows.len() * 64) as f64;
    assert!((stats["padding_share"].as_f64().unwrap() - padding).abs() < 1e-5);
}

#[test]
fn row_flag_decodes_one_row_across_shards() {
    let out = fixture_build();
    let report = json(&inspect(&[path(out.path()), "--json", "--row", "45"]));
    let instances = report["instances"].as_array().unwrap();
    assert_eq!(instances.len(), 1);
    let d = &instances[0];
    assert_eq!(
        (&d["shard"], &d["row"], &d["index"]),
        (
            &Value::from("shard-0001.parquet"),
            &Value::from(5),
            &Value::from(45)
        )
    );
    let row = &read_shard(&out.path().join("shard-0001.parquet"))
        .unwrap()
        .rows[5];
    assert_eq!(d["num_tokens"], row.num_tokens);
    assert_eq!(d["next_sentence_label"], row.next_sentence_label);
    let predictions = row.labels.iter().filter(|&&l| l != -100).count();
    assert_eq!(d["predictions"].as_array().unwrap().len(), predictions);
    let text = format!("{} {}", d["segment_a"], d["segment_b"]);
    let marks = text.matches("[MASK→").count()
        + text.matches("[random→").count()
        + text.matches("[kept ").count();
    assert_eq!(marks, predictions, "{text}");

    let run = inspect(&[path(out.path()), "--row", "130"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("--row 130 is out of range") && run.stderr.contains("130 rows"),
        "{}",
        run.stderr
    );
}

#[test]
fn colour_only_when_asked_or_on_a_terminal() {
    let out = fixture_build();
    let plain = inspect(&[path(out.path()), "--rows", "1"]);
    assert!(!plain.stdout.contains('\x1b'));
    let colour = inspect(&[path(out.path()), "--rows", "1", "--color", "always"]);
    assert!(
        colour.stdout.contains("\x1b[33m[MASK→"),
        "{}",
        colour.stdout
    );
    let strip = |s: &str| {
        let mut out = String::new();
        let mut chars = s.chars();
        while let Some(c) = chars.next() {
            if c == '\x1b' {
                for c in chars.by_ref() {
                    if c == 'm' {
                        break;
                    }
                }
            } else {
                out.push(c);
            }
        }
        out
    };
    assert_eq!(strip(&colour.stdout), plain.stdout);
}

#[test]
fn check_passes_on_a_fresh_build() {
    let out = fixture_build();
    let run = inspect(&[path(out.path()), "--check", "--rows", "0"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("OK: 130 rows hold every invariant; 4 shards match manifest.json"),
        "{}",
        run.stdout
    );
}

/// Rewrites `file` in `dir` with `edit` applied to its rows, keeping its metadata and layout:
/// what a hand edit with pyarrow or pandas would do.
fn rewrite_shard(dir: &Path, file: &str, edit: impl FnOnce(&mut Vec<ShardRow>)) {
    let path = dir.join(file);
    let mut contents = read_shard(&path).unwrap();
    edit(&mut contents.rows);
    write_rows(&path, &contents.rows, &contents.metadata);
}

fn write_rows(path: &Path, rows: &[ShardRow], metadata: &BTreeMap<String, String>) {
    let schema = Arc::new(
        arrow_schema().as_ref().clone().with_metadata(
            metadata
                .clone()
                .into_iter()
                .collect::<std::collections::HashMap<String, String>>(),
        ),
    );
    let list = |i: usize, lengths: Vec<usize>, values: ArrayRef| -> ArrayRef {
        let DataType::List(item) = schema.field(i).data_type() else {
            unreachable!()
        };
        Arc::new(
            ListArray::try_new(
                item.clone(),
                OffsetBuffer::from_lengths(lengths),
                values,
                None,
            )
            .unwrap(),
        )
    };
    let lengths = |f: fn(&ShardRow) -> usize| rows.iter().map(f).collect::<Vec<_>>();
    let columns: Vec<ArrayRef> = vec![
        list(
            0,
            lengths(|r| r.input_ids.len()),
            Arc::new(Int32Array::from_iter_values(
                rows.iter().flat_map(|r| r.input_ids.clone()),
            )),
        ),
        list(
            1,
            lengths(|r| r.token_type_ids.len()),
            Arc::new(Int8Array::from_iter_values(
                rows.iter().flat_map(|r| r.token_type_ids.clone()),
            )),
        ),
        list(
            2,
            lengths(|r| r.attention_mask.len()),
            Arc::new(Int8Array::from_iter_values(
                rows.iter().flat_map(|r| r.attention_mask.clone()),
            )),
        ),
        list(
            3,
            lengths(|r| r.labels.len()),
            Arc::new(Int32Array::from_iter_values(
                rows.iter().flat_map(|r| r.labels.clone()),
            )),
        ),
        Arc::new(Int8Array::from_iter_values(
            rows.iter().map(|r| r.next_sentence_label),
        )),
        Arc::new(Int16Array::from_iter_values(
            rows.iter().map(|r| r.num_tokens),
        )),
        Arc::new(UInt64Array::from_iter_values(rows.iter().map(|r| r.source))),
    ];
    let batch = RecordBatch::try_new(schema.clone(), columns).unwrap();
    let kv = metadata
        .iter()
        .map(|(k, v)| KeyValue::new(k.clone(), v.clone()))
        .collect();
    let props = WriterProperties::builder()
        .set_key_value_metadata(Some(kv))
        .set_max_row_group_row_count(Some(16))
        .build();
    let mut writer =
        ArrowWriter::try_new(File::create(path).unwrap(), schema, Some(props)).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
}

#[test]
fn check_catches_a_row_altered_by_hand() {
    let out = fixture_build();
    rewrite_shard(out.path(), "shard-0001.parquet", |rows| {
        // Attention on a padding position of row 5 (or, if it is full, a label on its [CLS]).
        let row = &mut rows[5];
        let n = row.num_tokens as usize;
        if n < 64 {
            row.attention_mask[n] = 1;
        } else {
            row.labels[0] = 2000;
        }
    });
    let run = inspect(&[path(out.path()), "--check", "--rows", "0"]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("FAILED:"), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("shard-0001.parquet row 5: attention_mask[")
            || run
                .stdout
                .contains("shard-0001.parquet row 5: label 2000 at position 0"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("shard-0001.parquet: SHA-256"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("(1 of 130 rows broken)"),
        "{}",
        run.stdout
    );

    // The shard alone: the row is still caught (and the manifest beside it still applies).
    let shard = out.path().join("shard-0001.parquet");
    let run = inspect(&[path(&shard), "--check", "--json", "--rows", "0"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let check = &json(&run)["check"];
    assert_eq!(check["ok"], false);
    assert_eq!(check["rows_failed"], 1);
    assert_eq!(check["violations"][0]["file"], "shard-0001.parquet");
    assert_eq!(check["violations"][0]["row"], 5);

    // Without --check the shard is still shown, exit 0.
    assert_eq!(inspect(&[path(&shard)]).code, 0);
}

#[test]
fn check_catches_a_valid_looking_edit_by_its_checksum() {
    let out = fixture_build();
    rewrite_shard(out.path(), "shard-0002.parquet", |rows| {
        // Another word to predict at a [MASK]: every row invariant still holds.
        let row = &mut rows[3];
        let pos = row.input_ids.iter().position(|&t| t == 103).unwrap();
        row.labels[pos] = if row.labels[pos] == 2000 { 2001 } else { 2000 };
    });
    let run = inspect(&[path(out.path()), "--check", "--rows", "0"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stdout.contains("(0 of 130 rows broken)"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("shard-0002.parquet: SHA-256")
            && run.stdout.contains("the file was changed after the build"),
        "{}",
        run.stdout
    );
}

#[test]
fn check_catches_flipped_bytes() {
    let out = fixture_build();
    let shard = out.path().join("shard-0002.parquet");
    let mut bytes = std::fs::read(&shard).unwrap();
    for b in &mut bytes[2000..2064] {
        *b ^= 0x5a;
    }
    std::fs::write(&shard, bytes).unwrap();
    let run = inspect(&[path(out.path()), "--check", "--rows", "0"]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("shard-0002.parquet"), "{}", run.stdout);
    assert!(run.stdout.contains("SHA-256"), "{}", run.stdout);
}

#[test]
fn check_catches_missing_truncated_and_unlisted_shards() {
    let out = fixture_build();
    let dir = out.path();
    std::fs::remove_file(dir.join("shard-0003.parquet")).unwrap();
    std::fs::copy(
        dir.join("shard-0000.parquet"),
        dir.join("shard-0009.parquet"),
    )
    .unwrap();
    let bytes = std::fs::read(dir.join("shard-0001.parquet")).unwrap();
    std::fs::write(dir.join("shard-0001.parquet"), &bytes[..bytes.len() / 2]).unwrap();
    let run = inspect(&[path(dir), "--check", "--rows", "0"]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    for want in [
        "shard-0003.parquet: listed in manifest.json but missing",
        "shard-0009.parquet: not listed in manifest.json",
        "shard-0001.parquet: truncated Parquet file",
    ] {
        assert!(run.stdout.contains(want), "{want:?} not in\n{}", run.stdout);
    }
    // Without --check, the truncated shard makes the directory uninspectable.
    let run = inspect(&[path(dir)]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("shard-0001.parquet: truncated"),
        "{}",
        run.stderr
    );
}

#[test]
fn missing_manifest_fails_the_check_of_a_directory() {
    let out = fixture_build();
    std::fs::remove_file(out.path().join("manifest.json")).unwrap();
    let run = inspect(&[path(out.path()), "--check", "--rows", "0"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stdout.contains("manifest.json: missing"),
        "{}",
        run.stdout
    );
    let run = inspect(&[path(out.path()), "--rows", "0"]);
    assert_eq!(run.code, 0);
    assert!(run.stdout.contains("no manifest.json"), "{}", run.stdout);
}

#[test]
fn not_parquet_is_an_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("notes.parquet");
    std::fs::write(&file, "just some text, not columns\n").unwrap();
    let run = inspect(&[path(&file)]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("notes.parquet: not a Parquet file"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
}

#[test]
fn parquet_from_another_program_names_its_columns() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("other.parquet");
    let schema = Arc::new(Schema::new(vec![
        Field::new("text", DataType::Utf8, false),
        Field::new(
            "input_ids",
            DataType::List(Arc::new(Field::new("item", DataType::Int64, true))),
            true,
        ),
        Field::new("num_tokens", DataType::Int32, false),
    ]));
    let ids = ListArray::try_new(
        Arc::new(Field::new("item", DataType::Int64, true)),
        OffsetBuffer::from_lengths([2]),
        Arc::new(Int64Array::from(vec![101, 102])),
        None,
    )
    .unwrap();
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(StringArray::from(vec!["hi"])),
            Arc::new(ids),
            Arc::new(Int32Array::from(vec![2])),
        ],
    )
    .unwrap();
    let mut w = ArrowWriter::try_new(File::create(&file).unwrap(), schema, None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
    let run = inspect(&[path(&file)]);
    assert_eq!(run.code, 2);
    for want in [
        "other.parquet: not a bertprep shard",
        "column input_ids is list<int64>, expected list<int32>",
        "missing column token_type_ids",
        "missing column labels",
        "column num_tokens is int32, expected int16",
    ] {
        assert!(run.stderr.contains(want), "{want:?} not in {}", run.stderr);
    }
}

#[test]
fn truncated_shard_is_an_error() {
    let out = fixture_build();
    let shard = out.path().join("shard-0000.parquet");
    let bytes = std::fs::read(&shard).unwrap();
    let cut = out.path().join("cut.parquet");
    std::fs::write(&cut, &bytes[..bytes.len() - 100]).unwrap();
    let run = inspect(&[path(&cut)]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("cut.parquet: truncated Parquet file"),
        "{}",
        run.stderr
    );
}

#[test]
fn lost_tokenizer_shows_ids_and_says_so() {
    let out = fixture_build();
    std::fs::remove_file(out.path().join("tokenizer.json")).unwrap();
    let shard = out.path().join("shard-0000.parquet");
    let run = inspect(&[path(&shard), "--rows", "1"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("tokens are shown as ids"),
        "{}",
        run.stdout
    );
    let a = run
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with("A:"))
        .unwrap();
    let first = a.trim_start()[2..].split_whitespace().next().unwrap();
    assert!(
        first.parse::<u32>().is_ok() || first.starts_with('['),
        "{a}"
    );
    // --tokenizer brings the words back.
    let elsewhere = tempfile::tempdir().unwrap();
    let tok = bertprep::tokenize::Tokenizer::embedded().unwrap();
    let tok_path = elsewhere.path().join("tok.json");
    std::fs::write(&tok_path, tok.json()).unwrap();
    let run = inspect(&[path(&shard), "--rows", "1", "--tokenizer", path(&tok_path)]);
    assert_eq!(run.code, 0);
    assert!(
        !run.stdout.contains("tokens are shown as ids"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("same SHA-256"), "{}", run.stdout);
}

#[test]
fn missing_path_and_empty_directory_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let run = inspect(&[path(&dir.path().join("nope"))]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("nope"), "{}", run.stderr);
    let run = inspect(&[path(dir.path())]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("no Parquet shards"), "{}", run.stderr);
    let run = inspect(&[path(dir.path()), "--rows", "2", "--row", "1"]);
    assert_eq!(run.code, 2, "conflicting flags are a usage error");
}

#[test]
fn check_passes_on_wikipedia_with_whole_word_masking() {
    let Some(out) = build_shared_wiki(
        "enwiki-2019-small",
        &[
            "--max-seq-len",
            "128",
            "--whole-word-mask",
            "--rows-per-shard",
            "5000",
        ],
    ) else {
        return;
    };
    let run = inspect(&[path(out.path()), "--check", "--json", "--rows", "0"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    let report = json(&run);
    let manifest = Manifest::read(out.path()).unwrap();
    assert_eq!(report["check"]["rows_checked"], manifest.counters.instances);
    assert_eq!(report["check"]["checksums_verified"], manifest.shards.len());
    let mask = report["stats"]["predictions"]["mask_share"]
        .as_f64()
        .unwrap();
    assert!((0.78..0.82).contains(&mask), "[MASK] share {mask}");
}

#[test]
fn worker_builds_are_checked_against_their_parts_then_the_merged_manifest() {
    let out = tempfile::tempdir().unwrap();
    for worker in ["0/2", "1/2"] {
        build_ok(
            &fixtures(),
            out.path(),
            &["--max-seq-len", "64", "--tasks", "2", "--worker", worker],
        );
    }
    let shard = file_names(out.path())
        .into_iter()
        .find(|n| n.starts_with("shard-t0001"))
        .unwrap();
    // A worker's shard is held to its own manifest part.
    let run = inspect(&[path(&out.path().join(&shard)), "--check", "--rows", "1"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(
        run.stdout.contains("1 shard matches manifest.json"),
        "{}",
        run.stdout
    );
    // The directory is incomplete until the parts are merged.
    let run = inspect(&[path(out.path()), "--check", "--rows", "0"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(run.stdout.contains("bertprep finalize"), "{}", run.stdout);
    let merged = bertprep(&["finalize", path(out.path())]);
    assert!(
        merged.status.success(),
        "{}",
        String::from_utf8_lossy(&merged.stderr)
    );
    let run = inspect(&[path(out.path()), "--check", "--rows", "0"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
}
