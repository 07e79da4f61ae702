//! The output directory of a build.
//!
//! - [`layout`] — the name of every file a build, a worker or a merge writes, and the
//!   `--worker` slice.
//! - [`atomic`] — files replaced through a temporary name and a rename.
//! - [`manifest`] — `manifest.json`: what was built from what, with every shard's checksum.
//! - [`merge`] — the parts of `--worker i/N` builds joined into one manifest.

pub mod atomic;
pub mod layout;
pub mod manifest;
pub mod merge;

pub use layout::Worker;
pub use manifest::Manifest;
