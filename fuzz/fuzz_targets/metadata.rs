//! The readers of files a build finds in its output directory — `manifest.json` (and worker
//! parts) and `.bertprep-work/state.json` — on any bytes, through the files as a build, a merge
//! or `inspect` reads them: never a panic; a manifest that reads back names only plain files
//! inside its directory, each shard once; a state that reads back lists only shard names of
//! its own build.
#![no_main]

use std::collections::HashSet;

use bertprep::build::state::BuildState;
use bertprep::output::layout::{is_plain_name, is_shard_of};
use bertprep::output::manifest::Manifest;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("manifest.json");
    std::fs::write(&path, data).unwrap();
    if let Ok(m) = Manifest::read_file(&path) {
        assert!(is_plain_name(&m.tokenizer.file));
        let mut seen = HashSet::new();
        for shard in &m.shards {
            assert!(is_plain_name(&shard.file), "{:?}", shard.file);
            assert!(seen.insert(shard.file.clone()), "{:?} twice", shard.file);
        }
    }
    let work = dir.path().join(".bertprep-work");
    std::fs::create_dir(&work).unwrap();
    std::fs::write(work.join("state.json"), data).unwrap();
    if let Ok(Some(state)) = BuildState::read(&work) {
        let worker = state.identity.worker;
        assert!(state.shards.iter().all(|s| is_shard_of(&s.file, worker)));
        assert!(state.shards.iter().all(|s| is_plain_name(&s.file)));
    }
});
