//! The work of one unit, run as a pool task: decode, parse, split sentences, tokenize, pair,
//! mask, then draw a spill bucket for every instance and encode its record. Pure functions of
//! the unit and the build's settings; `--on-error skip` turns a failed unit into a
//! [`Skipped`] entry.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::config::BuildConfig;
use crate::error::{Error, Result};
use crate::input::{self, decode, formats, markup, Format, Unit};
use crate::instances::{self, Counters, InstanceSettings, TokenizedDocument};
use crate::output::manifest::{InputEntry, Skipped};
use crate::rng::{Purpose, UnitRng};
use crate::segment;
use crate::tokenize::Tokenizer;

/// One unit's result.
pub(super) struct UnitOutput {
    /// The unit, or `None` for a file the reader gave up on (no unit was made).
    pub(super) unit: Option<u64>,
    /// What `--on-error skip` left out instead of failing.
    pub(super) skipped: Option<Skipped>,
    pub(super) file_index: u32,
    pub(super) entry: InputEntry,
    pub(super) counters: Counters,
    /// The unit's instances as spill records, one byte string per bucket.
    pub(super) spill: Vec<Vec<u8>>,
}

/// Shared, read-only state of the per-unit stages.
pub(super) struct UnitContext<'a> {
    pub(super) config: &'a BuildConfig,
    pub(super) tokenizer: &'a Tokenizer,
    pub(super) settings: InstanceSettings<'a>,
    pub(super) buckets: usize,
    /// Set once the reader has made its last unit: the units still running are the last ones,
    /// and threads without a unit may help tokenize theirs.
    pub(super) input_read: AtomicBool,
}

impl UnitOutput {
    /// The output of a skipped unit (or of a file the reader gave up on).
    pub(super) fn skipped(unit: Option<u64>, skipped: Skipped) -> Self {
        UnitOutput {
            unit,
            file_index: skipped.file_index,
            entry: InputEntry::new(skipped.path.clone(), 0),
            skipped: Some(skipped),
            counters: Counters::default(),
            spill: Vec::new(),
        }
    }
}

/// [`process_unit`], with `--on-error skip` turning a failed unit into a [`Skipped`] entry.
pub(super) fn run_unit(unit: Unit, ctx: &UnitContext<'_>, skip: bool) -> Result<UnitOutput> {
    let (index, file_index, offset, bytes) = (
        unit.index,
        unit.file_index,
        unit.byte_offset,
        unit.bytes.len() as u64,
    );
    let path = skip.then(|| unit.path.display().to_string());
    match (process_unit(unit, ctx), path) {
        (Err(e), Some(path)) => {
            let skipped = Skipped {
                path,
                file_index,
                offset,
                bytes: Some(bytes),
                reason: e.to_string(),
            };
            Ok(UnitOutput::skipped(Some(index), skipped))
        }
        (output, _) => output,
    }
}

/// Turns one unit into instances, draws their buckets and encodes them as spill records.
fn process_unit(unit: Unit, ctx: &UnitContext<'_>) -> Result<UnitOutput> {
    let Unit {
        index,
        file_index,
        piece: piece_index,
        path,
        format,
        compression,
        first_doc,
        first_line,
        byte_offset,
        bytes,
        site,
        ..
    } = unit;
    let text = decode::to_text_at(&path, bytes, byte_offset)?;
    let piece = formats::Piece {
        first_doc,
        first_line,
        byte_offset,
        site: site.as_deref(),
        namespaces: &ctx.config.namespaces,
    };
    let parsed = formats::parse_piece(&path, &text, format, &piece)?;
    let looks_like = match format {
        Format::Text => markup::looks_like(&text).map(str::to_string),
        _ => None,
    };
    let mut counters = Counters {
        text_bytes: text.len() as u64,
        documents: parsed.documents.len() as u64,
        empty_documents: parsed.empty_documents,
        unclosed_documents: parsed.unclosed_documents,
        pages: parsed.pages,
        ..Counters::default()
    };
    drop(text);
    let docs = tokenize_documents(
        &path,
        instances::source_id(file_index, piece_index, 0),
        &parsed.documents,
        ctx.config.presplit,
        ctx.tokenizer,
        ctx.input_read.load(Ordering::Relaxed),
        &mut counters,
    )?;
    drop(parsed.documents);
    let instances = instances::create_instances(&docs, index, &ctx.settings, &mut counters);
    let mut rng = UnitRng::new(ctx.config.seed, Purpose::Bucket, index, 0);
    let buckets: Vec<u32> = instances
        .iter()
        .map(|_| rng.index(ctx.buckets) as u32)
        .collect();
    let spill = super::spill::encode_by_bucket(
        &instances,
        &buckets,
        ctx.buckets,
        ctx.tokenizer.vocab_size(),
    );
    let entry = InputEntry {
        path: path.display().to_string(),
        bytes: 0,
        text_bytes: counters.text_bytes,
        format,
        compression,
        documents: counters.documents,
        empty_documents: counters.empty_documents,
        instances: instances.len() as u64,
        looks_like,
    };
    Ok(UnitOutput {
        unit: Some(index),
        skipped: None,
        file_index,
        entry,
        counters,
        spill,
    })
}

/// Documents per task when a unit's documents are tokenized in parallel.
const DOCUMENTS_PER_TASK: usize = 16;

/// Splits each document into sentences and tokenizes them (a document's `source` is
/// `source_base | its index`); drops token-less sentences and
/// documents. With `parallel`, runs on the current rayon pool in tasks of
/// [`DOCUMENTS_PER_TASK`] documents, so that idle threads can take part of the work (the
/// build asks for it for the last units only: rayon's idle threads steal split work before
/// queued tasks, which would interleave units that are better run whole). Either way the
/// result is in document order, and an error is the first in that order.
pub fn tokenize_documents(
    path: &Path,
    source_base: u64,
    documents: &[input::Document],
    presplit: bool,
    tokenizer: &Tokenizer,
    parallel: bool,
    counters: &mut Counters,
) -> Result<Vec<TokenizedDocument>> {
    use rayon::prelude::*;
    let task = |chunk| tokenize_chunk(path, source_base, chunk, presplit, tokenizer);
    let parts: Vec<Result<(Vec<TokenizedDocument>, Counters)>> = if parallel {
        documents.par_chunks(DOCUMENTS_PER_TASK).map(task).collect()
    } else {
        documents.chunks(DOCUMENTS_PER_TASK).map(task).collect()
    };
    let mut out = Vec::with_capacity(documents.len());
    for part in parts {
        let (docs, part_counters) = part?;
        out.extend(docs);
        counters.tokenless_documents += part_counters.tokenless_documents;
        counters.sentences += part_counters.sentences;
    }
    Ok(out)
}

/// [`tokenize_documents`] for one task's documents, counting token-less documents and
/// sentences.
fn tokenize_chunk(
    path: &Path,
    source_base: u64,
    documents: &[input::Document],
    presplit: bool,
    tokenizer: &Tokenizer,
) -> Result<(Vec<TokenizedDocument>, Counters)> {
    let mut counters = Counters::default();
    let mut out = Vec::with_capacity(documents.len());
    let mut ranges = Vec::new();
    for doc in documents {
        let mut sentences = Vec::new();
        let mut push = |text: &str| -> Result<()> {
            // A byte-level BPE reads the space before a word as part of it: sentences after
            // a document's first get the space they had in the text.
            let spaced;
            let text = if !sentences.is_empty() && tokenizer.spaces_sentences() {
                spaced = format!(" {text}");
                spaced.as_str()
            } else {
                text
            };
            let ids = tokenizer.encode(text).map_err(|e| Error::Tokenizer {
                origin: path.display().to_string(),
                message: e.to_string(),
            })?;
            if !ids.is_empty() {
                sentences.push(ids);
            }
            Ok(())
        };
        if presplit {
            for line in doc.text.lines().filter(|l| !l.trim().is_empty()) {
                push(line)?;
            }
        } else {
            segment::split_into(&doc.text, &mut ranges);
            for r in &ranges {
                push(&doc.text[r.clone()])?;
            }
        }
        if sentences.is_empty() {
            counters.tokenless_documents += 1;
            continue;
        }
        counters.sentences += sentences.len() as u64;
        out.push(TokenizedDocument {
            source: source_base | u64::from(doc.index),
            sentences,
        });
    }
    Ok((out, counters))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parallel_tokenizing_gives_the_sequential_result() {
        let tokenizer = Tokenizer::embedded().unwrap();
        let documents: Vec<input::Document> = (0..100u32)
            .map(|index| input::Document {
                index,
                text: match index % 7 {
                    0 => String::new(),
                    1 => "   \n\n".into(),
                    _ => format!("Document {index} opens here. It has a second sentence.\nAnd a paragraph {}.", index * 3),
                },
            })
            .collect();
        let run = |parallel| {
            let mut counters = Counters::default();
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(3)
                .build()
                .unwrap();
            let docs = pool
                .install(|| {
                    tokenize_documents(
                        Path::new("docs.txt"),
                        instances::source_id(5, 1, 0),
                        &documents,
                        false,
                        &tokenizer,
                        parallel,
                        &mut counters,
                    )
                })
                .unwrap();
            (docs, counters.sentences, counters.tokenless_documents)
        };
        let (docs, sentences, tokenless) = run(true);
        assert_eq!(docs.len(), 70);
        assert_eq!((sentences, tokenless), (70 * 3, 30));
        assert_eq!(docs[0].source, instances::source_id(5, 1, 2));
        assert_eq!(run(false), (docs, sentences, tokenless));
    }
}
