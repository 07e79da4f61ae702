//! Builds whose `--out` is in object storage (`s3://`, `gs://`, `az://`, or a WebDAV server at
//! `https://`).
//!
//! The build runs as any other in a local staging directory, the same one for every run with
//! that `--out` ([`remote::staging_dir`], under the system's temporary directory), so a killed
//! build resumes there. Its files are then uploaded: the shards and `tokenizer.json` as
//! multipart uploads, which the store makes visible only once complete (on WebDAV, put under a
//! hidden name and moved into place), then the manifest (or the task's part) last, so the
//! manifest's presence still means a complete build. A run that finds the store's manifest
//! equal to its own uploads nothing; otherwise every file is uploaded
//! again (an interrupted upload is simply redone). A run whose staging directory lacks the
//! manifest the store holds (another machine built it, or a container since gone) takes the
//! store's as its own: the same build is complete and nothing runs, another build is refused
//! without `--overwrite`. A killed build resumes from its staging directory where that survives,
//! and starts afresh elsewhere.

use std::path::Path;

use super::{BuildOptions, BuildSummary, Planned};
use crate::error::{Error, Result};
use crate::input::remote;
use crate::output::atomic;
use crate::output::layout::{self, TOKENIZER_FILE};

/// Builds `opts` into its staging directory and uploads the result to `opts.out`.
pub(super) fn build_to_store(opts: &BuildOptions, plan: Option<&Planned>) -> Result<BuildSummary> {
    let staging = remote::staging_dir(&opts.out);
    let mut local = opts.clone();
    local.out = staging.clone();
    let manifest_name = layout::manifest_name(opts.task);
    let manifest_to = remote::child(&opts.out, &manifest_name);
    let stored = match remote::size(&manifest_to)? {
        Some(_) => Some(remote::fetch(&manifest_to)?),
        None => None,
    };
    // The store's manifest stands in for a missing local one (the build, or this task, ran on
    // another machine or in a container since gone): the same build is then found complete and
    // not run again, and a different one refused as on disk, unless --overwrite.
    let local_manifest = staging.join(&manifest_name);
    if let (Some(bytes), false) = (&stored, opts.overwrite) {
        if std::fs::symlink_metadata(&local_manifest).is_err() {
            std::fs::create_dir_all(&staging).map_err(|e| Error::io(&staging, e))?;
            atomic::write_atomic(&local_manifest, bytes)?;
        }
    }
    let mut summary =
        super::build_planned(&local, plan).map_err(|e| named_as_store(e, &staging, &opts.out))?;
    let built =
        std::fs::read(&summary.manifest_path).map_err(|e| Error::io(&summary.manifest_path, e))?;
    if stored.as_deref() != Some(built.as_slice()) {
        let mut names: Vec<&str> = summary
            .manifest
            .shards
            .iter()
            .map(|s| s.file.as_str())
            .collect();
        names.push(TOKENIZER_FILE);
        for name in names {
            remote::upload(&staging.join(name), &remote::child(&opts.out, name))?;
        }
        remote::upload(&summary.manifest_path, &manifest_to)?;
        summary.already_complete = false;
    }
    summary.manifest_path = manifest_to;
    Ok(summary)
}

/// An error about the staging directory, told of the store location it stands for.
fn named_as_store(e: Error, staging: &Path, out: &Path) -> Error {
    match e {
        Error::Output { path, message } if path == staging => Error::Output {
            path: out.to_path_buf(),
            message,
        },
        e => e,
    }
}
