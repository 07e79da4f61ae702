//! `bert-train`: pre-train BERT on bertprep shards (not yet implemented).

use std::process::ExitCode;

fn main() -> ExitCode {
    eprintln!("bert-train: not yet implemented");
    ExitCode::from(2)
}
