//! `merge-manifest`: one manifest from the parts of a `--worker i/N` build.
//!
//! Each worker writes `manifest-wNNN.json` beside its shards. Merging reads exactly the files
//! named so (a copy such as `manifest-w000.bak.json` is not a part), and holds them to one
//! build: each part's worker index is the one its name gives and lies in `0..N`; all parts
//! have the same config, tokenizer, inputs and worker count (a part left from an earlier build
//! is named); every worker `0..N` is there; every shard a part lists is one of that worker's
//! names, listed once, and on disk with the size and SHA-256 the part records. Only then is
//! `manifest.json` written: the inputs' counts summed, the shards of every worker in worker
//! order, the counters summed.

use std::collections::HashSet;
use std::path::Path;

use crate::error::{Error, Result};
use crate::output::layout::{self, part_file, Worker, MANIFEST_FILE};
use crate::output::manifest::{InputEntry, Manifest};

/// Merges the worker manifests in `dir` into `dir/manifest.json`.
pub fn merge_manifests(dir: &Path) -> Result<Manifest> {
    let parts = read_parts(dir)?;
    let Some((first_name, first)) = parts.first() else {
        return Err(Error::manifest(
            dir,
            "no worker manifests (manifest-wNNN.json)",
        ));
    };
    let count = first.worker.map_or(0, |w| w.count);
    for (name, part) in &parts {
        let same = part.config == first.config
            && part.tokenizer == first.tokenizer
            && part.worker.map(|w| w.count) == Some(count)
            && part.has_inputs(first.inputs.iter().map(|e| (e.path.as_str(), e.bytes)));
        if !same {
            return Err(Error::manifest(
                dir.join(name),
                format!(
                    "is from another build than {first_name} (other worker count, inputs, \
                     settings or tokenizer): a part left from an earlier build? Remove it, or \
                     rebuild that worker"
                ),
            ));
        }
    }
    let missing: Vec<String> = (0..count)
        .filter(|&i| {
            !parts
                .iter()
                .any(|(_, p)| p.worker.map(|w| w.index) == Some(i))
        })
        .map(|i| part_file(Worker { index: i, count }))
        .collect();
    if !missing.is_empty() {
        return Err(Error::manifest(
            dir,
            format!("missing worker manifests: {}", missing.join(", ")),
        ));
    }
    check_shards(dir, &parts)?;
    let merged = merged(&parts, count);
    merged.write_file(&dir.join(MANIFEST_FILE))?;
    Ok(merged)
}

/// The parts in `dir`, by worker index, each read bounded and checked against its name.
fn read_parts(dir: &Path) -> Result<Vec<(String, Manifest)>> {
    let mut parts = Vec::new();
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(index) = layout::part_index(&name) else {
            continue;
        };
        let path = entry.path();
        let part = Manifest::read_file(&path)?;
        match part.worker {
            Some(w) if w.index == index && w.index < w.count => {}
            Some(w) => {
                return Err(Error::manifest(
                    &path,
                    format!(
                        "says it is worker {} of {}; a part's name gives its index, which must \
                         be below the worker count",
                        w.index, w.count
                    ),
                ))
            }
            None => return Err(Error::manifest(&path, "is not a worker's manifest part")),
        }
        parts.push((name, part));
    }
    parts.sort_by_key(|(_, p)| p.worker.map_or(0, |w| w.index));
    Ok(parts)
}

/// Every shard a part lists is one of its worker's names, listed once in all the parts, and on
/// disk as recorded (size and SHA-256).
fn check_shards(dir: &Path, parts: &[(String, Manifest)]) -> Result<()> {
    let mut seen = HashSet::new();
    for (name, part) in parts {
        for shard in &part.shards {
            if !layout::is_shard_of(&shard.file, part.worker) {
                return Err(Error::manifest(
                    dir.join(name),
                    format!("lists {}, not a shard name of its worker", shard.file),
                ));
            }
            if !seen.insert(shard.file.as_str()) {
                return Err(Error::manifest(
                    dir.join(name),
                    format!("lists {} again", shard.file),
                ));
            }
            shard.verify(dir, true)?;
        }
    }
    Ok(())
}

/// The one manifest of the parts.
fn merged(parts: &[(String, Manifest)], count: u32) -> Manifest {
    let mut merged = parts[0].1.clone();
    merged.worker = None;
    merged.merged_workers = Some(count);
    merged.shards.clear();
    merged.counters = Default::default();
    merged.skipped.clear();
    for entry in &mut merged.inputs {
        let (path, bytes) = (entry.path.clone(), entry.bytes);
        *entry = InputEntry::new(path, bytes);
    }
    for (_, part) in parts {
        merged.shards.extend(part.shards.iter().cloned());
        merged.counters.add(&part.counters);
        merged.skipped.extend(part.skipped.iter().cloned());
        for (entry, other) in merged.inputs.iter_mut().zip(&part.inputs) {
            entry.add(other);
        }
    }
    merged.skipped.sort_by_key(|s| (s.file_index, s.offset));
    merged
}
