//! `bert-train` end to end through the binary: it learns on shards built from the fixtures,
//! a stopped and resumed run equals a straight one, shards in S3 (moto's local server) train
//! as they do from disk, checkpoints round-trip and open in `transformers`, and bad input is a
//! clear error.
//!
//! The shards use a small WordPiece vocabulary made from the fixtures (every character, every
//! `##` letter or digit, and the 1,000 most frequent words) so that the 30,522-wide decoder of
//! BERT's own vocabulary does not dominate the test's time. Training runs with `--threads 1`:
//! the results do not depend on it, and on a shared 2-core machine it is the fastest setting.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use bert_train::batch::{Batch, BatchTensors};
use bert_train::checkpoint::{self, read_safetensors};
use bert_train::data::ShardSet;
use bert_train::metrics::{self, MetricsLine};
use bert_train::model::BertForPreTraining;
use bert_train::plot;
use bertprep::config::{BuildConfig, Masking, Objective, Padding};
use bertprep::shard::RowView;
use bertprep::tokenize::TokenizerSource;
use candle_core::Device;

#[path = "../../../tests/suite/servers.rs"]
mod servers;
mod util;

use util::{build_shards, config_at, file_names, fixtures, root, workspace};

/// Runs `bert-train` with `args`.
fn bert_train<S: AsRef<str>>(args: &[S]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bert-train"))
        .args(args.iter().map(AsRef::as_ref))
        .output()
        .expect("run bert-train")
}

fn train_ok<S: AsRef<str>>(args: &[S]) {
    let out = bert_train(args);
    assert!(
        out.status.success(),
        "bert-train {:?} failed: {}",
        args.iter().map(AsRef::as_ref).collect::<Vec<_>>(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `--shards SHARDS --out RUN --model tiny`, then `rest`.
fn tiny(shards: &Path, run: &Path, rest: &[&str]) -> Vec<String> {
    let path = |p: &Path| p.to_str().unwrap().to_string();
    let mut args = vec![
        "--shards".to_string(),
        path(shards),
        "--out".to_string(),
        path(run),
        "--model".to_string(),
        "tiny".to_string(),
    ];
    args.extend(rest.iter().map(|a| a.to_string()));
    args
}

/// A WordPiece vocabulary for the fixtures, written to `dir/vocab.txt`.
fn fixture_vocab(dir: &Path) -> PathBuf {
    let mut text = String::new();
    let mut stack = vec![fixtures()];
    while let Some(p) = stack.pop() {
        if p.is_dir() {
            for e in std::fs::read_dir(&p).unwrap() {
                stack.push(e.unwrap().path());
            }
        } else {
            text.push_str(&String::from_utf8_lossy(&std::fs::read(&p).unwrap()).to_lowercase());
        }
    }
    let mut vocab: Vec<String> = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
        .map(String::from)
        .to_vec();
    let chars: std::collections::BTreeSet<char> =
        text.chars().filter(|c| !c.is_whitespace()).collect();
    vocab.extend(chars.iter().map(|c| c.to_string()));
    vocab.extend(
        chars
            .iter()
            .filter(|c| c.is_alphanumeric())
            .map(|c| format!("##{c}")),
    );
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for word in text
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| w.len() > 1)
    {
        *counts.entry(word).or_default() += 1;
    }
    let mut words: Vec<(&str, usize)> = counts.into_iter().collect();
    words.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    vocab.extend(words.iter().take(1000).map(|(w, _)| w.to_string()));
    let path = dir.join("vocab.txt");
    std::fs::write(&path, vocab.join("\n") + "\n").unwrap();
    path
}

/// Shards of the fixtures at `max_seq_len` with the fixture vocabulary.
fn fixture_shards(dir: &Path, max_seq_len: usize, dupe_factor: usize) -> PathBuf {
    fixture_shards_with(dir, max_seq_len, dupe_factor, |_| {})
}

/// [`fixture_shards`] of a build whose config `recipe` changes (objective, masking, padding).
fn fixture_shards_with(
    dir: &Path,
    max_seq_len: usize,
    dupe_factor: usize,
    recipe: impl FnOnce(&mut BuildConfig),
) -> PathBuf {
    let vocab = fixture_vocab(dir);
    let out = dir.join("shards");
    let mut config = BuildConfig {
        dupe_factor,
        rows_per_shard: 300,
        row_group_rows: 64,
        ..config_at(max_seq_len)
    };
    recipe(&mut config);
    let tokenizer = TokenizerSource::Vocab {
        path: vocab,
        cased: false,
    };
    build_shards(&fixtures(), &out, config, tokenizer);
    out
}

/// The entropy (nats) of the masked-LM labels' unigram distribution: the loss of the best
/// predictor that ignores context.
fn unigram_entropy(shards: &Path) -> f64 {
    let mut counts: HashMap<i32, usize> = HashMap::new();
    for name in file_names(shards) {
        if !bertprep::output::layout::is_shard_name(&name) {
            continue;
        }
        for row in bertprep::shard::read_shard(&shards.join(name))
            .unwrap()
            .rows
        {
            for l in row.labels.into_iter().filter(|&l| l >= 0) {
                *counts.entry(l).or_default() += 1;
            }
        }
    }
    let n: usize = counts.values().sum();
    counts
        .values()
        .map(|&c| {
            let p = c as f64 / n as f64;
            -p * p.ln()
        })
        .sum()
}

fn lines(run: &Path, split: &str) -> Vec<MetricsLine> {
    metrics::read(&run.join(metrics::METRICS_FILE))
        .unwrap()
        .into_iter()
        .filter(|l| l.split == split)
        .collect()
}

#[test]
fn sentence_order_shards_train_the_two_way_head() {
    let dir = tempfile::tempdir().unwrap();
    let shards = fixture_shards_with(dir.path(), 64, 1, |c| c.objective = Objective::Sop);
    let rows = bertprep::shard::read_shard(&shards.join("shard-0000.parquet")).unwrap();
    let swapped = rows
        .rows
        .iter()
        .filter(|r| r.next_sentence_label == 1)
        .count();
    assert!(swapped > 0 && swapped < rows.rows.len());
    let run = dir.path().join("run");
    train_ok(&tiny(
        &shards,
        &run,
        &[
            "--max-steps",
            "4",
            "--batch-size",
            "8",
            "--log-every",
            "1",
            "--threads",
            "1",
            "--quiet",
        ],
    ));
    let train = lines(&run, "train");
    assert_eq!(train.len(), 4);
    // The two-way head's loss on the sentence_order_label column, near ln 2 untrained.
    assert!(train.iter().all(|l| (0.3..1.2).contains(&l.nsp_loss)));
    assert!(run.join("checkpoint-4/model.safetensors").is_file());
}

#[test]
fn bert_train_learns_on_fixture_shards() {
    let dir = tempfile::tempdir().unwrap();
    // About 190 rows: 200 steps of 16 are 17 epochs, enough to learn this text by heart.
    let shards = fixture_shards(dir.path(), 64, 1);
    let run = dir.path().join("run");
    let s = |p: &Path| p.to_str().unwrap().to_string();
    train_ok(&tiny(
        &shards,
        &run,
        &[
            "--max-steps",
            "200",
            "--batch-size",
            "16",
            "--lr",
            "1e-3",
            "--warmup-steps",
            "30",
            "--log-every",
            "1",
            "--save-every",
            "0",
            "--threads",
            "1",
            "--eval-shards",
            &s(&shards),
            "--quiet",
        ],
    ));
    let train = lines(&run, "train");
    assert_eq!(train.len(), 200);
    let first = train[0].mlm_loss;
    let last: f64 = train[train.len() - 20..]
        .iter()
        .map(|l| l.mlm_loss)
        .sum::<f64>()
        / 20.0;
    let baseline = unigram_entropy(&shards);
    eprintln!("mlm loss {first:.3} -> {last:.3}; unigram entropy {baseline:.3}");
    assert!(
        last <= 0.7 * first,
        "MLM loss fell from {first} to {last} only"
    );
    assert!(
        last < baseline,
        "MLM loss {last} is not below the unigram entropy {baseline}"
    );
    // Evaluated on the training rows (no dropout) at the end.
    let eval = lines(&run, "eval");
    assert_eq!(eval.len(), 1);
    assert!(
        eval[0].nsp_accuracy > 0.5,
        "NSP accuracy {}",
        eval[0].nsp_accuracy
    );
    assert!(
        eval[0].mlm_loss < baseline,
        "eval MLM loss {}",
        eval[0].mlm_loss
    );
    assert_eq!(
        file_names(&run),
        ["checkpoint-200", "loss.png", "metrics.jsonl", "run.json"]
    );
    let png_bytes = std::fs::read(run.join(plot::PLOT_FILE)).unwrap();
    let info = png::Decoder::new(std::io::Cursor::new(png_bytes))
        .read_info()
        .unwrap()
        .info()
        .clone();
    assert_eq!((info.width, info.height), plot::SIZE);
}

/// The numbers of a train line that must repeat exactly (not the timings).
fn numbers(l: &MetricsLine) -> [f64; 8] {
    [
        l.loss,
        l.mlm_loss,
        l.nsp_loss,
        l.mlm_accuracy,
        l.nsp_accuracy,
        l.lr.unwrap_or(f64::NAN),
        l.grad_norm.unwrap_or(f64::NAN),
        l.epoch,
    ]
}

#[test]
fn a_resumed_run_repeats_a_straight_run() {
    for optimizer in ["adamw", "lamb"] {
        resumed_run_repeats_a_straight_run(optimizer);
    }
}

fn resumed_run_repeats_a_straight_run(optimizer: &str) {
    let dir = tempfile::tempdir().unwrap();
    let shards = fixture_shards(dir.path(), 64, 1);
    let s = |p: &Path| p.to_str().unwrap().to_string();
    let common = |run: &Path| {
        tiny(
            &shards,
            run,
            &[
                "--max-steps",
                "8",
                "--batch-size",
                "4",
                "--grad-accum",
                "2",
                "--lr",
                "1e-3",
                "--warmup-steps",
                "2",
                "--log-every",
                "1",
                "--save-every",
                "0",
                "--threads",
                "1",
                "--eval-fraction",
                "0.1",
                "--shuffle-rows",
                "100",
                "--seed",
                "9",
                "--optimizer",
                optimizer,
                "--quiet",
            ],
        )
    };
    let straight = dir.path().join("straight");
    train_ok(&common(&straight));
    let split = dir.path().join("split");
    let mut args = common(&split);
    args.extend(["--stop-at".into(), "3".into()]);
    train_ok(&args);
    assert_eq!(
        file_names(&split),
        ["checkpoint-3", "loss.png", "metrics.jsonl", "run.json"]
    );
    train_ok(&["--resume", &s(&split), "--threads", "1", "--quiet"]);

    let (a, b) = (lines(&straight, "train"), lines(&split, "train"));
    assert_eq!(a.len(), 8);
    assert_eq!(
        b.iter().map(|l| l.step).collect::<Vec<_>>(),
        (1..=8).collect::<Vec<_>>()
    );
    for (x, y) in a.iter().zip(&b) {
        for (u, v) in numbers(x).iter().zip(numbers(y)) {
            assert!((u - v).abs() <= 1e-6, "step {}: {u} vs {v}", x.step);
        }
    }
    assert_eq!(lines(&straight, "eval"), lines(&split, "eval"));
    for file in [checkpoint::MODEL_FILE, checkpoint::OPTIMIZER_FILE] {
        let one = std::fs::read(straight.join("checkpoint-8").join(file)).unwrap();
        let two = std::fs::read(split.join("checkpoint-8").join(file)).unwrap();
        assert!(
            one == two,
            "{file} differs between the straight and the resumed run"
        );
    }
    let state = |run: &Path| {
        std::fs::read_to_string(run.join("checkpoint-8").join(checkpoint::STATE_FILE)).unwrap()
    };
    assert_eq!(state(&straight), state(&split));
    let recorded = std::fs::read_to_string(split.join("run.json")).unwrap();
    assert!(
        recorded.contains(&format!("\"optimizer\": \"{optimizer}\"")),
        "{recorded}"
    );
    // Recomputing each layer's activations trains the same run (the tied word embedding's
    // gradient is summed in another order: equal to rounding), and is recorded.
    if optimizer == "adamw" {
        let recomputed = dir.path().join("recomputed");
        let mut args = common(&recomputed);
        args.push("--recompute".into());
        train_ok(&args);
        for (x, y) in a.iter().zip(&lines(&recomputed, "train")) {
            for (u, v) in numbers(x).iter().zip(numbers(y)) {
                assert!(
                    (u - v).abs() <= 1e-4 * (1.0 + v.abs()),
                    "step {}: {u} vs {v}",
                    x.step
                );
            }
        }
        let recorded = std::fs::read_to_string(recomputed.join("run.json")).unwrap();
        assert!(recorded.contains("\"recompute\": true"), "{recorded}");
    }
    // A different seed is a different run.
    let other = dir.path().join("other");
    let mut args = common(&other);
    let seed = args.iter().position(|a| a == "9").unwrap();
    args[seed] = "10".into();
    train_ok(&args);
    assert_ne!(numbers(&lines(&other, "train")[0]), numbers(&a[0]));
}

/// The transformers parameter names of a 2-layer BertForPreTraining, from the parity reference.
fn transformers_names() -> HashSet<String> {
    let (tensors, _) = read_safetensors(
        &root().join("tests/golden/train/reference.safetensors"),
        &Device::Cpu,
    )
    .unwrap();
    tensors
        .keys()
        .filter_map(|k| k.strip_prefix("weight.").map(String::from))
        .collect()
}

#[test]
fn checkpoints_round_trip_with_transformers_names() {
    let dir = tempfile::tempdir().unwrap();
    let shards = fixture_shards(dir.path(), 64, 1);
    let run = dir.path().join("run");
    train_ok(&tiny(
        &shards,
        &run,
        &[
            "--max-steps",
            "4",
            "--batch-size",
            "4",
            "--save-every",
            "2",
            "--threads",
            "1",
            "--quiet",
        ],
    ));
    assert_eq!(
        file_names(&run),
        [
            "checkpoint-2",
            "checkpoint-4",
            "loss.png",
            "metrics.jsonl",
            "run.json"
        ]
    );
    let ckpt = run.join("checkpoint-4");
    assert_eq!(
        file_names(&ckpt),
        [
            "config.json",
            "model.safetensors",
            "optimizer.safetensors",
            "tokenizer.json",
            "tokenizer_config.json",
            "trainer_state.json"
        ]
    );
    // Exactly transformers' names, no tied decoder, metadata {"format": "pt"}.
    let (weights, meta) = read_safetensors(&ckpt.join("model.safetensors"), &Device::Cpu).unwrap();
    assert_eq!(
        meta,
        HashMap::from([("format".to_string(), "pt".to_string())])
    );
    let names: HashSet<String> = weights.keys().cloned().collect();
    assert_eq!(names, transformers_names());
    assert!(!names.iter().any(|n| n.contains("decoder")));
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(ckpt.join("config.json")).unwrap()).unwrap();
    assert_eq!(config["model_type"], "bert");
    assert_eq!(
        config["architectures"],
        serde_json::json!(["BertForPreTraining"])
    );
    assert_eq!(config["hidden_size"], 128);
    let set = ShardSet::open(&shards).unwrap();
    assert_eq!(config["vocab_size"], set.vocab_size());
    assert_eq!(
        std::fs::read(ckpt.join("tokenizer.json")).unwrap(),
        std::fs::read(shards.join("tokenizer.json")).unwrap()
    );
    let tok: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(ckpt.join("tokenizer_config.json")).unwrap())
            .unwrap();
    assert_eq!(tok["tokenizer_class"], "BertTokenizer");
    assert_eq!(tok["do_lower_case"], true);
    assert_eq!(tok["mask_token"], "[MASK]");
    // Loading gives back the same tensors, and the loaded model computes.
    let model = checkpoint::load_model(&ckpt, &Device::Cpu).unwrap();
    assert_eq!(model.params.len(), names.len());
    for p in &model.params {
        let a: Vec<f32> = p.var.as_tensor().flatten_all().unwrap().to_vec1().unwrap();
        let b: Vec<f32> = weights[&p.name].flatten_all().unwrap().to_vec1().unwrap();
        assert_eq!(a, b, "{}", p.name);
    }
    // Training moved the weights away from the first checkpoint's.
    let (first, _) =
        read_safetensors(&run.join("checkpoint-2/model.safetensors"), &Device::Cpu).unwrap();
    let name = "bert.encoder.layer.0.attention.self.query.weight";
    let a: Vec<f32> = first[name].flatten_all().unwrap().to_vec1().unwrap();
    let b: Vec<f32> = weights[name].flatten_all().unwrap().to_vec1().unwrap();
    assert_ne!(a, b);
    // No temporary directory is left behind.
    assert!(file_names(&run).iter().all(|n| !n.starts_with('.')));
}

#[test]
fn shards_in_s3_train_as_they_do_from_disk() {
    let ready = Command::new("python3")
        .args(["-c", "import moto.server, boto3"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ready {
        // CI installs them (`.ci/run`): there a missing package is a failure, not a skip.
        let required = std::env::var_os("CI").is_some()
            || std::env::var("BERTPREP_REQUIRE_CORPORA").is_ok_and(|v| v == "1");
        assert!(!required, "CI: python3 cannot import moto.server and boto3");
        eprintln!("SKIPPED: pip install 'moto[server]' boto3 to run this check");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let shards = fixture_shards(dir.path(), 64, 1);
    let keys: Vec<(String, PathBuf)> = file_names(&shards)
        .into_iter()
        .map(|name| (format!("build/{name}"), shards.join(name)))
        .collect();
    let files: Vec<(&str, &Path)> = keys
        .iter()
        .map(|(k, p)| (k.as_str(), p.as_path()))
        .collect();
    let server = servers::s3(&files);
    let train = |shards: &str, run: &Path| {
        let out = Command::new(env!("CARGO_BIN_EXE_bert-train"))
            .args(tiny(
                Path::new(shards),
                run,
                &["--max-steps", "4", "--log-every", "1"],
            ))
            .args(["--threads", "1", "--batch-size", "8", "--quiet"])
            .envs(server.s3_credentials())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "bert-train --shards {shards}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        lines(run, "train").iter().map(numbers).collect::<Vec<_>>()
    };
    let from_s3 = train("s3://corpus/build/", &dir.path().join("run-s3"));
    let from_disk = train(shards.to_str().unwrap(), &dir.path().join("run-disk"));
    assert_eq!(from_s3.len(), 4);
    assert_eq!(
        format!("{from_s3:?}"),
        format!("{from_disk:?}"),
        "the same shards from S3 and from disk trained differently"
    );
    // A prefix with no build there is a clear error naming it.
    let run = dir.path().join("run-none");
    let out = Command::new(env!("CARGO_BIN_EXE_bert-train"))
        .args(tiny(
            Path::new("s3://corpus/nothing/"),
            &run,
            &["--max-steps", "1"],
        ))
        .envs(server.s3_credentials())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("s3://corpus/nothing/"),
        "{err}"
    );
}

#[test]
fn bf16_products_train_within_one_percent_of_fp32() {
    let dir = tempfile::tempdir().unwrap();
    let shards = fixture_shards(dir.path(), 64, 1);
    let run = |precision: &str| {
        let run = dir.path().join(precision);
        let args = [
            "--max-steps",
            "300",
            "--batch-size",
            "4",
            "--lr",
            "1e-3",
            "--log-every",
            "1",
            "--save-every",
            "0",
            "--threads",
            "1",
            "--quiet",
            "--precision",
            precision,
        ];
        train_ok(&tiny(&shards, &run, &args));
        run
    };
    let (fp32, bf16) = (run("fp32"), run("bf16"));
    let (a, b) = (lines(&fp32, "train"), lines(&bf16, "train"));
    assert_eq!((a.len(), b.len()), (300, 300));
    let worst = a
        .iter()
        .zip(&b)
        .map(|(x, y)| (x.loss - y.loss).abs() / x.loss)
        .fold(0f64, f64::max);
    assert!(worst < 0.01, "a bf16 loss differs from fp32's by {worst}");
    // The products were rounded: the runs are not the same.
    assert_ne!(numbers(&a[299]), numbers(&b[299]));
    // The checkpoint is f32, as always.
    let recorded = std::fs::read_to_string(bf16.join("run.json")).unwrap();
    assert!(recorded.contains("\"precision\": \"bf16\""), "{recorded}");
    let model = bf16.join("checkpoint-300").join(checkpoint::MODEL_FILE);
    let (tensors, _) = read_safetensors(&model, &Device::Cpu).unwrap();
    assert!(tensors
        .values()
        .all(|t| t.dtype() == candle_core::DType::F32));
}

/// Whether `python3` can import torch and transformers.
fn python_with_transformers() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import torch, transformers, safetensors"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !ok {
        // CI installs them (`.ci/run`): there a missing package is a failure, not a skip.
        let required = std::env::var_os("CI").is_some()
            || std::env::var("BERTPREP_REQUIRE_CORPORA").is_ok_and(|v| v == "1");
        assert!(
            !required,
            "CI: python3 cannot import torch, transformers and safetensors"
        );
        eprintln!("SKIPPED: python3 with torch and transformers not available");
    }
    ok
}

#[test]
fn transformers_loads_the_checkpoint_and_computes_the_same_logits() {
    if !python_with_transformers() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    check_in_transformers(&fixture_shards(dir.path(), 64, 1), dir.path());
}

#[test]
fn shards_without_a_pair_train_a_masked_lm_that_transformers_loads() {
    if !python_with_transformers() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let shards = fixture_shards_with(dir.path(), 64, 1, |c| c.objective = Objective::None);
    check_in_transformers(&shards, dir.path());
}

/// Trains 3 steps on `shards`, then has `scripts/check_checkpoint.py` load the checkpoint in
/// `transformers` and compare its logits for the first rows with ours.
fn check_in_transformers(shards: &Path, dir: &Path) {
    let run = dir.join("run");
    train_ok(&tiny(
        shards,
        &run,
        &[
            "--max-steps",
            "3",
            "--batch-size",
            "4",
            "--threads",
            "1",
            "--quiet",
        ],
    ));
    let ckpt = run.join("checkpoint-3");
    // Our logits for the first rows of a shard, in eval mode.
    let model: BertForPreTraining = checkpoint::load_model(&ckpt, &Device::Cpu).unwrap();
    let contents = bertprep::shard::read_shard(&shards.join("shard-0000.parquet")).unwrap();
    let rows: Vec<RowView> = contents.rows[..3].iter().map(|r| r.view()).collect();
    let batch = Batch::from_rows(&rows);
    let tensors = BatchTensors::new(&batch, &Device::Cpu).unwrap();
    let out = model.forward(&tensors, None).unwrap();
    let (b, l) = (batch.rows, batch.seq_len);
    let grid = |v: &[u32]| -> Vec<Vec<u32>> { v.chunks(l).map(|c| c.to_vec()).collect() };
    let mask: Vec<u32> = batch.attention_mask.iter().map(|&m| m as u32).collect();
    let nsp = out.nsp_logits.as_ref().map(|t| t.to_vec2::<f32>().unwrap());
    let compare = serde_json::json!({
        "input_ids": grid(&batch.input_ids),
        "token_type_ids": grid(&batch.token_type_ids),
        "attention_mask": grid(&mask),
        "nsp_logits": nsp,
        "mlm_positions": batch.mlm_positions,
        "mlm_logits": out.mlm_logits.to_vec2::<f32>().unwrap(),
    });
    assert_eq!(b, 3);
    let file = dir.join("compare.json");
    std::fs::write(&file, compare.to_string()).unwrap();
    let script = workspace().join("scripts/check_checkpoint.py");
    let output = Command::new("python3")
        .arg(&script)
        .arg(&ckpt)
        .arg("--compare")
        .arg(&file)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.starts_with("ok:"), "{stdout}");
    eprintln!("{stdout}");
}

#[test]
fn dynamic_masks_on_unpadded_rows_train_and_resume_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let shards = fixture_shards_with(dir.path(), 64, 1, |c| {
        c.objective = Objective::None;
        c.masking = Masking::Dynamic;
        c.padding = Padding::None;
    });
    let s = |p: &Path| p.to_str().unwrap().to_string();
    let common = |run: &Path| {
        tiny(
            &shards,
            run,
            &[
                "--max-steps",
                "6",
                "--batch-size",
                "8",
                "--log-every",
                "1",
                "--save-every",
                "0",
                "--threads",
                "1",
                "--eval-fraction",
                "0.1",
                "--eval-every",
                "3",
                "--mlm-probability",
                "0.3",
                "--quiet",
            ],
        )
    };
    let straight = dir.path().join("straight");
    train_ok(&common(&straight));
    let split = dir.path().join("split");
    let mut args = common(&split);
    args.extend(["--stop-at".into(), "3".into()]);
    train_ok(&args);
    train_ok(&["--resume", &s(&split), "--threads", "1", "--quiet"]);
    let train = lines(&straight, "train");
    assert_eq!(train.len(), 6);
    assert!(train
        .iter()
        .all(|l| l.mlm_loss.is_finite() && l.nsp_loss == 0.0));
    assert_eq!(lines(&straight, "eval"), lines(&split, "eval"));
    for file in [checkpoint::MODEL_FILE, checkpoint::OPTIMIZER_FILE] {
        let one = std::fs::read(straight.join("checkpoint-6").join(file)).unwrap();
        let two = std::fs::read(split.join("checkpoint-6").join(file)).unwrap();
        assert!(one == two, "{file} differs after a resume");
    }
    // No NSP head was trained: the checkpoint is a masked LM.
    let config = std::fs::read_to_string(straight.join("checkpoint-6/config.json")).unwrap();
    assert!(config.contains("BertForMaskedLM"), "{config}");
}

fn stderr_of<S: AsRef<str>>(args: &[S]) -> (Option<i32>, String) {
    let out = bert_train(args);
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn bad_input_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let s = |p: &Path| p.to_str().unwrap().to_string();
    let run = dir.path().join("run");
    // No flags: a usage error.
    let (code, err) = stderr_of::<&str>(&[]);
    assert_eq!(code, Some(2), "{err}");
    // Not a shard directory.
    let (code, err) = stderr_of(&["--shards", &s(dir.path()), "--out", &s(&run)]);
    assert_eq!(code, Some(1));
    assert!(
        err.contains("manifest.json") && err.starts_with("bert-train: error:"),
        "{err}"
    );
    // A model whose vocabulary is smaller than the shards' tokenizer.
    let shards = fixture_shards(dir.path(), 64, 1);
    let config = dir.path().join("config.json");
    std::fs::write(
        &config,
        r#"{"vocab_size": 100, "hidden_size": 32, "num_attention_heads": 2}"#,
    )
    .unwrap();
    let (code, err) = stderr_of(&[
        "--shards",
        &s(&shards),
        "--out",
        &s(&run),
        "--config",
        &s(&config),
    ]);
    assert_eq!(code, Some(1));
    assert!(err.contains("vocabulary is 100"), "{err}");
    // A file with another schema among the shards.
    let broken = dir.path().join("broken");
    std::fs::create_dir(&broken).unwrap();
    for name in file_names(&shards) {
        std::fs::copy(shards.join(&name), broken.join(&name)).unwrap();
    }
    std::fs::write(broken.join("shard-0000.parquet"), b"PAR1 not really").unwrap();
    let (code, err) = stderr_of(&tiny(&broken, &run, &[]));
    assert_eq!(code, Some(1));
    assert!(err.contains("shard-0000.parquet"), "{err}");
    assert!(
        !run.join("run.json").exists(),
        "nothing is written for bad input"
    );
    // --resume with settings of a fresh run; a run directory that already holds a run.
    let (code, err) = stderr_of(&["--resume", &s(&run), "--lr", "1"]);
    assert_eq!(code, Some(2), "a usage error");
    assert!(err.contains("--lr"), "{err}");
    train_ok(&tiny(
        &shards,
        &run,
        &[
            "--max-steps",
            "1",
            "--batch-size",
            "2",
            "--threads",
            "1",
            "--quiet",
        ],
    ));
    let (code, err) = stderr_of(&tiny(&shards, &run, &[]));
    assert_eq!(code, Some(1));
    assert!(err.contains("already holds a training run"), "{err}");
    let (code, err) = stderr_of(&["--resume", &s(&dir.path().join("nothing"))]);
    assert_eq!(code, Some(1));
    assert!(err.contains("nothing"), "{err}");
    let (_, err) = stderr_of(&[
        "--shards",
        &s(&shards),
        "--out",
        &s(&run),
        "--model",
        "huge",
    ]);
    assert!(err.contains("unknown model preset"), "{err}");
}
