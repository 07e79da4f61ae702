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
//! again (an interrupted upload is simply redone).

use super::{BuildOptions, BuildSummary, Planned};
use crate::error::Result;
use crate::input::remote;
use crate::output::layout::TOKENIZER_FILE;

/// Builds `opts` into its staging directory and uploads the result to `opts.out`.
pub(super) fn build_to_store(opts: &BuildOptions, plan: Option<&Planned>) -> Result<BuildSummary> {
    let staging = remote::staging_dir(&opts.out);
    let mut local = opts.clone();
    local.out = staging.clone();
    let mut summary = super::build_planned(&local, plan)?;
    let manifest_name = summary
        .manifest_path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let manifest_to = remote::child(&opts.out, &manifest_name);
    let local_manifest = std::fs::read(&summary.manifest_path)
        .map_err(|e| crate::error::Error::io(&summary.manifest_path, e))?;
    let published = remote::size(&manifest_to)? == Some(local_manifest.len() as u64)
        && remote::fetch(&manifest_to)? == local_manifest;
    if !published {
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
