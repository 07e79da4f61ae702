//! bertprep: BERT pre-training data (masked LM + next sentence prediction) from raw text.
//!
//! The pipeline, one module per stage:
//! 1. [`input`] — find input files, decompress, decode, cut into documents.
//! 2. [`segment`] — split a document into sentences.
//! 3. [`tokenize`] — sentences to WordPiece ids (Hugging Face `tokenizers`, or the exact and
//!    faster [`wordpiece`] for BERT-style tokenizers).
//! 4. [`pairs`] — sentence pairs for next-sentence prediction, truncated to fit.
//! 5. [`masking`] — masked-LM predictions (80% [MASK] / 10% random / 10% unchanged).
//! 6. [`shard`] — padded rows in zstd Parquet shards, plus [`manifest`].
//!
//! [`pipeline`] runs the stages over work units ([`input::units`]) on a thread pool, spills the
//! instances to shuffle buckets ([`spill`]) and writes the shards; it is the only module with
//! concurrency, and it checkpoints into [`state`] so a killed build resumes. [`merge`] joins the
//! manifests of `--worker i/N` builds; [`memory`] tunes the allocator for the build and
//! [`limits`] the open-file limit. [`rng`] is the only source of randomness.
//! [`config::BuildConfig`] holds every setting that changes the output.
//!
//! [`inspect`] reads shards back: statistics, decoded rows and `--check` of every invariant.
//! [`sentences`] is the splitter as a command (`bertprep sentences`): documents in, one
//! sentence per line out.

pub mod config;
pub mod error;
pub mod input;
pub mod inspect;
pub mod instance;
pub mod limits;
pub mod manifest;
pub mod masking;
pub mod memory;
pub mod merge;
pub mod pairs;
pub mod pipeline;
pub mod progress;
pub mod rng;
pub mod segment;
pub mod sentences;
pub mod shard;
pub mod spill;
pub mod state;
pub mod tokenize;
pub mod train;
pub mod wordpiece;

pub use config::BuildConfig;
pub use error::{Error, Result};
