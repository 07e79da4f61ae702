//! Rates measured on real Wikipedia text: the NSP coin, the 80/10/10 split, short targets.

use bertprep::output::manifest::Manifest;
use bertprep::shard::read_shard;

use crate::util::*;

#[test]
fn masking_and_nsp_rates_on_wikipedia() {
    let Some(out) = build_shared_wiki(
        "enwiki-2019-small",
        &["--max-seq-len", "128", "--dupe-factor", "2"],
    ) else {
        return;
    };
    let manifest = Manifest::read(out.path()).unwrap();
    let (mut rows, mut random_next) = (0u64, 0u64);
    let (mut mask, mut kept, mut random, mut predictions) = (0u64, 0u64, 0u64, 0u64);
    for shard in &manifest.shards {
        for row in read_shard(&out.path().join(&shard.file)).unwrap().rows {
            rows += 1;
            random_next += row.next_sentence_label as u64;
            for (&id, &label) in row.input_ids.iter().zip(&row.labels) {
                if label < 0 {
                    continue;
                }
                predictions += 1;
                if id == 103 {
                    mask += 1;
                } else if id == label {
                    kept += 1;
                } else {
                    random += 1;
                }
            }
        }
    }
    assert!(rows >= 5_000, "only {rows} instances");
    let share = |n: u64, d: u64| n as f64 / d as f64;
    let nsp = share(random_next, rows);
    let (m, k, r) = (
        share(mask, predictions),
        share(kept, predictions),
        share(random, predictions),
    );
    let short = share(manifest.counters.short_target, manifest.counters.instances);
    eprintln!(
        "{rows} instances, {predictions} predictions: random-next {nsp:.4}, [MASK] {m:.4}, \
         kept {k:.4}, random {r:.4}, short target {short:.4}"
    );
    assert!((nsp - 0.5).abs() <= 0.02, "random-next share {nsp}");
    assert!((m - 0.8).abs() <= 0.015, "[MASK] share {m}");
    assert!((r - 0.1).abs() <= 0.01, "random share {r}");
    assert!((k - 0.1).abs() <= 0.01, "kept share {k}");
    assert!((short - 0.1).abs() <= 0.015, "short-target share {short}");
    assert_eq!(manifest.counters.no_other_document, 0);
}
