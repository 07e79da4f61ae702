//! `bertprep export` through the binary: every format read back field for field against the
//! Parquet rows, the manifest's checksums, thread independence, resuming, refusals, and the
//! trainers' own readers (`scripts/check_export.py`: h5py as NVIDIA reads, TensorFlow as Google
//! reads, `mosaicml-streaming`).

use std::path::Path;
use std::process::Command;

use bertprep::export::{hdf5, mds, tfrecord, ExportManifest, EXPORT_MANIFEST, EXPORT_STATE};
use bertprep::output::manifest::sha256_file;
use bertprep::shard::{read_shard, ShardRow, IGNORE_LABEL};

use crate::util::*;

/// A fixtures build of several shards at 128.
fn small_build() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    build_ok(
        &fixtures(),
        dir.path(),
        &[
            "--max-seq-len",
            "128",
            "--rows-per-shard",
            "25",
            "--seed",
            "7",
        ],
    );
    dir
}

/// The build's rows in manifest order.
fn source_rows(build: &Path) -> Vec<ShardRow> {
    let manifest = bertprep::output::Manifest::read(build).unwrap();
    manifest
        .shards
        .iter()
        .flat_map(|s| read_shard(&build.join(&s.file)).unwrap().rows)
        .collect()
}

fn export(build: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "export",
        build.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ];
    args.extend_from_slice(extra);
    bertprep(&args)
}

fn export_ok(build: &Path, out: &Path, extra: &[&str]) -> ExportManifest {
    let output = export(build, out, extra);
    assert!(
        output.status.success(),
        "export {extra:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    ExportManifest::read(&out.join(EXPORT_MANIFEST)).unwrap()
}

/// Every file the manifest lists is there with its size and SHA-256, rows add up, and no
/// state or temporary file is left.
fn assert_manifest_true(out: &Path, manifest: &ExportManifest, rows: usize) {
    for f in &manifest.files {
        let path = out.join(&f.file);
        assert_eq!(
            std::fs::metadata(&path).unwrap().len(),
            f.bytes,
            "{}",
            f.file
        );
        assert_eq!(sha256_file(&path).unwrap(), f.sha256, "{}", f.file);
    }
    assert_eq!(manifest.rows as usize, rows);
    let names = file_names(out);
    assert!(
        !names
            .iter()
            .any(|n| n == EXPORT_STATE || n.ends_with(".tmp")),
        "{names:?}"
    );
}

fn max_predictions(build: &Path) -> usize {
    bertprep::output::Manifest::read(build)
        .unwrap()
        .config
        .max_predictions
}

fn seq_len(build: &Path) -> usize {
    bertprep::output::Manifest::read(build)
        .unwrap()
        .config
        .max_seq_len
}

/// Every field of every row of an HDF5 export equals the build's rows.
fn assert_hdf5_rows(build: &Path, out: &Path, manifest: &ExportManifest) {
    let rows = source_rows(build);
    let (l, p) = (seq_len(build), max_predictions(build));
    let mut next = rows.iter();
    for f in &manifest.files {
        assert!(f.file.ends_with("_training.hdf5"), "{}", f.file);
        let sets = hdf5::read_datasets(&out.join(&f.file)).unwrap();
        let n = f.rows as usize;
        assert_eq!(sets[0].shape, [n as u64, l as u64]);
        assert_eq!(sets[3].shape, [n as u64, p as u64]);
        assert_eq!(sets[5].shape, [n as u64]);
        for i in 0..n {
            let row = next.next().unwrap();
            let at = |k: usize, w: usize| &sets[k].values[i * w..(i + 1) * w];
            let widen = |v: &[i32]| v.iter().map(|&x| i64::from(x)).collect::<Vec<_>>();
            let widen8 = |v: &[i8]| v.iter().map(|&x| i64::from(x)).collect::<Vec<_>>();
            assert_eq!(at(0, l), widen(&row.input_ids));
            assert_eq!(at(1, l), widen8(&row.attention_mask));
            assert_eq!(at(2, l), widen8(&row.token_type_ids));
            let positions: Vec<i32> = at(3, p).iter().map(|&x| x as i32).collect();
            let ids: Vec<i32> = at(4, p).iter().map(|&x| x as i32).collect();
            let count = row.labels.iter().filter(|&&l| l != IGNORE_LABEL).count();
            assert!(positions[count..].iter().all(|&x| x == 0));
            let labels = bertprep::export::rows::labels_from(&positions, &ids, count, l);
            assert_eq!(labels, row.labels);
            assert_eq!(sets[5].values[i], i64::from(row.next_sentence_label));
        }
    }
    assert!(next.next().is_none());
}

/// Every field of every record of a TFRecord export equals the build's rows.
fn assert_tfrecord_rows(build: &Path, out: &Path, manifest: &ExportManifest, gzip: bool) {
    let rows = source_rows(build);
    let (l, p) = (seq_len(build), max_predictions(build));
    let examples: Vec<_> = manifest
        .files
        .iter()
        .flat_map(|f| tfrecord::read_examples(&out.join(&f.file), gzip).unwrap())
        .collect();
    assert_eq!(examples.len(), rows.len());
    for (ex, row) in examples.iter().zip(&rows) {
        let ints = |k: &str| ex.ints[k].iter().map(|&x| x as i32).collect::<Vec<_>>();
        assert_eq!(ints(tfrecord::INPUT_IDS), row.input_ids);
        let mask: Vec<i32> = row.attention_mask.iter().map(|&x| i32::from(x)).collect();
        assert_eq!(ints(tfrecord::INPUT_MASK), mask);
        let seg: Vec<i32> = row.token_type_ids.iter().map(|&x| i32::from(x)).collect();
        assert_eq!(ints(tfrecord::SEGMENT_IDS), seg);
        let positions = ints(tfrecord::MASKED_LM_POSITIONS);
        let ids = ints(tfrecord::MASKED_LM_IDS);
        let weights = &ex.floats[tfrecord::MASKED_LM_WEIGHTS];
        assert_eq!((positions.len(), ids.len(), weights.len()), (p, p, p));
        let count = weights.iter().filter(|&&w| w == 1.0).count();
        assert!(weights[count..].iter().all(|&w| w == 0.0));
        let labels = bertprep::export::rows::labels_from(&positions, &ids, count, l);
        assert_eq!(labels, row.labels);
        assert_eq!(
            ex.ints[tfrecord::NEXT_SENTENCE_LABELS],
            [i64::from(row.next_sentence_label)]
        );
    }
}

#[test]
fn hdf5_holds_every_field_of_every_row() {
    let build = small_build();
    let out = tempfile::tempdir().unwrap();
    let manifest = export_ok(build.path(), out.path(), &["--to", "hdf5"]);
    assert_manifest_true(out.path(), &manifest, source_rows(build.path()).len());
    assert!(manifest.files.len() >= 3, "one file per shard");
    assert_hdf5_rows(build.path(), out.path(), &manifest);
}

#[test]
fn tfrecord_holds_every_field_plain_and_gzip() {
    let build = small_build();
    let rows = source_rows(build.path());
    for gzip in [false, true] {
        let out = tempfile::tempdir().unwrap();
        let codec: &[&str] = if gzip {
            &["--compression", "gzip"]
        } else {
            &[]
        };
        let manifest = export_ok(
            build.path(),
            out.path(),
            &[&["--to", "tfrecord"], codec].concat(),
        );
        assert_manifest_true(out.path(), &manifest, rows.len());
        assert_tfrecord_rows(build.path(), out.path(), &manifest, gzip);
    }
}

#[test]
fn mds_holds_every_row_plain_and_zstd_with_its_own_shard_size() {
    let build = small_build();
    let rows = source_rows(build.path());
    for zstd in [false, true] {
        let out = tempfile::tempdir().unwrap();
        let codec: &[&str] = if zstd {
            &["--compression", "zstd"]
        } else {
            &[]
        };
        // 10 rows of 128 per MDS shard: several MDS files per source shard.
        let limit = (10 * (10 * 128 + 11 + 4) + 2000).to_string();
        let args = [&["--to", "mds", "--mds-size-limit", &limit], codec].concat();
        let manifest = export_ok(build.path(), out.path(), &args);
        assert_manifest_true(out.path(), &manifest, rows.len());
        let sources: std::collections::BTreeSet<_> =
            manifest.files.iter().map(|f| &f.source).collect();
        assert!(
            manifest.files.len() > sources.len() + 1,
            "several MDS files per shard"
        );
        assert_eq!(manifest.files.last().unwrap().file, mds::INDEX_FILE);
        assert_eq!(mds::read_rows(out.path()).unwrap(), rows);
        // MDSWriter's names, numbered on across the source shards.
        let ext = if zstd { ".zstd" } else { "" };
        for (n, f) in manifest
            .files
            .iter()
            .filter(|f| f.mds.is_some())
            .enumerate()
        {
            assert_eq!(f.file, format!("shard.{n:05}.mds{ext}"));
        }
        assert_moves_resume(build.path(), out.path(), &manifest, &args);
    }
}

/// An MDS export killed while its shards move to their final names (some moved, some not; the
/// state lists the new names with the old) finishes the moves when run again, to the same files.
fn assert_moves_resume(build: &Path, done: &Path, manifest: &ExportManifest, args: &[&str]) {
    let out = tempfile::tempdir().unwrap();
    let mut state = manifest.clone();
    state.files.retain(|f| f.mds.is_some());
    let mut per_source = std::collections::BTreeMap::<String, usize>::new();
    for (n, f) in state.files.iter_mut().enumerate() {
        let part = per_source.entry(f.source.clone()).or_default();
        let stem = f.source.strip_suffix(".parquet").unwrap();
        let ext = f.file.strip_prefix(&mds::shard_name(n)).unwrap();
        let old = format!("{stem}.{part:04}.mds{ext}");
        *part += 1;
        // The first half moved already, the rest not yet.
        let to = if n < manifest.files.len() / 2 {
            &f.file
        } else {
            &old
        };
        std::fs::copy(done.join(&f.file), out.path().join(to)).unwrap();
        f.renamed_from = Some(old);
    }
    state.write(&out.path().join(EXPORT_STATE)).unwrap();
    let resumed = export_ok(build, out.path(), args);
    assert_eq!(&resumed, manifest);
    assert_eq!(file_names(out.path()), file_names(done));
    for f in &manifest.files {
        let (a, b) = (out.path().join(&f.file), done.join(&f.file));
        assert!(
            std::fs::read(a).unwrap() == std::fs::read(b).unwrap(),
            "{}",
            f.file
        );
    }
}

#[test]
fn dynamic_masking_builds_export_as_input_ids_alone() {
    for padding in ["max", "none"] {
        let build = tempfile::tempdir().unwrap();
        let flags = [
            "--max-seq-len",
            "128",
            "--rows-per-shard",
            "25",
            "--objective",
            "none",
            "--masking",
            "dynamic",
            "--padding",
            padding,
        ];
        build_ok(&fixtures(), build.path(), &flags);
        let rows = source_rows(build.path());
        let out = tempfile::tempdir().unwrap();
        let manifest = export_ok(build.path(), out.path(), &["--to", "mds"]);
        assert_manifest_true(out.path(), &manifest, rows.len());
        let index = std::fs::read_to_string(out.path().join(mds::INDEX_FILE)).unwrap();
        assert!(
            index.contains(r#""column_encodings": ["ndarray:int64"]"#),
            "{index}"
        );
        let back = mds::read_rows(out.path()).unwrap();
        assert_eq!(back.len(), rows.len());
        for (got, want) in back.iter().zip(&rows) {
            // The real tokens, unmasked: the padding of a padded build is not exported.
            assert_eq!(got.input_ids, want.input_ids[..want.num_tokens as usize]);
        }
        // Other formats say why they cannot hold it.
        let fresh = out.path().join("other");
        assert_refused(build.path(), &fresh, &["--to", "hdf5"], "--to mds");
    }
}

#[test]
fn export_bytes_do_not_depend_on_threads() {
    let build = small_build();
    for format in ["hdf5", "tfrecord", "mds"] {
        let one = tempfile::tempdir().unwrap();
        let three = tempfile::tempdir().unwrap();
        let a = export_ok(
            build.path(),
            one.path(),
            &["--to", format, "--threads", "1"],
        );
        let b = export_ok(
            build.path(),
            three.path(),
            &["--to", format, "--threads", "3"],
        );
        assert_eq!(a.files, b.files, "{format}");
    }
}

#[test]
fn an_interrupted_export_resumes_and_ends_identical() {
    let build = small_build();
    let reference = tempfile::tempdir().unwrap();
    let full = export_ok(build.path(), reference.path(), &["--to", "tfrecord"]);
    // What a run killed after its first shard leaves: the state listing that shard's file, a
    // half-written temporary, and no manifest.
    let out = tempfile::tempdir().unwrap();
    let first = &full.files[0];
    std::fs::copy(
        reference.path().join(&first.file),
        out.path().join(&first.file),
    )
    .unwrap();
    let mut state = full.clone();
    state.files.truncate(1);
    state.write(&out.path().join(EXPORT_STATE)).unwrap();
    let tmp = out
        .path()
        .join(format!(".{}.999-0.tmp", full.files[1].file));
    std::fs::write(&tmp, b"half a record").unwrap();

    let output = export(build.path(), out.path(), &["--to", "tfrecord"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let resumed = ExportManifest::read(&out.path().join(EXPORT_MANIFEST)).unwrap();
    assert_eq!(resumed.files, full.files);
    assert!(!tmp.exists());
    assert_manifest_true(out.path(), &resumed, source_rows(build.path()).len());

    // A rerun finds the work done; other settings are refused, nothing touched.
    let again = bertprep(&[
        "export",
        build.path().to_str().unwrap(),
        "--to",
        "tfrecord",
        "--out",
        out.path().to_str().unwrap(),
    ]);
    assert!(again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("nothing to do"));
    let other = export(
        build.path(),
        out.path(),
        &["--to", "tfrecord", "--compression", "gzip"],
    );
    assert!(!other.status.success());
    assert!(String::from_utf8_lossy(&other.stderr).contains("other settings"));
    assert_eq!(
        ExportManifest::read(&out.path().join(EXPORT_MANIFEST)).unwrap(),
        resumed
    );
}

#[test]
fn a_resumed_export_refuses_a_finished_file_that_changed() {
    let build = small_build();
    let out = tempfile::tempdir().unwrap();
    let full = export_ok(build.path(), out.path(), &["--to", "mds"]);
    let mut state = full.clone();
    state.files.truncate(1);
    std::fs::remove_file(out.path().join(EXPORT_MANIFEST)).unwrap();
    state.write(&out.path().join(EXPORT_STATE)).unwrap();
    let first = out.path().join(&full.files[0].file);
    let mut bytes = std::fs::read(&first).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&first, bytes).unwrap();
    let output = export(build.path(), out.path(), &["--to", "mds"]);
    assert!(!output.status.success());
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(
        err.contains("SHA-256") && err.contains(&full.files[0].file),
        "{err}"
    );
}

fn assert_refused(build: &Path, out: &Path, extra: &[&str], words: &str) {
    let output = export(build, out, extra);
    let err = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{err}");
    assert!(err.contains(words), "expected {words:?} in: {err}");
    assert!(!err.contains("panicked"), "{err}");
}

/// A fixtures build at 128 with `flags`.
fn build_with(flags: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let base = ["--max-seq-len", "128", "--rows-per-shard", "40"];
    build_ok(&fixtures(), dir.path(), &[&base[..], flags].concat());
    dir
}

/// Each target refuses, saying why and writing nothing, the builds it cannot express.
#[test]
fn export_refuses_each_variant_a_target_cannot_express() {
    let out = tempfile::tempdir().unwrap();
    let refused = |build: &Path, to: &str, words: &str| {
        let target = out
            .path()
            .join(format!("{to}-{}", file_names(out.path()).len()));
        assert_refused(build, &target, &["--to", to], words);
        assert!(
            !target.exists(),
            "{to}: nothing written for a refused build"
        );
    };
    let all = ["hdf5", "tfrecord", "mds"];

    // Sentence order (ALBERT), no pair label (RoBERTa), unpadded rows: static builds none of
    // the three trainers read.
    let sop = build_with(&["--objective", "sop"]);
    let none = build_with(&["--objective", "none"]);
    let unpadded = build_with(&["--padding", "none"]);
    for to in all {
        refused(sop.path(), to, "--objective sop build");
        refused(none.path(), to, "--objective none build");
        refused(unpadded.path(), to, "--padding none build");
    }
    // Dynamic masking: no predictions for HDF5 or TFRecord; with a sentence pair, nothing
    // ModernBERT's ids-only MDS layout can hold.
    let dynamic_pairs = build_with(&["--masking", "dynamic"]);
    refused(dynamic_pairs.path(), "hdf5", "--masking dynamic build");
    refused(dynamic_pairs.path(), "tfrecord", "--masking dynamic build");
    refused(dynamic_pairs.path(), "mds", "no pair label");

    // `build` never writes max_predictions 0; a manifest that says so is refused where the
    // predictions are [N, max_predictions] lists.
    let build = small_build();
    let zero = tempfile::tempdir().unwrap();
    for name in file_names(build.path()) {
        std::fs::copy(build.path().join(&name), zero.path().join(&name)).unwrap();
    }
    let manifest = zero.path().join("manifest.json");
    let mut json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&manifest).unwrap()).unwrap();
    json["config"]["max_predictions"] = 0.into();
    std::fs::write(&manifest, serde_json::to_string(&json).unwrap()).unwrap();
    refused(zero.path(), "hdf5", "max_predictions is 0");
    refused(zero.path(), "tfrecord", "max_predictions is 0");
    let flags = ["--max-seq-len", "128", "--max-predictions", "0"];
    let never = tempfile::tempdir().unwrap();
    let output = bertprep(
        &[
            &["build", "--quiet", "--in", fixtures().to_str().unwrap()][..],
            &["--out", never.path().to_str().unwrap()],
            &flags,
        ]
        .concat(),
    );
    assert!(!output.status.success());

    // A build still running or interrupted: shards and its work directory, no manifest yet.
    let running = tempfile::tempdir().unwrap();
    std::fs::copy(
        build.path().join("shard-0000.parquet"),
        running.path().join("shard-0000.parquet"),
    )
    .unwrap();
    std::fs::create_dir(running.path().join(".bertprep-work")).unwrap();
    for to in all {
        refused(running.path(), to, "build in progress");
    }

    // Compression a format does not have.
    for (to, codec, words) in [
        (
            "tfrecord",
            "zstd",
            "tfrecord files take --compression none or gzip",
        ),
        ("hdf5", "zstd", "gzip or none"),
        ("mds", "gzip", "none or zstd"),
    ] {
        let target = out.path().join(format!("{to}-{codec}"));
        assert_refused(
            build.path(),
            &target,
            &["--to", to, "--compression", codec],
            words,
        );
        assert!(!target.exists(), "{to} {codec}");
    }
}

#[test]
fn export_refuses_what_is_not_a_complete_build_or_not_its_directory() {
    let build = small_build();
    let out = tempfile::tempdir().unwrap();
    let target = out.path().join("x");
    let hdf5 = ["--to", "hdf5"];

    let empty = tempfile::tempdir().unwrap();
    assert_refused(empty.path(), &target, &hdf5, "no manifest.json");
    let parts = tempfile::tempdir().unwrap();
    std::fs::write(parts.path().join("manifest-t0000.json"), "{}").unwrap();
    assert_refused(parts.path(), &target, &hdf5, "bertprep finalize");
    assert!(!target.exists(), "nothing written for a refused source");

    // A shard changed after the build: every checksum is checked before anything is written.
    let changed = tempfile::tempdir().unwrap();
    for name in file_names(build.path()) {
        std::fs::copy(build.path().join(&name), changed.path().join(&name)).unwrap();
    }
    let shard = changed.path().join("shard-0001.parquet");
    let mut bytes = std::fs::read(&shard).unwrap();
    bytes[100] ^= 0xff;
    std::fs::write(&shard, bytes).unwrap();
    assert_refused(changed.path(), &target, &hdf5, "shard-0001.parquet");
    assert!(!target.exists(), "nothing written for a changed build");

    // Not its directory: a foreign file, the build itself, a bad codec.
    let foreign = tempfile::tempdir().unwrap();
    std::fs::write(foreign.path().join("notes.txt"), "mine").unwrap();
    assert_refused(build.path(), foreign.path(), &hdf5, "not empty");
    assert_eq!(file_names(foreign.path()), ["notes.txt"]);
    assert_refused(build.path(), build.path(), &hdf5, "build directory");
    let fresh = out.path().join("y");
    assert_refused(
        build.path(),
        &fresh,
        &["--to", "mds", "--compression", "gzip"],
        "zstd",
    );
    assert_refused(
        build.path(),
        &fresh,
        &["--to", "mds", "--mds-size-limit", "5000000000"],
        "4 GiB",
    );
}

/// `scripts/check_export.py` reads `out` with the format's own reader and finds every field of
/// every row equal to the build's.
fn assert_readers_agree(build: &Path, format: &str, out: &Path, check_flags: &[&str]) {
    let output = Command::new("python3")
        .arg(root().join("scripts/check_export.py"))
        .arg(build)
        .arg(format)
        .arg(out)
        .args(check_flags)
        .env("TF_CPP_MIN_LOG_LEVEL", "3")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.starts_with(&format!("OK {format} ")),
        "{format} {check_flags:?}: {stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Shards of several row groups (the windowed write), each HDF5 dataset of several chunks, each
/// gzip TFRecord file of several gzip members, MDS shards cut inside a row group: every format,
/// plain and compressed, read back in Rust and by the trainers' readers.
#[test]
fn shards_of_many_row_groups_export_whole_in_every_format() {
    let Some(corpus) = shared_corpus("enwiki-2019-small") else {
        return;
    };
    let readers = ["pyarrow, numpy", "h5py", "tensorflow", "streaming"];
    if !python_ready(
        &readers,
        "pyarrow numpy h5py tensorflow-cpu mosaicml-streaming",
    ) {
        return;
    }
    let build = tempfile::tempdir().unwrap();
    build_ok(
        &corpus.join("wiki"),
        build.path(),
        &[
            "--max-seq-len",
            "128",
            "--rows-per-shard",
            "1200",
            "--row-group-rows",
            "100",
            "--seed",
            "11",
        ],
    );
    let source = bertprep::output::Manifest::read(build.path()).unwrap();
    assert!(source.shards.len() >= 2, "{} shards", source.shards.len());
    for shard in &source.shards {
        let file = bertprep::shard::ShardFile::open(&build.path().join(&shard.file)).unwrap();
        assert!(
            file.row_groups() >= 5,
            "{}: {}",
            shard.file,
            file.row_groups()
        );
    }
    // An input_ids chunk of HDF5 is 256 KiB, 512 rows at 128: several per file.
    assert!(source.shards[0].rows > 2 * 512, "{}", source.shards[0].rows);
    let rows = source_rows(build.path());
    let b = build.path();
    let fresh = || tempfile::tempdir().unwrap();
    // Two threads: the row groups of a shard in windows, shards side by side.
    let threads = ["--threads", "2"];

    for gzip in [true, false] {
        let out = fresh();
        let codec = if gzip { "gzip" } else { "none" };
        let args = [&["--to", "hdf5", "--compression", codec], &threads[..]].concat();
        let manifest = export_ok(b, out.path(), &args);
        assert_manifest_true(out.path(), &manifest, rows.len());
        assert_hdf5_rows(b, out.path(), &manifest);
        if gzip {
            // check_export.py holds HDF5 to NVIDIA's gzip datasets.
            assert_readers_agree(b, "hdf5", out.path(), &[]);
        }
    }
    for gzip in [false, true] {
        let out = fresh();
        let codec = if gzip { "gzip" } else { "none" };
        let args = [&["--to", "tfrecord", "--compression", codec], &threads[..]].concat();
        let manifest = export_ok(b, out.path(), &args);
        assert_manifest_true(out.path(), &manifest, rows.len());
        assert_tfrecord_rows(b, out.path(), &manifest, gzip);
        if gzip {
            // One gzip member per row group: the first member alone is not the whole file.
            let path = out.path().join(&manifest.files[0].file);
            let mut first = Vec::new();
            let mut one = flate2::read::GzDecoder::new(std::fs::File::open(&path).unwrap());
            std::io::Read::read_to_end(&mut one, &mut first).unwrap();
            let mut all = Vec::new();
            let mut every = flate2::read::MultiGzDecoder::new(std::fs::File::open(&path).unwrap());
            std::io::Read::read_to_end(&mut every, &mut all).unwrap();
            assert!(first.len() < all.len(), "{} gzip member", path.display());
        }
        assert_readers_agree(
            b,
            "tfrecord",
            out.path(),
            if gzip { &["--gzip"] } else { &[] },
        );
    }
    for zstd in [false, true] {
        let out = fresh();
        let codec = if zstd { "zstd" } else { "none" };
        // About 150 rows of 128 per MDS shard: cut inside row groups of 100.
        let args = [
            &[
                "--to",
                "mds",
                "--compression",
                codec,
                "--mds-size-limit",
                "200000",
            ],
            &threads[..],
        ]
        .concat();
        let manifest = export_ok(b, out.path(), &args);
        assert_manifest_true(out.path(), &manifest, rows.len());
        assert!(manifest.files.len() > 2 * source.shards.len());
        assert_eq!(mds::read_rows(out.path()).unwrap(), rows);
        let check: &[&str] = if zstd {
            &[]
        } else {
            &["--same-bytes-as-mdswriter"]
        };
        assert_readers_agree(b, "mds", out.path(), check);
    }
}

#[test]
fn the_trainers_readers_read_every_export_as_the_build() {
    // One process per reader, as `check_export.py` imports only the one it checks.
    let readers = ["pyarrow, numpy", "h5py", "tensorflow", "streaming"];
    if !python_ready(
        &readers,
        "pyarrow numpy h5py tensorflow-cpu mosaicml-streaming",
    ) {
        return;
    }
    let build = small_build();
    // RoBERTa-style rows masked in training: MDS in ModernBERT's input_ids-only layout.
    let tokens = tempfile::tempdir().unwrap();
    build_ok(
        &fixtures(),
        tokens.path(),
        &[
            "--max-seq-len",
            "128",
            "--rows-per-shard",
            "25",
            "--objective",
            "none",
            "--masking",
            "dynamic",
            "--padding",
            "none",
        ],
    );
    let cases: [(&Path, &str, &[&str], &[&str]); 7] = [
        (build.path(), "hdf5", &[], &[]),
        (build.path(), "tfrecord", &[], &[]),
        (
            build.path(),
            "tfrecord",
            &["--compression", "gzip"],
            &["--gzip"],
        ),
        (
            build.path(),
            "mds",
            &["--mds-size-limit", "100000"],
            &["--same-bytes-as-mdswriter"],
        ),
        (build.path(), "mds", &["--compression", "zstd"], &[]),
        (
            tokens.path(),
            "mds",
            &["--mds-size-limit", "5000"],
            &["--same-bytes-as-mdswriter"],
        ),
        (tokens.path(), "mds", &["--compression", "zstd"], &[]),
    ];
    for (source, format, flags, check_flags) in cases {
        let out = tempfile::tempdir().unwrap();
        export_ok(source, out.path(), &[&["--to", format], flags].concat());
        assert_readers_agree(source, format, out.path(), check_flags);
    }
    let script = root().join("scripts/check_export.py");

    // The check catches a changed value: one byte of the last sample of an MDS file.
    let out = tempfile::tempdir().unwrap();
    let manifest = export_ok(build.path(), out.path(), &["--to", "mds"]);
    let file = out.path().join(&manifest.files[0].file);
    let mut bytes = std::fs::read(&file).unwrap();
    let at = bytes.len() - 200;
    bytes[at] ^= 0x01;
    std::fs::write(&file, bytes).unwrap();
    let output = Command::new("python3")
        .arg(&script)
        .args([build.path(), Path::new("mds"), out.path()])
        .env("TF_CPP_MIN_LOG_LEVEL", "3")
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("FAIL sample"));
}

#[test]
fn an_export_killed_writing_its_first_state_resumes() {
    let build = small_build();
    let out = tempfile::tempdir().unwrap();
    // All a kill during the first `export-state.json` write leaves behind.
    let temp = out.path().join(format!(".{EXPORT_STATE}.4242-0.tmp"));
    std::fs::write(&temp, b"{\"half").unwrap();
    export_ok(build.path(), out.path(), &["--to", "tfrecord"]);
    assert!(!temp.exists());
    // Anything else there is still not ours.
    let foreign = tempfile::tempdir().unwrap();
    std::fs::write(foreign.path().join(".notes.tmp"), b"mine").unwrap();
    let fresh = foreign.path().to_path_buf();
    assert_refused(build.path(), &fresh, &["--to", "tfrecord"], "not empty");
    assert!(foreign.path().join(".notes.tmp").exists());
}

/// Where [`killed_exports_resume_to_identical_files`] kills an export.
#[derive(Debug, Clone, Copy)]
enum KillPoint {
    /// While a file is half-written (a temporary there) after `n` shards are finished.
    Writing(usize),
    /// Once the state lists this many finished shards.
    Finished(usize),
}

impl KillPoint {
    /// Whether the export writing `out` has reached this point.
    fn reached(self, out: &Path) -> bool {
        let state = out.join(EXPORT_STATE);
        let finished = || {
            // Read while the process is stopped: the state file is whole (renamed into place).
            ExportManifest::read(&state).map_or(0, |s| {
                s.files
                    .iter()
                    .map(|f| &f.source)
                    .collect::<std::collections::BTreeSet<_>>()
                    .len()
            })
        };
        match self {
            KillPoint::Writing(n) => {
                let temp = file_names(out).iter().any(|f| {
                    f.starts_with('.') && f.ends_with(".tmp") && !f.contains(EXPORT_STATE)
                });
                temp && state.exists() && finished() >= n
            }
            KillPoint::Finished(n) => state.exists() && finished() >= n,
        }
    }

    /// Runs the export writing `out` in slices of about 50 µs (a SIGCONT, a sleep, a SIGSTOP),
    /// looking at its output while it is stopped, until it reaches this point (true; left
    /// stopped there) or exits (false).
    fn wait_for(self, out: &Path, child: &mut std::process::Child) -> bool {
        let pid = child.id() as libc::pid_t;
        let signal = |sig| {
            // SAFETY: kill(2) on our own child, which is not reaped before the caller waits.
            unsafe { libc::kill(pid, sig) };
        };
        let t = std::time::Instant::now();
        while t.elapsed() < std::time::Duration::from_secs(120) {
            signal(libc::SIGSTOP);
            if !crate::engine::stopped_or_gone(pid) {
                return false;
            }
            if self.reached(out) {
                return true;
            }
            signal(libc::SIGCONT);
            std::thread::sleep(std::time::Duration::from_micros(50));
        }
        false
    }
}

#[test]
fn killed_exports_resume_to_identical_files() {
    let build = tempfile::tempdir().unwrap();
    build_ok(
        &fixtures(),
        build.path(),
        &["--max-seq-len", "128", "--rows-per-shard", "6"],
    );
    let shards = bertprep::output::Manifest::read(build.path())
        .unwrap()
        .shards
        .len();
    assert!(shards >= 8, "{shards} shards");
    let points = [
        KillPoint::Writing(0),
        KillPoint::Writing(1),
        KillPoint::Finished(shards / 2),
        KillPoint::Writing(shards - 2),
    ];
    for (format, codec) in [("hdf5", "gzip"), ("tfrecord", "gzip"), ("mds", "zstd")] {
        // Small MDS shards: several files per source shard, committed together.
        let flags = [
            "--to",
            format,
            "--compression",
            codec,
            "--threads",
            "2",
            "--mds-size-limit",
            "8000",
        ];
        let flags = if format == "mds" {
            &flags[..]
        } else {
            &flags[..6]
        };
        let reference = tempfile::tempdir().unwrap();
        let full = export_ok(build.path(), reference.path(), flags);
        let command = |out: &Path| {
            let mut c = Command::new(env!("CARGO_BIN_EXE_bertprep"));
            c.args(["export", build.path().to_str().unwrap(), "--quiet", "--out"])
                .arg(out)
                .args(flags);
            c
        };
        for point in points {
            let out = tempfile::tempdir().unwrap();
            let mut child = command(out.path()).spawn().unwrap();
            let reached = point.wait_for(out.path(), &mut child);
            child.kill().ok();
            child.wait().unwrap();
            assert!(reached, "{format}: the export ended before {point:?}");
            assert!(!out.path().join(EXPORT_MANIFEST).exists());
            let done = command(out.path()).output().unwrap();
            assert!(
                done.status.success(),
                "{format} {point:?}: {}",
                String::from_utf8_lossy(&done.stderr)
            );
            let resumed = ExportManifest::read(&out.path().join(EXPORT_MANIFEST)).unwrap();
            assert_eq!(resumed.files, full.files, "{format} killed at {point:?}");
            assert_manifest_true(out.path(), &resumed, full.rows as usize);
            assert_eq!(
                file_names(out.path()),
                file_names(reference.path()),
                "{format} {point:?}"
            );
            for f in &full.files {
                let a = std::fs::read(reference.path().join(&f.file)).unwrap();
                let b = std::fs::read(out.path().join(&f.file)).unwrap();
                assert!(a == b, "{format} {point:?}: {} differs", f.file);
            }
        }
    }
}
