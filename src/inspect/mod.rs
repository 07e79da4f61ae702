//! `bertprep inspect`: what a shard (or a build directory) holds, and whether it holds up.
//!
//! [`inspect`] takes a shard or an output directory and returns a [`Report`]; the binary prints it
//! as text ([`render::text`]) or as one JSON document ([`Report::to_json`], field names documented
//! in README.md). The stages, one module each:
//!
//! 1. [`crate::shard::reader`] — open each shard's footer (telling non-Parquet, truncated and
//!    foreign files apart), then stream its rows one row group at a time as borrowed
//!    [`crate::shard::RowView`]s.
//! 2. [`stats`] — length histogram, predictions and their [MASK]/random/kept shares, NSP share,
//!    segment lengths, padding; per shard and summed over the directory.
//! 3. [`decode`] — the rows asked for (`--rows N`, `--row K`) as readable segments A and B.
//! 4. [`crate::shard::check`] — with `--check`, every row's invariants and, for a directory,
//!    `manifest.json`'s row counts, sizes, SHA-256 checksums and counters.
//! 5. [`render`] — the report as text, with colour when asked.
//!
//! One pass reads every row once; memory is bounded by one row group plus the rows shown,
//! whatever the size of the directory. The tokenizer is `tokenizer.json` beside the shards (or
//! `--tokenizer`); without one, tokens are shown as ids and the report says so.

pub mod decode;
pub mod render;
pub mod stats;

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::config::Objective;
use crate::error::{Error, Result};
use crate::output::layout::{self, MANIFEST_FILE, TOKENIZER_FILE};
use crate::output::manifest::Manifest;
use crate::shard::check::{
    check_manifest_entry, check_row, sha256_file, RowProblem, RowRules, Violation,
};
use crate::shard::meta::ShardMetadata;
use crate::shard::reader::{Columns, ShardFile};
use crate::shard::{ShardEntry, ShardRow, SCHEMA_VERSION};
use crate::tokenize::{SpecialTokens, Tokenizer};
use decode::{DecodedInstance, RowPlace, Vocab};
use stats::{round6, Stats, StatsSummary};

/// Which rows to show decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Show {
    /// The first `n` rows (`--rows N`).
    First(u64),
    /// Row `k` across all shards, 0-based (`--row K`).
    Row(u64),
}

/// What to inspect and how.
#[derive(Debug, Clone)]
pub struct InspectOptions {
    /// A shard, or a directory of shards (a `bertprep build` output).
    pub path: PathBuf,
    /// Rows to decode.
    pub show: Show,
    /// Validate every row, and the manifest for a directory.
    pub check: bool,
    /// Tokenizer to decode with instead of `tokenizer.json` beside the shards.
    pub tokenizer: Option<PathBuf>,
    /// Violations listed at most (all are counted).
    pub max_violations: usize,
}

impl Default for InspectOptions {
    fn default() -> Self {
        InspectOptions {
            path: PathBuf::new(),
            show: Show::First(3),
            check: false,
            tokenizer: None,
            max_violations: 20,
        }
    }
}

/// Everything `inspect` found, as printed.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The path as given.
    pub path: String,
    /// `shard` or `directory`.
    pub kind: &'static str,
    /// Totals over the files.
    pub files: FilesReport,
    /// Shard schema version (`bertprep.schema_version`).
    pub schema_version: Option<u32>,
    /// The writer, e.g. `bertprep 0.1.0`.
    pub created_by: Option<String>,
    /// The build config from the shard metadata (`bertprep.config`).
    pub config: Option<serde_json::Value>,
    /// The tokenizer the shards were made with, and the one used to decode.
    pub tokenizer: TokenizerReport,
    /// Statistics over all rows.
    pub stats: StatsSummary,
    /// Each shard, in order.
    pub shards: Vec<ShardReport>,
    /// The rows shown decoded.
    pub instances: Vec<DecodedInstance>,
    /// `--check` results (`null` without `--check`).
    pub check: Option<CheckReport>,
    /// Things the reader should know (missing tokenizer, mismatches, ...).
    pub notes: Vec<String>,
}

/// Sizes over all shards.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FilesReport {
    pub shards: usize,
    pub rows: u64,
    pub row_groups: usize,
    pub bytes: u64,
    pub bytes_per_row: f64,
    /// Codecs of the column chunks, e.g. `["zstd"]`.
    pub compression: Vec<String>,
    /// Whether a `manifest.json` was found (and lists the shard, for a single shard).
    pub manifest: bool,
}

/// One shard's facts and statistics.
#[derive(Debug, Clone, Serialize)]
pub struct ShardReport {
    /// File name.
    pub file: String,
    pub rows: u64,
    pub row_groups: usize,
    pub bytes: u64,
    pub bytes_per_row: f64,
    /// Its row count in `manifest.json`, when listed there.
    pub manifest_rows: Option<u64>,
    pub stats: StatsSummary,
}

/// The tokenizer: as recorded in the shards, and as found for decoding.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TokenizerReport {
    /// The config's `tokenizer` (e.g. `embedded:bert-base-uncased`).
    pub origin: Option<String>,
    /// SHA-256 recorded in the shards (`bertprep.tokenizer_sha256`).
    pub sha256: Option<String>,
    /// Special-token ids used to read the rows.
    pub special_tokens: Option<SpecialTokens>,
    /// The `tokenizer.json` decoded with; `null` when none could be loaded.
    pub file: Option<String>,
    /// Its vocabulary size.
    pub vocab_size: Option<usize>,
    /// Whether its SHA-256 equals the shards' (`null` when either is unknown).
    pub matches_shards: Option<bool>,
}

/// `--check` outcome.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckReport {
    /// Every invariant held.
    pub ok: bool,
    pub rows_checked: u64,
    /// Rows breaking at least one invariant.
    pub rows_failed: u64,
    /// Shards whose size and SHA-256 were compared with `manifest.json`.
    pub checksums_verified: usize,
    /// Violations found (rows and files).
    pub violations_total: u64,
    /// The first `max_violations` of them.
    pub violations: Vec<Violation>,
}

/// Inspects `opts.path`; with `check`, a failed check is in the report, not an error. Errors are
/// for paths that cannot be inspected at all: missing, not Parquet, not a shard, truncated.
pub fn inspect(opts: &InspectOptions) -> Result<Report> {
    let target = Target::resolve(&opts.path)?;
    let mut notes = target.notes.clone();
    let mut found = Findings::new(opts.max_violations, opts.check);

    // 1. Footers and metadata.
    let shards = open_shards(&target, opts.check, &mut found)?;
    let meta = shards
        .first()
        .map(ShardFile::shard_metadata)
        .unwrap_or_default();
    compare_metadata(&shards, &meta, &mut found, &mut notes);

    // 2. Tokenizer, special ids, vocabulary size.
    let decoder = Decoder::load(opts, &target, &meta, &mut found, &mut notes);
    let rules = row_rules(opts, &target, &shards, &meta, &decoder, &mut notes)?;
    let (specials, max_seq_len) = (rules.specials, rules.max_seq_len);

    // 3. One pass over every row.
    let total_rows: u64 = shards.iter().map(|s| s.rows).sum();
    let mut scan = Scan {
        check: opts.check,
        rules,
        wanted: wanted_rows(opts, total_rows)?,
        total: Stats::default(),
        kept: Vec::new(),
        first_row: 0,
        complete: shards.len() == target.shards.len(),
        checksums_verified: 0,
        found,
    };
    let shard_reports = shards
        .iter()
        .map(|shard| scan.shard_report(shard, target.manifest.as_ref()))
        .collect::<Result<Vec<_>>>()?;
    let Scan {
        total,
        kept,
        complete,
        checksums_verified,
        mut found,
        ..
    } = scan;
    if opts.check {
        check_build(&target, &meta, complete.then_some(&total), &mut found);
    }

    // 4. Decode the rows asked for, and assemble.
    let vocab = decoder
        .tokenizer
        .as_ref()
        .map_or(Vocab::Ids, Vocab::Tokenizer);
    let instances = kept
        .into_iter()
        .map(|(place, row)| decode::decode(&row, place, &specials, vocab))
        .collect();
    Ok(Report {
        path: opts.path.display().to_string(),
        kind: if target.is_dir { "directory" } else { "shard" },
        files: files_report(&shards, total_rows, &target),
        schema_version: meta.schema_version,
        created_by: shards.first().and_then(|s| s.created_by.clone()),
        config: meta.config.clone(),
        tokenizer: tokenizer_report(&meta, &decoder, (!shards.is_empty()).then_some(specials)),
        stats: total.summary(max_seq_len.unwrap_or(0)),
        shards: shard_reports,
        instances,
        check: opts
            .check
            .then(|| found.report(total.rows(), checksums_verified)),
        notes,
    })
}

/// What every row is held to: special-token ids (from the shards, else the tokenizer), the
/// vocabulary size (from the tokenizer, else the manifest) and the list length.
fn row_rules(
    opts: &InspectOptions,
    target: &Target,
    shards: &[ShardFile],
    meta: &ShardMetadata,
    decoder: &Decoder,
    notes: &mut Vec<String>,
) -> Result<RowRules> {
    let specials = match meta.specials.or(decoder.tokenizer.as_ref().map(Tokenizer::specials)) {
        Some(specials) => specials,
        None if shards.is_empty() => crate::tokenize::SpecialTokens::BERT,
        None => {
            return Err(Error::parquet(
                &target.shards[0],
                "no special-token ids: no bertprep.special_tokens metadata and no tokenizer to take them from",
            ))
        }
    };
    let vocab_size = decoder
        .tokenizer
        .as_ref()
        .map(Tokenizer::vocab_size)
        .or_else(|| target.manifest.as_ref().map(|m| m.tokenizer.vocab_size));
    if opts.check && vocab_size.is_none() {
        notes.push("vocabulary size unknown: ids were not checked against it".into());
    }
    Ok(RowRules {
        max_seq_len: meta.max_seq_len(),
        specials,
        vocab_size,
        form: meta.row_form(),
    })
}

/// Sizes, row groups and codecs summed over the shards read.
fn files_report(shards: &[ShardFile], total_rows: u64, target: &Target) -> FilesReport {
    let bytes: u64 = shards.iter().map(|s| s.bytes).sum();
    let mut compression: Vec<String> = shards.iter().flat_map(|s| s.compression.clone()).collect();
    compression.sort();
    compression.dedup();
    FilesReport {
        shards: shards.len(),
        rows: total_rows,
        row_groups: shards.iter().map(ShardFile::row_groups).sum(),
        bytes,
        bytes_per_row: round6(bytes as f64 / total_rows.max(1) as f64),
        compression,
        manifest: target.manifest.is_some(),
    }
}

/// The tokenizer as the shards record it and as found for decoding.
fn tokenizer_report(
    meta: &ShardMetadata,
    decoder: &Decoder,
    special_tokens: Option<SpecialTokens>,
) -> TokenizerReport {
    TokenizerReport {
        origin: meta
            .config
            .as_ref()
            .and_then(|c| c.get("tokenizer"))
            .and_then(|t| t.as_str())
            .map(str::to_string),
        sha256: meta.tokenizer_sha256.clone(),
        special_tokens,
        file: decoder
            .tokenizer
            .as_ref()
            .map(|_| decoder.path.display().to_string()),
        vocab_size: decoder.tokenizer.as_ref().map(Tokenizer::vocab_size),
        matches_shards: decoder.matches_shards,
    }
}

/// Opens every shard's footer. With `check`, a directory's unreadable shard is a violation and
/// the others are still inspected; otherwise it is the error.
fn open_shards(target: &Target, check: bool, found: &mut Findings) -> Result<Vec<ShardFile>> {
    let mut shards = Vec::new();
    for path in &target.shards {
        match ShardFile::open(path) {
            Ok(shard) => shards.push(shard),
            Err(e) if check && target.is_dir => found.file(&file_name(path), without_path(&e)),
            Err(e) => return Err(e),
        }
    }
    Ok(shards)
}

/// Every shard of a build carries the same metadata; says which do not, and an unknown schema.
fn compare_metadata(
    shards: &[ShardFile],
    meta: &ShardMetadata,
    found: &mut Findings,
    notes: &mut Vec<String>,
) {
    if let Some(v) = meta.schema_version.filter(|&v| v != SCHEMA_VERSION) {
        notes.push(format!(
            "schema version {v} is not this program's ({SCHEMA_VERSION}); columns may mean other things"
        ));
    }
    for shard in shards.iter().skip(1) {
        if shard.shard_metadata() != *meta {
            let message =
                "metadata (config, tokenizer or schema version) differs from the first shard's";
            found.file(&file_name(&shard.path), message.into());
            if !found.enabled {
                notes.push(format!("{}: {message}", file_name(&shard.path)));
            }
        }
    }
}

/// The global row indices `--rows` / `--row` ask for.
fn wanted_rows(opts: &InspectOptions, total_rows: u64) -> Result<std::ops::Range<u64>> {
    match opts.show {
        Show::First(n) => Ok(0..n.min(total_rows)),
        Show::Row(k) if k < total_rows => Ok(k..k + 1),
        Show::Row(k) => Err(Error::Config(format!(
            "--row {k} is out of range: {} has {total_rows} rows (0..={})",
            opts.path.display(),
            total_rows.saturating_sub(1)
        ))),
    }
}

/// The tokenizer to decode with, if one loads.
struct Decoder {
    path: PathBuf,
    tokenizer: Option<Tokenizer>,
    /// Its SHA-256 equals the one the shards record (`None` when either is unknown).
    matches_shards: Option<bool>,
}

impl Decoder {
    fn load(
        opts: &InspectOptions,
        target: &Target,
        meta: &ShardMetadata,
        found: &mut Findings,
        notes: &mut Vec<String>,
    ) -> Decoder {
        let path = opts
            .tokenizer
            .clone()
            .unwrap_or_else(|| target.dir.join(TOKENIZER_FILE));
        let tokenizer = match Tokenizer::from_json_file(&path) {
            Ok(tok) => Some(tok),
            Err(e) => {
                let why = if path.exists() {
                    format!("cannot load {}: {e}", path.display())
                } else {
                    format!("no tokenizer found at {}", path.display())
                };
                notes.push(format!("{why}; tokens are shown as ids"));
                None
            }
        };
        let matches_shards = match (&tokenizer, &meta.tokenizer_sha256) {
            (Some(tok), Some(sha)) => Some(tok.sha256() == sha),
            _ => None,
        };
        if matches_shards == Some(false) {
            let message = format!(
                "{} is not the tokenizer the shards were built with (SHA-256 differs); decoded text may be wrong",
                path.display()
            );
            found.file(&file_name(&path), message.clone());
            notes.push(message);
        }
        Decoder {
            path,
            tokenizer,
            matches_shards,
        }
    }
}

/// The single pass over every row: statistics, checks, and the rows kept for decoding.
struct Scan {
    check: bool,
    rules: RowRules,
    wanted: std::ops::Range<u64>,
    total: Stats,
    kept: Vec<(RowPlace, ShardRow)>,
    /// Global index of the next shard's first row.
    first_row: u64,
    /// Every shard on disk was read to the end (the manifest's counters can be compared).
    complete: bool,
    /// Shards whose size and SHA-256 were compared with `manifest.json`.
    checksums_verified: usize,
    found: Findings,
}

impl Scan {
    /// Streams one shard and, with `--check`, holds it to its `manifest` entry.
    fn shard_report(
        &mut self,
        shard: &ShardFile,
        manifest: Option<&Manifest>,
    ) -> Result<ShardReport> {
        let name = file_name(&shard.path);
        let (stats, rows_read) = self.shard(shard, &name)?;
        let entry = manifest.and_then(|m| m.shards.iter().find(|s| s.file == name));
        if let (true, Some(entry)) = (self.check, entry) {
            self.verify_entry(shard, &name, entry, rows_read);
        }
        Ok(ShardReport {
            file: name,
            rows: shard.rows,
            row_groups: shard.row_groups(),
            bytes: shard.bytes,
            bytes_per_row: round6(shard.bytes as f64 / shard.rows.max(1) as f64),
            manifest_rows: entry.map(|e| e.rows),
            stats: stats.summary(self.rules.max_seq_len.unwrap_or(0)),
        })
    }

    /// Compares a shard's rows read, size and SHA-256 with its manifest entry.
    fn verify_entry(&mut self, shard: &ShardFile, name: &str, entry: &ShardEntry, rows_read: u64) {
        match sha256_file(&shard.path) {
            Ok(sha) => {
                for problem in check_manifest_entry(entry, shard.bytes, &sha, rows_read) {
                    self.found.file(name, problem);
                }
                self.checksums_verified += 1;
            }
            Err(e) => self.found.file(name, without_path(&e)),
        }
    }

    /// Streams one shard; returns its statistics and the rows read.
    fn shard(&mut self, shard: &ShardFile, name: &str) -> Result<(Stats, u64)> {
        let mut stats = Stats::default();
        let mut row_in_shard = 0u64;
        let columns = if self.check {
            Columns::All
        } else {
            Columns::Stats
        };
        let specials = self.rules.specials;
        let pass = (|| -> Result<()> {
            for batch in shard.batches(columns)? {
                let batch = batch?;
                if batch.nulls() > 0 {
                    self.found.file(
                        name,
                        format!("{} null values in rows from {row_in_shard}", batch.nulls()),
                    );
                }
                for i in 0..batch.len() {
                    let row = batch.row(i);
                    stats.add(&row, &specials);
                    if self.check {
                        self.found
                            .row(name, row_in_shard, check_row(&row, &self.rules));
                    }
                    let index = self.first_row + row_in_shard;
                    if self.wanted.contains(&index) {
                        let place = RowPlace {
                            shard: name.to_string(),
                            row: row_in_shard,
                            index,
                        };
                        self.kept.push((place, row.to_owned()));
                    }
                    row_in_shard += 1;
                }
            }
            Ok(())
        })();
        match pass {
            Ok(()) => {}
            Err(e) if self.check => {
                self.found.file(name, without_path(&e));
                self.complete = false;
            }
            Err(e) => return Err(e),
        }
        self.total.merge(&stats);
        self.first_row += shard.rows;
        Ok((stats, row_in_shard))
    }
}

impl Report {
    /// The report as one pretty-printed JSON document, ending in a newline.
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_else(|e| {
            serde_json::json!({ "error": format!("cannot serialize the report: {e}") }).to_string()
        });
        text.push('\n');
        text
    }

    /// Whether `--check` ran and found violations.
    pub fn check_failed(&self) -> bool {
        self.check.as_ref().is_some_and(|c| !c.ok)
    }
}

/// What `PATH` names: the shards to read and where their manifest and tokenizer are.
#[derive(Debug)]
struct Target {
    is_dir: bool,
    /// Where `manifest.json` and `tokenizer.json` are looked for.
    dir: PathBuf,
    shards: Vec<PathBuf>,
    manifest: Option<Manifest>,
    /// Why a directory has no usable manifest.
    manifest_problem: Option<String>,
    notes: Vec<String>,
}

impl Target {
    /// Resolves `path`: a single shard, or a build directory with its shards in manifest order.
    fn resolve(path: &Path) -> Result<Target> {
        let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
        if !meta.is_dir() {
            return Ok(Target::shard(path));
        }
        let on_disk = parquet_files(path)?;
        let mut notes = Vec::new();
        let (manifest, manifest_problem) = read_manifest(path);
        if let Some(problem) = &manifest_problem {
            notes.push(format!(
                "{MANIFEST_FILE} {problem}; row counts and checksums cannot be verified"
            ));
        }
        let names = shard_order(manifest.as_ref(), on_disk);
        if names.is_empty() {
            return Err(Error::parquet(
                path,
                "no Parquet shards (*.parquet) in this directory",
            ));
        }
        Ok(Target {
            is_dir: true,
            dir: path.to_path_buf(),
            shards: names.iter().map(|n| path.join(n)).collect(),
            manifest,
            manifest_problem,
            notes,
        })
    }

    /// A single shard file, with the manifest beside it when one lists it.
    fn shard(path: &Path) -> Target {
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        // A manifest beside the shard (a task's part, before finalize) is used only when
        // it lists the shard.
        let name = file_name(path);
        let manifest = manifest_files(&dir)
            .into_iter()
            .filter_map(|f| Manifest::read_file(&dir.join(f)).ok())
            .find(|m| m.shards.iter().any(|s| s.file == name));
        Target {
            is_dir: false,
            dir,
            shards: vec![path.to_path_buf()],
            manifest,
            manifest_problem: None,
            notes: Vec::new(),
        }
    }
}

/// The visible `*.parquet` files in `dir`, by name, sorted.
fn parquet_files(dir: &Path) -> Result<Vec<String>> {
    let mut on_disk = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.starts_with('.') && name.ends_with(".parquet") && entry.path().is_file() {
            on_disk.push(name);
        }
    }
    on_disk.sort();
    Ok(on_disk)
}

/// A directory's `manifest.json`, or why there is none usable.
fn read_manifest(dir: &Path) -> (Option<Manifest>, Option<String>) {
    if dir.join(MANIFEST_FILE).exists() {
        match Manifest::read(dir) {
            Ok(m) => (Some(m), None),
            Err(e) => (None, Some(format!("unreadable: {e}"))),
        }
    } else if manifest_files(dir).len() > 1 {
        (
            None,
            Some(format!(
                "missing, but task parts are there: run `bertprep finalize {}` once \
                 every task has finished",
                dir.display()
            )),
        )
    } else {
        (
            None,
            Some("missing: the build did not finish, or this is not a build directory".into()),
        )
    }
}

/// The shards to read: manifest order first (those on disk), then anything else on disk.
fn shard_order(manifest: Option<&Manifest>, on_disk: Vec<String>) -> Vec<String> {
    let mut names: Vec<String> = manifest
        .iter()
        .flat_map(|m| m.shards.iter().map(|s| s.file.clone()))
        .filter(|f| on_disk.contains(f))
        .collect();
    for name in on_disk {
        if !names.contains(&name) {
            names.push(name);
        }
    }
    names
}

/// `manifest.json` (first, when there) and the task parts `manifest-tNNNN.json` in `dir`.
fn manifest_files(dir: &Path) -> Vec<String> {
    let mut parts: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| layout::part_index(n).is_some())
        .collect();
    parts.sort();
    let mut files = vec![MANIFEST_FILE.to_string()];
    files.extend(parts);
    files
}

/// Violations as they are found: all counted, the first few kept.
#[derive(Debug)]
struct Findings {
    enabled: bool,
    max: usize,
    kept: Vec<Violation>,
    total: u64,
    rows_failed: u64,
}

impl Findings {
    fn new(max: usize, enabled: bool) -> Self {
        Findings {
            enabled,
            max,
            kept: Vec::new(),
            total: 0,
            rows_failed: 0,
        }
    }

    fn push(&mut self, violation: Violation) {
        if !self.enabled {
            return;
        }
        self.total += 1;
        if self.kept.len() < self.max {
            self.kept.push(violation);
        }
    }

    fn file(&mut self, file: &str, message: String) {
        self.push(Violation {
            file: file.to_string(),
            row: None,
            message,
        });
    }

    fn row(&mut self, file: &str, row: u64, result: std::result::Result<(), RowProblem>) {
        if let Err(RowProblem(message)) = result {
            self.rows_failed += 1;
            self.push(Violation {
                file: file.to_string(),
                row: Some(row),
                message,
            });
        }
    }

    fn report(self, rows_checked: u64, checksums_verified: usize) -> CheckReport {
        CheckReport {
            ok: self.total == 0,
            rows_checked,
            rows_failed: self.rows_failed,
            checksums_verified,
            violations_total: self.total,
            violations: self.kept,
        }
    }
}

/// Directory-level checks: the manifest against the files and, when every shard could be read,
/// against the rows (`rows`).
fn check_build(target: &Target, meta: &ShardMetadata, rows: Option<&Stats>, found: &mut Findings) {
    if !target.is_dir {
        return;
    }
    if let Some(problem) = &target.manifest_problem {
        found.file(MANIFEST_FILE, problem.clone());
    }
    let Some(manifest) = &target.manifest else {
        return;
    };
    let names: Vec<String> = target.shards.iter().map(|p| file_name(p)).collect();
    for entry in &manifest.shards {
        if !names.contains(&entry.file) {
            found.file(&entry.file, "listed in manifest.json but missing".into());
        }
    }
    for name in &names {
        if !manifest.shards.iter().any(|s| &s.file == name) {
            found.file(name, "not listed in manifest.json".into());
        }
    }
    let config = serde_json::to_value(&manifest.config).ok();
    if meta.config.is_some() && config != meta.config {
        found.file(
            MANIFEST_FILE,
            "config differs from the shards' bertprep.config".into(),
        );
    }
    // Without a readable shard there is no recorded tokenizer to compare (the shards' own
    // problems are reported where they were read).
    let recorded = meta.tokenizer_sha256.as_deref();
    if recorded.is_some_and(|sha| sha != manifest.tokenizer.sha256) {
        found.file(
            MANIFEST_FILE,
            "tokenizer SHA-256 differs from the shards' bertprep.tokenizer_sha256".into(),
        );
    }
    let tokenizer = target.dir.join(&manifest.tokenizer.file);
    match sha256_file(&tokenizer) {
        Ok(sha) if sha == manifest.tokenizer.sha256 => {}
        Ok(sha) => found.file(
            &manifest.tokenizer.file,
            format!(
                "SHA-256 {sha} differs from manifest.json's {}",
                manifest.tokenizer.sha256
            ),
        ),
        Err(e) => found.file(&manifest.tokenizer.file, without_path(&e)),
    }
    let Some(rows) = rows else {
        return;
    };
    let s = rows.summary(0);
    let c = &manifest.counters;
    // Not `masked_as_random` / `masked_as_kept`: a random draw may pick the original token,
    // which the build counts as random and the rows show as kept.
    let counters = [
        ("instances", c.instances, s.rows),
        ("tokens", c.tokens, rows.tokens()),
        ("masked", c.masked, s.predictions.total),
        ("masked_as_mask", c.masked_as_mask, s.predictions.mask),
        match manifest.config.objective {
            Objective::Nsp | Objective::None => {
                ("random_next", c.random_next, s.next_sentence.random_next)
            }
            Objective::Sop => ("swapped", c.swapped, s.next_sentence.random_next),
        },
    ];
    for (name, recorded, counted) in counters {
        if recorded != counted {
            found.file(
                MANIFEST_FILE,
                format!("counters.{name} is {recorded}, the shards hold {counted}"),
            );
        }
    }
}

/// An error's message without the file it names (for violations, which name it already).
fn without_path(e: &Error) -> String {
    match e {
        Error::Parquet { message, .. } => message.clone(),
        Error::Io { source, .. } => source.to_string(),
        other => other.to_string(),
    }
}

/// The file name of `path`, for messages and reports.
fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}
