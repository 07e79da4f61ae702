//! Streaming a file into work units: any bytes (compressed or not) give units or an error,
//! never a panic; the units of a file, joined, are its decompressed text, and parsing the units
//! gives the documents of the whole text.
#![no_main]

use std::path::Path;

use bertprep::input::{decode, formats, Format, InputFile, UnitReader};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&target, bytes)) = data.split_first() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("input");
    std::fs::write(&path, bytes).unwrap();
    let files = vec![InputFile {
        path: path.clone(),
        bytes: bytes.len() as u64,
    }];
    let mut reader = UnitReader::with_target(files, Format::Auto, usize::from(target) + 1);
    let mut joined = Vec::new();
    let mut documents = Vec::new();
    let mut format = None;
    loop {
        match reader.next_unit() {
            Ok(Some(unit)) => {
                joined.extend_from_slice(&unit.bytes);
                format = Some(unit.format);
                let Ok(text) = decode::to_text_at(&path, unit.bytes, unit.byte_offset) else {
                    return;
                };
                let Ok(parsed) =
                    formats::parse_at(&path, &text, unit.format, unit.first_doc, unit.first_line)
                else {
                    return;
                };
                documents.extend(parsed.documents);
            }
            Ok(None) => break,
            Err(_) => {
                assert!(reader.take_failure().is_some());
                return;
            }
        }
    }
    // Same documents as parsing the whole file at once.
    let (Some(format), Ok((whole, _))) = (format, decode::read_decompressed(&path)) else {
        return;
    };
    if format == Format::Parquet {
        return;
    }
    let whole_text = decode::to_text(Path::new("input"), whole.clone());
    if decode::utf16_bom(&whole).is_none() {
        assert_eq!(joined, whole);
    }
    if let Ok(text) = whole_text {
        if let Ok(parsed) = formats::parse(&path, &text, format) {
            assert_eq!(parsed.documents, documents);
        }
    }
});
