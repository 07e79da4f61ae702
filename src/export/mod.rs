//! `bertprep export`: a finished build rewritten for the trainers that read other formats —
//! NVIDIA's HDF5 ([`hdf5`]), Google's TFRecord ([`tfrecord`]), MosaicML's MDS ([`mds`]).
//!
//! - [`source`] — the build read: complete, checksummed, every row checked as it streams.
//! - [`rows`] — our `labels` column as the others' zero-padded prediction lists.
//! - [`files`] — output files written under temporary names, hashed as written, renamed when
//!   complete.
//! - [`record`] — `export-state.json` while running, `export-manifest.json` when done.
//!
//! Each source shard becomes its own output file (MDS: its own run of shard files), written
//! from a stream of its rows on one of `threads` workers. When a shard's files are complete
//! they are renamed into place and the state file is rewritten to list them, so an export that
//! is killed resumes by rerunning it: finished shards are kept (their checksums checked),
//! half-written temporaries removed. The build must be complete, every shard at its recorded
//! size and SHA-256, in a variant the target can express, and the output directory new, empty
//! or an export of the same build with the same settings; anything else is refused before a
//! byte is written. A row that breaks the shard invariants (a build written by something
//! else) stops the export at its shard; finished shards stay, to be resumed from.
//! The manifest, listing every file with its SHA-256, is written last.

pub mod files;
pub mod hdf5;
pub mod mds;
pub mod record;
pub mod rows;
pub mod source;
pub mod tfrecord;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

use crate::error::{Error, Result};
use crate::shard::ShardEntry;
use files::{HashingWriter, Pending};
pub use record::{
    Compression, ExportManifest, ExportedFile, Target, EXPORT_MANIFEST, EXPORT_STATE,
};
use source::{Source, Windows};

/// What to export, where, how.
#[derive(Debug, Clone)]
pub struct ExportOptions {
    /// The build's output directory.
    pub build: PathBuf,
    /// Where the exported files go.
    pub out: PathBuf,
    pub target: Target,
    /// `None`: the target's default (gzip for HDF5, none for the others).
    pub compression: Option<Compression>,
    /// MDS shard size limit in bytes.
    pub mds_size_limit: u64,
    /// Shards exported side by side.
    pub threads: usize,
    /// A line per shard on standard error.
    pub progress: bool,
}

/// What an export did.
#[derive(Debug, Clone)]
pub struct ExportSummary {
    pub manifest: ExportManifest,
    /// The output directory already held this export.
    pub already_complete: bool,
    /// Shards found finished by an earlier, interrupted run.
    pub resumed_shards: usize,
    pub seconds: f64,
}

/// Exports a build.
pub fn export(opts: &ExportOptions) -> Result<ExportSummary> {
    let start = Instant::now();
    let compression = settle_compression(opts.target, opts.compression)?;
    if opts.target == Target::Mds && opts.mds_size_limit >= u32::MAX as u64 {
        return Err(Error::Config(
            "--mds-size-limit must be below 4 GiB: MDS offsets are 32-bit".into(),
        ));
    }
    let source = Source::open(&opts.build, opts.target)?;
    let threads = opts.threads.max(1);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|source| Error::Threads {
            threads: opts.threads,
            source,
        })?;
    // Every shard's SHA-256, before the output directory is touched.
    pool.install(|| source.verify_shards())?;
    let mut record = ExportManifest {
        producer: "bertprep".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        format: opts.target,
        compression,
        mds_size_limit: (opts.target == Target::Mds).then_some(opts.mds_size_limit),
        source: source.entry.clone(),
        files: Vec::new(),
        rows: 0,
        bytes: 0,
    };
    let done = match prepare_out(&opts.out, &opts.build, &record)? {
        Prepared::Complete(manifest) => {
            return Ok(ExportSummary {
                manifest: *manifest,
                already_complete: true,
                resumed_shards: 0,
                seconds: start.elapsed().as_secs_f64(),
            })
        }
        Prepared::Resume(files) => files,
    };
    let resumed_shards = done_sources(&done).len();
    record.files = done;
    let record = run_shards(opts, &source, &pool, record)?;
    let manifest = finish(opts, &source, record)?;
    Ok(ExportSummary {
        manifest,
        already_complete: false,
        resumed_shards,
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// The compression a target writes; an error for one it cannot.
fn settle_compression(target: Target, asked: Option<Compression>) -> Result<Compression> {
    let (default, allowed): (Compression, &[Compression]) = match target {
        Target::Hdf5 => (Compression::Gzip, &[Compression::Gzip, Compression::None]),
        Target::Tfrecord => (Compression::None, &[Compression::None, Compression::Gzip]),
        Target::Mds => (Compression::None, &[Compression::None, Compression::Zstd]),
    };
    let chosen = asked.unwrap_or(default);
    if !allowed.contains(&chosen) {
        return Err(Error::Config(format!(
            "{} files take --compression {}, not {chosen:?}",
            target.name(),
            allowed
                .iter()
                .map(|c| format!("{c:?}").to_lowercase())
                .collect::<Vec<_>>()
                .join(" or ")
        )));
    }
    Ok(chosen)
}

/// What the output directory holds.
enum Prepared {
    /// This export, complete.
    Complete(Box<ExportManifest>),
    /// Files already finished (none for a new directory).
    Resume(Vec<ExportedFile>),
}

/// Makes sure `out` is ours to write: new, empty, or this same export (complete or not).
fn prepare_out(out: &Path, build: &Path, wanted: &ExportManifest) -> Result<Prepared> {
    if !out.exists() {
        std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
        return Ok(Prepared::Resume(Vec::new()));
    }
    if !out.is_dir() {
        return Err(Error::output(out, "exists and is not a directory"));
    }
    let same_dir = |a: &Path, b: &Path| matches!((a.canonicalize(), b.canonicalize()), (Ok(a), Ok(b)) if a == b);
    if same_dir(out, build) {
        return Err(Error::output(
            out,
            "is the build directory; export into another one",
        ));
    }
    let other = |found: &ExportManifest, what: &str| {
        Error::output(
            out,
            format!(
                "holds {what} {} export of {} with other settings; export into a new or empty \
                 directory, or rerun with that export's flags",
                found.format.name(),
                found.source.dir
            ),
        )
    };
    for (name, complete) in [(EXPORT_MANIFEST, true), (EXPORT_STATE, false)] {
        let path = out.join(name);
        if !path.exists() {
            continue;
        }
        let found = ExportManifest::read(&path)?;
        if !found.same_export(wanted) {
            return Err(other(
                &found,
                if complete {
                    "a complete"
                } else {
                    "an unfinished"
                },
            ));
        }
        for file in &found.files {
            verify_file(out, file, !complete)?;
        }
        if complete {
            return Ok(Prepared::Complete(Box::new(found)));
        }
        remove_temporaries(out)?;
        return Ok(Prepared::Resume(found.files));
    }
    // An export killed while writing its first state file leaves only that file's temporary:
    // the directory is still ours and empty of anything else.
    let state_temp =
        |name: &str| name.starts_with(&format!(".{EXPORT_STATE}.")) && name.ends_with(".tmp");
    let mut ours = Vec::new();
    for entry in std::fs::read_dir(out).map_err(|e| Error::io(out, e))? {
        let entry = entry.map_err(|e| Error::io(out, e))?;
        if !(state_temp(&entry.file_name().to_string_lossy()) && entry.path().is_file()) {
            return Err(Error::output(
                out,
                "is not empty and holds no bertprep export; export into a new or empty directory",
            ));
        }
        ours.push(entry.path());
    }
    for path in ours {
        std::fs::remove_file(&path).map_err(|e| Error::io(&path, e))?;
    }
    Ok(Prepared::Resume(Vec::new()))
}

/// Holds a finished file to its record: size, and with `hash` its SHA-256 (an MDS shard still
/// under the name it had before its move, where the move was cut short, there).
fn verify_file(dir: &Path, file: &ExportedFile, hash: bool) -> Result<()> {
    let name = match &file.renamed_from {
        Some(old) if !dir.join(&file.file).exists() => old,
        _ => &file.file,
    };
    let entry = ShardEntry {
        file: name.clone(),
        rows: file.rows,
        bytes: file.bytes,
        sha256: file.sha256.clone(),
    };
    entry.verify(dir, hash)
}

/// Removes the temporaries (`.NAME.PID-N.tmp`) an interrupted export left in its directory.
fn remove_temporaries(out: &Path) -> Result<()> {
    for entry in std::fs::read_dir(out).map_err(|e| Error::io(out, e))? {
        let entry = entry.map_err(|e| Error::io(out, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') && name.ends_with(".tmp") && entry.path().is_file() {
            std::fs::remove_file(entry.path()).map_err(|e| Error::io(entry.path(), e))?;
        }
    }
    Ok(())
}

fn done_sources(files: &[ExportedFile]) -> std::collections::BTreeSet<&str> {
    files.iter().map(|f| f.source.as_str()).collect()
}

/// Exports every shard not yet done, `threads` at a time, recording each as it completes.
/// The shards in flight share one budget of row groups ([`Windows`]), so memory grows with
/// `threads`, not with its square.
fn run_shards(
    opts: &ExportOptions,
    source: &Source,
    pool: &rayon::ThreadPool,
    record: ExportManifest,
) -> Result<ExportManifest> {
    let done: Vec<String> = done_sources(&record.files)
        .iter()
        .map(|s| s.to_string())
        .collect();
    let todo: Vec<&ShardEntry> = source
        .manifest
        .shards
        .iter()
        .filter(|s| !done.contains(&s.file))
        .collect();
    let total = source.manifest.shards.len();
    let state = Mutex::new(record);
    let state_path = opts.out.join(EXPORT_STATE);
    if todo.len() == total {
        state.lock().expect("state lock").write(&state_path)?;
    }
    let threads = pool.current_num_threads();
    // One worker per shard in flight, at most `threads`: plain threads pulling the next shard,
    // so no more shards are open at once than there are workers (a rayon task waiting on its
    // row groups could otherwise steal another shard and open it too).
    let workers = threads.min(todo.len());
    let windows = Windows::new(threads, workers);
    let next = std::sync::atomic::AtomicUsize::new(0);
    let failed = Mutex::new(None::<(usize, Error)>);
    let export_one = |shard: &ShardEntry| -> Result<()> {
        let files = pool.install(|| export_shard(opts, source, shard, &windows))?;
        let mut record = state.lock().expect("state lock");
        record.files.extend(files);
        record.write(&state_path)?;
        if opts.progress {
            eprintln!(
                "bertprep: export: {}/{total} {} ({} rows)",
                done_sources(&record.files).len(),
                shard.file,
                shard.rows
            );
        }
        Ok(())
    };
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let stop = failed.lock().expect("error lock").is_some();
                    let Some(shard) = todo.get(i).filter(|_| !stop) else {
                        break;
                    };
                    if let Err(e) = export_one(shard) {
                        let mut first = failed.lock().expect("error lock");
                        // Of the errors met (no shard starts after one), the earliest shard's.
                        if first.as_ref().is_none_or(|(j, _)| i < *j) {
                            *first = Some((i, e));
                        }
                    }
                }
                windows.leave();
            });
        }
    });
    if let Some((_, e)) = failed.into_inner().expect("error lock") {
        return Err(e);
    }
    Ok(state.into_inner().expect("state lock"))
}

/// Writes one source shard's files and renames them into place.
fn export_shard(
    opts: &ExportOptions,
    source: &Source,
    shard: &ShardEntry,
    windows: &Windows,
) -> Result<Vec<ExportedFile>> {
    let stem = shard.file.strip_suffix(".parquet").unwrap_or(&shard.file);
    let out = opts.out.as_path();
    let (l, p) = (source.entry.max_seq_len, source.entry.max_predictions);
    let compression = settle_compression(opts.target, opts.compression)?;
    let written: Vec<(Pending, u64, Option<mds::MdsPart>)> = match opts.target {
        Target::Hdf5 => {
            let gzip = compression == Compression::Gzip;
            let name = format!("{stem}_training.hdf5");
            let mut writer = hdf5::Hdf5Writer::create(out, &name, shard.rows as usize, l, p, gzip)?;
            let rows = source.map_row_groups(
                shard,
                windows,
                |group| {
                    let mut rows = hdf5::Hdf5Rows::default();
                    group.for_each(|row, pred| {
                        rows.push(row, pred);
                        Ok(())
                    })?;
                    Ok(rows)
                },
                |rows| writer.append(&rows),
            )?;
            vec![(writer.finish()?, rows, None)]
        }
        Target::Tfrecord => {
            let gzip = compression == Compression::Gzip;
            let name = format!("{stem}.tfrecord{}", if gzip { ".gz" } else { "" });
            let (pending, rows) = write_tfrecord(source, shard, windows, out, &name, gzip)?;
            vec![(pending, rows, None)]
        }
        Target::Mds => {
            let zstd = compression == Compression::Zstd;
            let layout = source.mds_layout();
            // zstd's workers: this shard's share of the threads, as for its row groups.
            let mut writer = mds::MdsWriter::new(out, stem, layout, zstd, opts.mds_size_limit)
                .zstd_workers(windows.size() / 2);
            source.map_row_groups(
                shard,
                windows,
                |group| {
                    let (mut samples, mut ends) = (Vec::new(), Vec::new());
                    group.for_each(|row, _| {
                        mds::MdsWriter::encode(layout, row, &mut samples);
                        ends.push(samples.len());
                        Ok(())
                    })?;
                    Ok((samples, ends))
                },
                |(samples, ends)| writer.push_encoded(&samples, &ends),
            )?;
            writer
                .finish()?
                .into_iter()
                .map(|(pending, part)| (pending, part.samples, Some(part)))
                .collect()
        }
    };
    let mut files = Vec::with_capacity(written.len());
    for (pending, rows, mds) in written {
        files.push(ExportedFile {
            file: pending.name.clone(),
            source: shard.file.clone(),
            rows,
            bytes: pending.bytes,
            sha256: pending.sha256.clone(),
            mds,
            renamed_from: None,
        });
        pending.commit()?;
    }
    Ok(files)
}

/// One shard as a TFRecord file. With gzip, each row group's records are compressed on their
/// own as one gzip member (side by side on the pool); the members, concatenated, are one gzip
/// stream to `TFRecordDataset(..., compression_type="GZIP")`, `gzip` and zlib alike.
fn write_tfrecord(
    source: &Source,
    shard: &ShardEntry,
    windows: &Windows,
    out: &Path,
    name: &str,
    gzip: bool,
) -> Result<(Pending, u64)> {
    let path = out.join(name);
    let mut file = HashingWriter::create(out, name)?;
    let rows = source.map_row_groups(
        shard,
        windows,
        |group| {
            let mut encoder = tfrecord::RecordEncoder::new();
            let mut records = Vec::new();
            group.for_each(|row, predictions| {
                let example = tfrecord::ExampleRow {
                    input_ids: row.input_ids,
                    input_mask: row.attention_mask.unwrap_or_default(),
                    segment_ids: row.token_type_ids.unwrap_or_default(),
                    predictions,
                    next_sentence_label: row.next_sentence_label,
                };
                encoder
                    .write(&mut records, &example)
                    .map_err(|e| Error::io(&path, e))
            })?;
            if !gzip {
                return Ok(records);
            }
            let level = flate2::Compression::new(TFRECORD_GZIP_LEVEL);
            let mut member = flate2::write::GzEncoder::new(Vec::new(), level);
            member
                .write_all(&records)
                .map_err(|e| Error::io(&path, e))?;
            member.finish().map_err(|e| Error::io(&path, e))
        },
        |bytes| file.write_all(&bytes).map_err(|e| Error::io(&path, e)),
    )?;
    Ok((file.finish(out, name)?, rows))
}

/// gzip level of TFRecord files: 1, as the HDF5 export (TensorFlow reads any level; its own
/// writer defaults to 6, 15% smaller here and too slow to keep up with the build).
const TFRECORD_GZIP_LEVEL: u32 = 1;

/// Gives the MDS shards, in source-shard order, `MDSWriter`'s names: `shard.00000.mds`,
/// `shard.00001.mds`, ... (`.zstd` after them when compressed). The new names go into the state
/// first, then the files are moved, so an export killed part way finishes the moves when run
/// again.
fn number_mds_shards(out: &Path, record: &mut ExportManifest, zstd: bool) -> Result<()> {
    let mut renamed = false;
    for (n, f) in record
        .files
        .iter_mut()
        .filter(|f| f.mds.is_some())
        .enumerate()
    {
        let raw = mds::shard_name(n);
        let name = if zstd {
            format!("{raw}.zstd")
        } else {
            raw.clone()
        };
        if f.file != name {
            f.renamed_from = Some(std::mem::replace(&mut f.file, name));
            renamed = true;
        }
        if let Some(part) = f.mds.as_mut() {
            part.raw_basename = raw;
        }
    }
    if renamed {
        record.write(&out.join(EXPORT_STATE))?;
    }
    for f in &mut record.files {
        let Some(old) = f.renamed_from.take() else {
            continue;
        };
        let (from, to) = (out.join(&old), out.join(&f.file));
        if from.exists() {
            std::fs::rename(&from, &to).map_err(|e| Error::io(&from, e))?;
        } else if !to.exists() {
            return Err(Error::output(
                &from,
                format!("is missing: it was to become {}", f.file),
            ));
        }
    }
    Ok(())
}

/// Puts the files in source-shard order, writes `index.json` (MDS) and the manifest, and
/// removes the state file.
fn finish(
    opts: &ExportOptions,
    source: &Source,
    mut record: ExportManifest,
) -> Result<ExportManifest> {
    let position = |name: &str| source.manifest.shards.iter().position(|s| s.file == name);
    record
        .files
        .sort_by(|a, b| (position(&a.source), &a.file).cmp(&(position(&b.source), &b.file)));
    if opts.target == Target::Mds {
        let zstd = record.compression == Compression::Zstd;
        number_mds_shards(&opts.out, &mut record, zstd)?;
        let parts: Vec<(String, u64, &mds::MdsPart)> = record
            .files
            .iter()
            .filter_map(|f| f.mds.as_ref().map(|m| (f.file.clone(), f.bytes, m)))
            .collect();
        let index = mds::index_json(&parts, source.mds_layout(), zstd, opts.mds_size_limit);
        let mut out = HashingWriter::create(&opts.out, mds::INDEX_FILE)?;
        out.write_all(&index)
            .map_err(|e| Error::io(opts.out.join(mds::INDEX_FILE), e))?;
        let pending = out.finish(&opts.out, mds::INDEX_FILE)?;
        record.files.push(ExportedFile {
            file: pending.name.clone(),
            source: String::new(),
            rows: parts.iter().map(|p| p.2.samples).sum(),
            bytes: pending.bytes,
            sha256: pending.sha256.clone(),
            mds: None,
            renamed_from: None,
        });
        pending.commit()?;
    }
    let data = record.files.iter().filter(|f| !f.source.is_empty());
    record.rows = data.clone().map(|f| f.rows).sum();
    record.bytes = record.files.iter().map(|f| f.bytes).sum();
    record.write(&opts.out.join(EXPORT_MANIFEST))?;
    let state = opts.out.join(EXPORT_STATE);
    std::fs::remove_file(&state).map_err(|e| Error::io(&state, e))?;
    Ok(record)
}
