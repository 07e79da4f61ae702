//! `bertprep finalize DIR [--rebalance R]`: a `--tasks` build made whole.
//!
//! Checks that every task is complete and from the same build and holds every shard to its
//! recorded size and SHA-256 ([`crate::output::merge`]), then writes `manifest.json` — or, with
//! `--rebalance R`, first rewrites the shards into shards of exactly `R` rows drawn evenly from
//! every task ([`super::rebalance`]). A directory already rebalanced is left as it is.
//!
//! In object storage (`s3://...`), the parts are fetched, every shard is held to its size and
//! SHA-256 by reading it from the store, and `manifest.json` is uploaded; `--rebalance` needs a
//! directory.

use std::path::Path;

use super::rebalance;
use crate::error::{Error, Result};
use crate::input::remote;
use crate::output::layout::{self, MANIFEST_FILE};
use crate::output::manifest::Manifest;
use crate::output::merge;

/// Finalizes the `--tasks` build in `dir`; `rebalance` rewrites it into shards of that many rows.
pub fn finalize(dir: &Path, rebalance: Option<u64>) -> Result<Manifest> {
    if remote::is_remote(dir) {
        if rebalance.is_some() {
            return Err(Error::Config(
                "--rebalance rewrites shards in a directory: finalize the build there, or \
                 without --rebalance in object storage"
                    .into(),
            ));
        }
        return finalize_in_store(dir);
    }
    if let Ok(done) = Manifest::read(dir) {
        if done.rebalanced_rows.is_some()
            && (rebalance.is_none() || rebalance == done.rebalanced_rows)
        {
            return Ok(done);
        }
    }
    let merged = merge::joined(dir)?;
    match rebalance {
        None => {
            merged.write_file(&dir.join(MANIFEST_FILE))?;
            Ok(merged)
        }
        Some(rows) => rebalance::rebalance(dir, merged, rows),
    }
}

/// [`finalize`] of a build in object storage at `url`.
fn finalize_in_store(url: &Path) -> Result<Manifest> {
    let local = remote::staging_dir(url).join("finalize");
    if local.exists() {
        std::fs::remove_dir_all(&local).map_err(|e| Error::io(&local, e))?;
    }
    std::fs::create_dir_all(&local).map_err(|e| Error::io(&local, e))?;
    for (name, _) in remote::list_names(url)? {
        if layout::part_index(&name).is_some() {
            let bytes = remote::fetch(&remote::child(url, &name))?;
            let to = local.join(&name);
            std::fs::write(&to, bytes).map_err(|e| Error::io(&to, e))?;
        }
    }
    let merged = merge::joined_with(&local, &|shard| {
        let at = remote::child(url, &shard.file);
        let size = remote::size(&at)?;
        if size != Some(shard.bytes) {
            return Err(Error::output(
                &at,
                format!(
                    "{size:?} bytes in the store, the manifest says {}",
                    shard.bytes
                ),
            ));
        }
        let sha256 = remote::sha256(&at)?;
        if sha256 != shard.sha256 {
            return Err(Error::output(
                &at,
                format!(
                    "SHA-256 {sha256} differs from the manifest's {}",
                    shard.sha256
                ),
            ));
        }
        Ok(())
    })?;
    let path = local.join(MANIFEST_FILE);
    merged.write_file(&path)?;
    remote::upload(&path, &remote::child(url, MANIFEST_FILE))?;
    let _ = std::fs::remove_dir_all(&local);
    Ok(merged)
}
