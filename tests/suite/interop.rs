//! pyarrow opens our shards and agrees with them (`scripts/check_shard.py`).
//!
//! Skipped with a message when python3 or pyarrow is missing, except under CI (`CI` set), where
//! `.ci/run` installs pyarrow and a missing one is a failure.

use std::process::Command;

use crate::util::*;

fn python_has_pyarrow() -> bool {
    Command::new("python3")
        .args(["-c", "import pyarrow, numpy"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

#[test]
fn pyarrow_reads_and_validates_shards() {
    if !python_has_pyarrow() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but python3 cannot import pyarrow and numpy"
        );
        eprintln!("SKIPPED: python3 with pyarrow and numpy not found (pip install pyarrow numpy)");
        return;
    }
    let out = tempfile::tempdir().unwrap();
    build_ok(
        &fixtures(),
        out.path(),
        &["--max-seq-len", "128", "--rows-per-shard", "50"],
    );
    let shards: Vec<String> = file_names(out.path())
        .into_iter()
        .filter(|n| n.starts_with("shard-"))
        .map(|n| out.path().join(n).to_string_lossy().into_owned())
        .collect();
    assert!(shards.len() >= 2);
    let script = root().join("scripts/check_shard.py");
    let output = Command::new("python3")
        .arg(&script)
        .args(&shards)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        stdout.lines().filter(|l| l.starts_with("OK ")).count(),
        shards.len()
    );

    // The checker must catch a shard that breaks an invariant.
    let broken = out.path().join("broken.parquet");
    let code = format!(
        "import pyarrow as pa, pyarrow.parquet as pq\n\
         t = pq.read_table({src:?})\n\
         ids = t.column('input_ids').to_pylist()\n\
         ids[0][0] = 5\n\
         meta = pq.read_schema({src:?}).metadata\n\
         t = t.set_column(0, t.schema.field('input_ids'), pa.array(ids, type=t.schema.field('input_ids').type))\n\
         t = t.replace_schema_metadata(meta)\n\
         pq.write_table(t, {dst:?})\n",
        src = shards[0],
        dst = broken.to_string_lossy()
    );
    let made = Command::new("python3")
        .args(["-c", &code])
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let output = Command::new("python3")
        .arg(&script)
        .arg(&broken)
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("row 0"));
}
