//! Decoding and parsing of one whole input: any bytes give documents or an error, never a
//! panic; parsed documents keep their indices in order.
#![no_main]

use std::path::Path;

use bertprep::input::{decode, formats, Format};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = Path::new("fuzz.txt");
    let Ok(text) = decode::to_text(path, data.to_vec()) else {
        return;
    };
    let detected = formats::detect(path, &text);
    for format in [detected, Format::Wiki, Format::Jsonl, Format::Text] {
        if let Ok(parsed) = formats::parse(path, &text, format) {
            let indices: Vec<u32> = parsed.documents.iter().map(|d| d.index).collect();
            assert!(indices.windows(2).all(|w| w[0] < w[1]), "{indices:?}");
            assert!(parsed.documents.iter().all(|d| !d.text.trim().is_empty()));
        }
    }
});
