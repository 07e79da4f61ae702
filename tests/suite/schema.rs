//! The shard schema in code equals the checked-in `schemas/shard.schema.json`.

use bertprep::shard::schema_description;

use crate::util::root;

#[test]
fn schema_matches_checked_in_file() {
    let path = root().join("schemas/shard.schema.json");
    let current = schema_description();
    if std::env::var_os("BERTPREP_BLESS").is_some() {
        std::fs::write(&path, &current).unwrap();
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        checked_in == current,
        "schemas/shard.schema.json is out of date; if the change is intended, bump \
         SCHEMA_VERSION and rerun with BERTPREP_BLESS=1. Code says:\n{current}"
    );
}

#[test]
fn written_shards_use_the_schema() {
    let out = tempfile::tempdir().unwrap();
    crate::util::build_ok(
        &crate::util::fixtures().join("text"),
        out.path(),
        &["--max-seq-len", "32"],
    );
    let file = std::fs::File::open(out.path().join("shard-0000.parquet")).unwrap();
    let reader =
        parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file).unwrap();
    let found = reader.schema();
    let expected = bertprep::shard::arrow_schema();
    assert_eq!(found.fields(), expected.fields());
}
