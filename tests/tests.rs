//! Integration tests, one crate (a table of contents of the modules below).
//!
//! - `util` — helpers: run the real binary, temp dirs, row invariants.
//! - `build` — `bertprep build` end to end through the binary: fixtures, manifest, decode,
//!   determinism across threads, compression, errors.
//! - `corpora` — hostile input (fixtures/bad), `--on-error skip`, encodings, real corpora.
//! - `engine` — thread-count independence, the global shuffle, resume after SIGKILL, workers.
//! - `storage` — builds from and to object storage against local S3 and WebDAV servers.
//! - `servers` — those servers (moto, wsgidav), shared with the trainer's tests.
//! - `tasks` — `--tasks T` builds: the same bytes for any workers, each task reading its share,
//!   reruns doing what is left, claims taken over.
//! - `safety` — safety promises through the binary: concurrent workers, failed overwrites,
//!   files outside `--out` or not the tool's, edited manifests and state, bounded reads,
//!   thread counts, error wording.
//! - `mediawiki` — MediaWiki XML dumps: detection, pages, clean text, `extract`, compression,
//!   truncated and bad dumps.
//! - `properties` — property tests of every instance's invariants.
//! - `statistics` — masking and NSP rates on real Wikipedia text.
//! - `recipes` — sentence order (`--objective sop`) and SpanBERT spans on real Wikipedia text.
//! - `golden` — token ids equal `transformers`' `BertTokenizerFast`.
//! - `inspect` — `bertprep inspect` through the binary: report snapshots, `--check` on good and
//!   altered shards, errors.
//! - `export` — `bertprep export` to HDF5, TFRecord and MDS: every field read back, checksums,
//!   threads, resume, refusals, and the trainers' own readers.
//! - `exact` — the crate and a fast tokenizer side by side, on corpus lines.
//! - `fastwp` — the fast WordPiece gives the `tokenizers` crate's ids, on corpora and properties.
//! - `fastbpe` — the fast byte-level BPE gives the crate's ids, on corpora and properties.
//! - `schema` — the shard schema equals the checked-in `schemas/shard.schema.json`.
//! - `segment_cases` — the sentence splitter's edge cases, input → expected sentences.
//! - `segment_properties` — the splitter's invariants on arbitrary Unicode.
//! - `sentences` — `bertprep sentences` through the binary.
//! - `interop` — pyarrow opens the shards and agrees with them.
//! - `vocab` — `bertprep vocab`: reproducible vocabularies, used by `build`, equal to the Python
//!   `tokenizers` package's.

#[path = "suite/build.rs"]
mod build;
#[path = "suite/corpora.rs"]
mod corpora;
#[path = "suite/engine.rs"]
mod engine;
#[path = "suite/exact.rs"]
mod exact;
#[path = "suite/export.rs"]
mod export;
#[path = "suite/fastbpe.rs"]
mod fastbpe;
#[path = "suite/fastwp.rs"]
mod fastwp;
#[path = "suite/golden.rs"]
mod golden;
#[path = "suite/inspect.rs"]
mod inspect;
#[path = "suite/interop.rs"]
mod interop;
#[path = "suite/mediawiki.rs"]
mod mediawiki;
#[path = "suite/properties.rs"]
mod properties;
#[path = "suite/recipes.rs"]
mod recipes;
#[path = "suite/safety.rs"]
mod safety;
#[path = "suite/schema.rs"]
mod schema;
#[path = "suite/segment_cases.rs"]
mod segment_cases;
#[path = "suite/segment_properties.rs"]
mod segment_properties;
#[path = "suite/sentences.rs"]
mod sentences;
#[path = "suite/servers.rs"]
mod servers;
#[path = "suite/statistics.rs"]
mod statistics;
#[path = "suite/storage.rs"]
mod storage;
#[path = "suite/tasks.rs"]
mod tasks;
#[path = "suite/util.rs"]
mod util;
#[path = "suite/vocab.rs"]
mod vocab;
