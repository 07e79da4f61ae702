//! `bertprep finalize DIR [--rebalance R]`: a `--tasks` build made whole.
//!
//! Checks that every task is complete and from the same build and holds every shard to its
//! recorded size and SHA-256 ([`crate::output::merge`]), then writes `manifest.json` — or, with
//! `--rebalance R`, first rewrites the shards into shards of exactly `R` rows drawn evenly from
//! every task ([`super::rebalance`]). A directory already rebalanced is left as it is.

use std::path::Path;

use super::rebalance;
use crate::error::Result;
use crate::output::manifest::Manifest;
use crate::output::merge;

/// Finalizes the `--tasks` build in `dir`; `rebalance` rewrites it into shards of that many rows.
pub fn finalize(dir: &Path, rebalance: Option<u64>) -> Result<Manifest> {
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
            merged.write_file(&dir.join(crate::output::layout::MANIFEST_FILE))?;
            Ok(merged)
        }
        Some(rows) => rebalance::rebalance(dir, merged, rows),
    }
}
