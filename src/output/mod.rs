//! The output directory of a build.
//!
//! - [`layout`] — the name of every file a build, a task or `finalize` writes, and which
//!   tasks a `--worker` runs.
//! - [`atomic`] — files replaced through a temporary name and a rename.
//! - [`manifest`] — `manifest.json`: what was built from what, with every shard's checksum.
//! - [`merge`] — `finalize`: the parts of a `--tasks` build joined into one manifest.

pub mod atomic;
pub mod layout;
pub mod manifest;
pub mod merge;

pub use layout::{Task, Worker};
pub use manifest::Manifest;
