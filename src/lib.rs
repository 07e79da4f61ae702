//! bertprep: BERT pre-training data (masked LM + next sentence prediction) from raw text.
//!
//! The folders read as the flow of a build:
//! 1. [`input`] — find input files, decompress, decode, cut into documents and work units.
//! 2. [`segment`] — split a document into sentences.
//! 3. [`tokenize`] — sentences to WordPiece ids (Hugging Face `tokenizers`, or the exact and
//!    faster [`tokenize::wordpiece`] for BERT-style tokenizers).
//! 4. [`instances`] — sentence pairs for next-sentence prediction, then masked-LM predictions
//!    (80% [MASK] / 10% random / 10% unchanged), per work unit.
//! 5. [`shard`] — the shard contract: schema, metadata, the one padding function, the writer,
//!    the one streaming reader and the one row-invariant checker.
//! 6. [`build`] — runs the stages over work units on a thread pool, spills instances to shuffle
//!    buckets, writes the shards, checkpoints so a killed build resumes; the only module with
//!    concurrency.
//! 7. [`output`] — the output directory: the name of every file in it, the manifest, merging
//!    the parts of `--tasks` builds.
//!
//! Beside the flow: [`config::BuildConfig`] holds every setting that changes the output;
//! [`rng`] is the only source of randomness; [`inspect`] reads shards back (statistics,
//! decoded rows, `--check`); [`sentences`] is the splitter as a command; [`extract`] writes a
//! MediaWiki dump's articles as WikiExtractor files.

pub mod build;
pub mod config;
pub mod error;
pub mod export;
pub mod extract;
pub mod input;
pub mod inspect;
pub mod instances;
pub mod output;
pub mod rng;
pub mod segment;
pub mod sentences;
pub mod shard;
pub mod tokenize;
pub mod vocab;

pub use config::BuildConfig;
pub use error::{Error, Result};
