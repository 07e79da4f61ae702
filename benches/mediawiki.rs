//! Criterion benchmarks of the MediaWiki stages on the enwiki sample: wikitext cleaning (bytes
//! of wikitext per second, every page's text cleaned in turn) and page reading (bytes of XML per
//! second).

use std::io::Read;

use bertprep::input::mediawiki as mw;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

const SAMPLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/corpora/mediawiki/enwiki-sample.xml.bz2"
);

fn sample_xml() -> String {
    let file = std::fs::File::open(SAMPLE).expect("enwiki sample");
    let mut xml = String::new();
    bzip2::read::MultiBzDecoder::new(file)
        .read_to_string(&mut xml)
        .expect("decompress the enwiki sample");
    xml
}

fn bench(c: &mut Criterion) {
    let xml = sample_xml();
    let (header, body) = mw::split_header(&xml).expect("header");
    let site = mw::SiteInfo::parse(header).expect("siteinfo");
    let pages = mw::parse_pages(body).expect("pages");
    let wikitext_bytes: usize = pages.iter().map(|p| p.text.len()).sum();

    let mut group = c.benchmark_group("mediawiki");
    group.throughput(Throughput::Bytes(wikitext_bytes as u64));
    group.bench_function("clean", |b| {
        let mut out = String::with_capacity(wikitext_bytes);
        b.iter(|| {
            out.clear();
            for page in &pages {
                mw::clean(&page.text, &site, &mut out);
            }
            out.len()
        })
    });
    group.throughput(Throughput::Bytes(body.len() as u64));
    group.bench_function("parse_pages", |b| {
        b.iter(|| mw::parse_pages(body).expect("pages").len())
    });
    group.bench_function("parse_and_clean", |b| {
        let mut out = String::new();
        b.iter(|| {
            out.clear();
            for page in mw::parse_pages(body).expect("pages") {
                if page.ns == 0 && !page.redirect {
                    mw::clean(&page.text, &site, &mut out);
                }
            }
            out.len()
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
