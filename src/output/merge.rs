//! `merge-manifest`: one manifest from the parts of a `--worker i/N` build.
//!
//! Each worker writes `manifest-wNNN.json` beside its shards. Merging checks that the parts are
//! the same build (config, tokenizer, inputs, worker count) and that every worker `0..N` is
//! there, then writes `manifest.json` with the inputs' counts summed, the shards of every worker
//! in worker order and the counters summed.

use std::path::Path;

use crate::error::{Error, Result};
use crate::output::layout::Worker;
use crate::output::layout::{part_file, MANIFEST_FILE};
use crate::output::manifest::Manifest;

/// Merges the worker manifests in `dir` into `dir/manifest.json`.
pub fn merge_manifests(dir: &Path) -> Result<Manifest> {
    let mut parts = Vec::new();
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with("manifest-w") && name.ends_with(".json") {
            parts.push(Manifest::read_file(&entry.path())?);
        }
    }
    let Some(first) = parts.first() else {
        return Err(Error::manifest(
            dir,
            "no worker manifests (manifest-wNNN.json)",
        ));
    };
    let count = first.worker.map_or(0, |w| w.count);
    for part in &parts {
        let same = part.config == first.config
            && part.tokenizer == first.tokenizer
            && part.worker.map(|w| w.count) == Some(count)
            && part.has_inputs(first.inputs.iter().map(|e| (e.path.as_str(), e.bytes)));
        if !same {
            return Err(Error::manifest(
                dir,
                "the worker manifests are from different builds",
            ));
        }
    }
    parts.sort_by_key(|p| p.worker.map_or(0, |w| w.index));
    let missing: Vec<String> = (0..count)
        .filter(|&i| !parts.iter().any(|p| p.worker.map(|w| w.index) == Some(i)))
        .map(|i| part_file(Worker { index: i, count }))
        .collect();
    if !missing.is_empty() {
        return Err(Error::manifest(
            dir,
            format!("missing worker manifests: {}", missing.join(", ")),
        ));
    }
    let mut merged = parts[0].clone();
    merged.worker = None;
    merged.merged_workers = Some(count);
    merged.shards.clear();
    merged.counters = Default::default();
    merged.skipped.clear();
    for entry in &mut merged.inputs {
        let (path, bytes) = (entry.path.clone(), entry.bytes);
        *entry = crate::output::manifest::InputEntry::new(path, bytes);
    }
    for part in &parts {
        merged.shards.extend(part.shards.iter().cloned());
        merged.counters.add(&part.counters);
        merged.skipped.extend(part.skipped.iter().cloned());
        for (entry, other) in merged.inputs.iter_mut().zip(&part.inputs) {
            entry.add(other);
        }
    }
    merged.skipped.sort_by_key(|s| (s.file_index, s.offset));
    merged.write_file(&dir.join(MANIFEST_FILE))?;
    Ok(merged)
}
