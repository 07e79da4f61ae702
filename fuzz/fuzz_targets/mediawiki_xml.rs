//! The dump readers on any bytes: the header parser and the page reader never panic; a page
//! read back has a namespace and an id, and reading stops after an error.
#![no_main]

use bertprep::input::mediawiki::{PageReader, SiteInfo};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let xml = String::from_utf8_lossy(data);
    let site = SiteInfo::parse(&xml).unwrap_or_else(|_| SiteInfo::default_english());
    let mut failed = false;
    for page in PageReader::new(&xml).with_site(&site) {
        assert!(!failed, "a page after an error");
        failed = page.is_err();
    }
});
