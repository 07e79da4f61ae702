//! `bertprep sentences`: documents in, one sentence per line out.
//!
//! This module owns the sentence-listing command's logic (the binary only parses flags). It
//! reads inputs exactly as `build` does — files and directories through [`input::discover`]
//! and the streaming [`UnitReader`] with the same [`Format`] choice and the same bound on a
//! line — or, for `-`, the whole of standard input (decompressed, held to the same line bound
//! and decoded like a file; with `Format::Auto` the format is detected from the content). Each document is split by [`segment::split_into`] and written as
//!
//! ```text
//! first sentence of document 1
//! second sentence of document 1
//!
//! first sentence of document 2
//! ```
//!
//! one sentence per line, a blank line between documents: the input format of Google's
//! `create_pretraining_data.py`, and of `bertprep build --presplit --format text`.
//!
//! Invariants: a written sentence is never empty and never contains a line break (the splitter
//! treats `\n`, `\r`, U+2028 and U+2029 as boundaries and trims every sentence), so reading the
//! output back line by line gives exactly the sentences. Documents with no sentence are skipped.
//! Write errors (a closed pipe included) are returned as [`Error::Io`] on `<stdout>`-like
//! names given by the caller; a binary can recognise `BrokenPipe` and stop quietly.

use std::io::{Read, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};

use crate::config::OnError;
use crate::error::{Error, Result};
use crate::input::formats::Piece;
use crate::input::parquet::DEFAULT_TEXT_COLUMN;
use crate::input::units::{self, UnitReader, UNIT_TARGET_BYTES};
use crate::input::{self, decode, dump, formats, Format};
use crate::segment;

/// The name standard input goes by in error messages.
pub const STDIN_NAME: &str = "<stdin>";

/// How inputs are read: the input flags `build`, `sentences` and `vocab` share, with `build`'s
/// defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadSettings {
    /// The input format (`Auto`: recognised per file).
    pub format: Format,
    /// Namespaces of a MediaWiki dump whose pages are read.
    pub namespaces: Vec<i32>,
    /// The column of a Parquet input that holds the text.
    pub text_column: String,
    /// Each input line is one sentence already (not split).
    pub presplit: bool,
    /// A bad input file (or piece of one): stop with its error, or skip it with a warning.
    pub on_error: OnError,
}

impl Default for ReadSettings {
    fn default() -> Self {
        ReadSettings {
            format: Format::Auto,
            namespaces: dump::DEFAULT_NAMESPACES.to_vec(),
            text_column: DEFAULT_TEXT_COLUMN.to_string(),
            presplit: false,
            on_error: OnError::Stop,
        }
    }
}

/// Where one input comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The whole of standard input.
    Stdin,
    /// A file or a directory tree.
    Path(PathBuf),
}

impl Source {
    /// `-` is standard input, anything else a path.
    pub fn from_arg(arg: PathBuf) -> Source {
        if arg.as_os_str() == "-" {
            Source::Stdin
        } else {
            Source::Path(arg)
        }
    }
}

/// What was written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Input files read (standard input counts as one).
    pub files: u64,
    /// Documents written (documents without a sentence are not counted).
    pub documents: u64,
    /// Sentences written.
    pub sentences: u64,
    /// Inputs (or pieces of one) left out under [`OnError::Skip`], each `where: why`.
    pub skipped: Vec<String>,
}

/// Writes documents as sentence lines, a blank line between documents.
pub struct SentenceWriter<W: Write> {
    out: W,
    name: PathBuf,
    ranges: Vec<Range<usize>>,
    summary: Summary,
    settings: ReadSettings,
}

impl<W: Write> SentenceWriter<W> {
    /// Writes to `out`; `name` (such as `<stdout>`) names it in write errors. Inputs are read
    /// with [`ReadSettings::default`].
    pub fn new(out: W, name: impl Into<PathBuf>) -> Self {
        SentenceWriter {
            out,
            name: name.into(),
            ranges: Vec::new(),
            summary: Summary::default(),
            settings: ReadSettings::default(),
        }
    }

    /// Reads inputs with `settings`.
    pub fn reading(mut self, settings: &ReadSettings) -> Self {
        self.settings = settings.clone();
        self
    }

    /// Reads the pages of these namespaces of a MediaWiki dump (default: articles).
    pub fn with_namespaces(mut self, namespaces: &[i32]) -> Self {
        self.settings.namespaces = namespaces.to_vec();
        self
    }

    /// Splits `text` (or, presplit, takes its non-blank lines) and writes its sentences;
    /// nothing at all when it has none.
    pub fn write_document(&mut self, text: &str) -> Result<()> {
        if self.settings.presplit {
            self.ranges.clear();
            for line in text.lines().filter(|l| !l.trim().is_empty()) {
                let start = line.as_ptr() as usize - text.as_ptr() as usize;
                self.ranges.push(start..start + line.len());
            }
        } else {
            segment::split_into(text, &mut self.ranges);
        }
        if self.ranges.is_empty() {
            return Ok(());
        }
        let result = (|| {
            if self.summary.documents > 0 {
                self.out.write_all(b"\n")?;
            }
            for r in &self.ranges {
                self.out.write_all(text[r.clone()].as_bytes())?;
                self.out.write_all(b"\n")?;
            }
            Ok(())
        })();
        result.map_err(|e| Error::io(&self.name, e))?;
        self.summary.documents += 1;
        self.summary.sentences += self.ranges.len() as u64;
        Ok(())
    }

    /// Reads one source (every file under a directory, in `build`'s order) and writes all its
    /// documents. `stdin` is read only for [`Source::Stdin`]. A bad input is an error, or
    /// under [`OnError::Skip`] left out and recorded in the summary; a write error always ends
    /// the writing.
    pub fn write_source(&mut self, source: &Source, stdin: &mut dyn Read) -> Result<()> {
        match source {
            Source::Stdin => {
                let name = Path::new(STDIN_NAME);
                self.summary.files += 1;
                match self.read_stdin(name, stdin) {
                    Ok(documents) => self.write_documents(&documents)?,
                    Err(e) => self.skip_or_fail(name, e)?,
                }
            }
            Source::Path(path) => {
                let files = input::discover(std::slice::from_ref(path))?;
                self.summary.files += files.len() as u64;
                let mut reader =
                    UnitReader::with_target(files, self.settings.format, UNIT_TARGET_BYTES)
                        .with_text_column(&self.settings.text_column);
                loop {
                    let mut unit = match reader.next_unit() {
                        Ok(Some(unit)) => unit,
                        Ok(None) => break,
                        Err(e) => match reader.take_failure() {
                            // The reader gave up on a file (or piece): the rest goes on.
                            Some(failure) => {
                                self.skip_or_fail(&failure.path, e)?;
                                continue;
                            }
                            None => return Err(e),
                        },
                    };
                    match self.parse_unit(&mut unit) {
                        Ok(documents) => self.write_documents(&documents)?,
                        Err(e) => self.skip_or_fail(&unit.path, e)?,
                    }
                }
            }
        }
        Ok(())
    }

    /// The documents of all of standard input.
    fn read_stdin(&self, name: &Path, stdin: &mut dyn Read) -> Result<Vec<input::Document>> {
        let mut raw = Vec::new();
        stdin
            .read_to_end(&mut raw)
            .map_err(|e| Error::io(name, e))?;
        let (bytes, _) = decode::decompress(name, raw)?;
        units::check_line_lengths(name, &bytes)?;
        let text = decode::to_text(name, bytes)?;
        let format = match self.settings.format {
            Format::Auto => formats::detect(name, &text),
            other => other,
        };
        let piece = Piece {
            namespaces: &self.settings.namespaces,
            ..Piece::default()
        };
        Ok(formats::parse_piece(name, &text, format, &piece)?.documents)
    }

    /// The documents of one unit (whose bytes it takes).
    fn parse_unit(&self, unit: &mut units::Unit) -> Result<Vec<input::Document>> {
        let bytes = std::mem::take(&mut unit.bytes);
        let text = decode::to_text_at(&unit.path, bytes, unit.byte_offset)?;
        let piece = Piece {
            first_doc: unit.first_doc,
            first_line: unit.first_line,
            byte_offset: unit.byte_offset,
            site: unit.site.as_deref(),
            namespaces: &self.settings.namespaces,
        };
        Ok(formats::parse_piece(&unit.path, &text, unit.format, &piece)?.documents)
    }

    fn write_documents(&mut self, documents: &[input::Document]) -> Result<()> {
        for doc in documents {
            self.write_document(&doc.text)?;
        }
        Ok(())
    }

    /// A reading error: the end under [`OnError::Stop`], a recorded skip under `Skip`.
    fn skip_or_fail(&mut self, path: &Path, e: Error) -> Result<()> {
        match self.settings.on_error {
            OnError::Stop => Err(e),
            OnError::Skip => {
                let why = crate::error::one_line(&e);
                self.summary
                    .skipped
                    .push(format!("{}: {why}", path.display()));
                Ok(())
            }
        }
    }

    /// Flushes the output and returns what was written.
    pub fn finish(mut self) -> Result<Summary> {
        self.out.flush().map_err(|e| Error::io(&self.name, e))?;
        Ok(self.summary)
    }
}

/// Writes the sentences of every source, in order, to `out`; no sources means standard input.
pub fn write_sentences(
    sources: &[Source],
    settings: &ReadSettings,
    stdin: &mut dyn Read,
    out: impl Write,
    out_name: &str,
) -> Result<Summary> {
    let mut writer = SentenceWriter::new(out, out_name).reading(settings);
    if sources.is_empty() {
        writer.write_source(&Source::Stdin, stdin)?;
    }
    for source in sources {
        writer.write_source(source, stdin)?;
    }
    writer.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(sources: &[Source], format: Format, stdin: &str) -> (String, Summary) {
        let mut out = Vec::new();
        let settings = ReadSettings {
            format,
            ..ReadSettings::default()
        };
        let summary =
            write_sentences(sources, &settings, &mut stdin.as_bytes(), &mut out, "<out>").unwrap();
        (String::from_utf8(out).unwrap(), summary)
    }

    #[test]
    fn one_sentence_per_line_blank_line_between_documents() {
        let text = "Dr. Smith left. He came back.\nA new paragraph.\n\n\n\nSecond doc! Yes.\n";
        let (out, summary) = run(&[], Format::Text, text);
        assert_eq!(
            out,
            "Dr. Smith left.\nHe came back.\nA new paragraph.\n\nSecond doc!\nYes.\n"
        );
        assert_eq!(
            summary,
            Summary {
                files: 1,
                documents: 2,
                sentences: 5,
                skipped: Vec::new(),
            }
        );
    }

    #[test]
    fn stdin_format_is_detected_from_content() {
        let wiki = "<doc id=\"1\" url=\"u\" title=\"T\">\nT\nOne. Two.\n</doc>\n";
        let (out, _) = run(&[Source::Stdin], Format::Auto, wiki);
        assert_eq!(out, "One.\nTwo.\n");
        let jsonl = "{\"text\": \"Ab cd. Ef gh.\"}\n{\"text\": \"Ij.\"}\n";
        let (out, _) = run(&[], Format::Auto, jsonl);
        assert_eq!(out, "Ab cd.\nEf gh.\n\nIj.\n");
    }

    #[test]
    fn line_breaks_never_survive_inside_a_sentence() {
        let jsonl = "{\"text\": \"One\\rtwo\\u2028three\\u2029four. Five\\r\\nsix\"}\n";
        let (out, summary) = run(&[], Format::Jsonl, jsonl);
        assert_eq!(out, "One\ntwo\nthree\nfour.\nFive\nsix\n");
        assert_eq!(summary.sentences, 6);
    }

    #[test]
    fn bad_input_names_stdin() {
        let mut out = Vec::new();
        let err = write_sentences(
            &[],
            &ReadSettings::default(),
            &mut &b"ok\xff"[..],
            &mut out,
            "<out>",
        )
        .unwrap_err();
        assert!(err.to_string().contains(STDIN_NAME), "{err}");
        assert!(out.is_empty());
    }

    #[test]
    fn write_errors_name_the_output() {
        struct Closed;
        impl Write for Closed {
            fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
                Err(std::io::ErrorKind::BrokenPipe.into())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let text = ReadSettings {
            format: Format::Text,
            ..ReadSettings::default()
        };
        let err = write_sentences(&[], &text, &mut &b"A. B."[..], Closed, "<out>").unwrap_err();
        match err {
            Error::Io { path, source } => {
                assert_eq!(path, Path::new("<out>"));
                assert_eq!(source.kind(), std::io::ErrorKind::BrokenPipe);
            }
            other => panic!("{other}"),
        }
    }

    #[test]
    fn presplit_lines_are_sentences_as_they_are() {
        let settings = ReadSettings {
            format: Format::Text,
            presplit: true,
            ..ReadSettings::default()
        };
        let mut out = Vec::new();
        let text = "Dr. Smith left. He came back.\nOne more line\n\n\nSecond doc.\n";
        let summary =
            write_sentences(&[], &settings, &mut text.as_bytes(), &mut out, "<out>").unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "Dr. Smith left. He came back.\nOne more line\n\nSecond doc.\n"
        );
        assert_eq!((summary.documents, summary.sentences), (2, 3));
    }

    #[test]
    fn a_bad_input_is_skipped_and_recorded_or_stops() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.txt"), "Good one. Two.\n").unwrap();
        std::fs::write(dir.path().join("b.txt"), b"bad \xff\xfe bytes\n").unwrap();
        std::fs::write(dir.path().join("c.txt"), "Also good.\n").unwrap();
        let sources = [Source::Path(dir.path().to_path_buf())];
        let mut settings = ReadSettings {
            format: Format::Text,
            ..ReadSettings::default()
        };
        let err = write_sentences(&sources, &settings, &mut std::io::empty(), Vec::new(), "o");
        assert!(err.unwrap_err().to_string().contains("b.txt"));
        settings.on_error = OnError::Skip;
        let mut out = Vec::new();
        let summary =
            write_sentences(&sources, &settings, &mut std::io::empty(), &mut out, "o").unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "Good one.\nTwo.\n\nAlso good.\n"
        );
        assert_eq!(summary.skipped.len(), 1, "{:?}", summary.skipped);
        assert!(
            summary.skipped[0].contains("b.txt"),
            "{:?}",
            summary.skipped
        );
    }
}
