//! Object storage, against a local S3-compatible server (`moto`'s, which speaks the S3 protocol
//! over HTTP; `.ci/run` installs it): a build from `s3://` equals the build of the same files on
//! disk, byte for byte, in one piece or in tasks reading only their ranges, from Parquet, and
//! after a kill; a
//! build to `s3://` (and `finalize` there) uploads exactly the files of the build made on disk,
//! also after a kill; the same over WebDAV (`http://`, wsgidav's server); an unreachable server
//! is a clear error.

use std::path::{Path, PathBuf};
use std::process::Command;

use bertprep::output::Manifest;

use crate::servers::{self, Server};
use crate::util::*;

/// A moto server whose bucket `corpus` holds `files` (`(key, local path)`); `None` (skipped)
/// where moto is missing outside CI.
fn server(files: &[(&str, &Path)]) -> Option<Server> {
    python_ready(&["moto.server, boto3"], "'moto[server]' boto3").then(|| servers::s3(files))
}

/// `bertprep build` with the server's credentials in the environment.
fn build_from(server: &Server, input: &str, out: &Path, extra: &[&str]) -> std::process::Output {
    let out = out.to_str().unwrap();
    bertprep_with(
        server,
        &["build", "--quiet", "--in", input, "--out", out],
        extra,
    )
}

/// `bertprep ARGS EXTRA...` with the server's credentials in the environment.
fn bertprep_with(server: &Server, args: &[&str], extra: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_bertprep"))
        .args(args)
        .args(extra)
        .envs(server.s3_credentials())
        .output()
        .unwrap()
}

/// Downloads every object under `prefix` of bucket `corpus` into `dir`.
fn download(server: &Server, prefix: &str, dir: &Path) {
    server.s3_download(prefix, dir);
}

/// The names of the files in `dir`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn shard_bytes(dir: &Path) -> Vec<Vec<u8>> {
    let manifest = Manifest::read(dir).unwrap();
    manifest
        .shards
        .iter()
        .map(|s| std::fs::read(dir.join(&s.file)).unwrap())
        .collect()
}

fn fixture_files() -> Vec<(String, PathBuf)> {
    let mut files = Vec::new();
    for dir in ["wiki/AA", "jsonl", "text"] {
        for entry in std::fs::read_dir(fixtures().join(dir)).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_str().unwrap().to_string();
            files.push((format!("fixtures/{dir}/{name}"), path));
        }
    }
    files
}

#[test]
fn a_build_from_s3_equals_the_build_from_disk() {
    let files = fixture_files();
    let big = shared_corpus("enwiki-2019-small");
    let Some(big) = big else { return };
    let big_file = big.join("wiki/AA/wiki_00");
    let mut uploads: Vec<(&str, &Path)> = files
        .iter()
        .map(|(k, p)| (k.as_str(), p.as_path()))
        .collect();
    uploads.push(("big/wiki", big_file.as_path()));
    let parquet = root().join("tests/fixtures/parquet/docs.parquet");
    uploads.push(("pq/docs.parquet", parquet.as_path()));
    let Some(server) = server(&uploads) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();

    // The build of `location` equals the build of `local` on disk, shard for shard.
    let same_as_local = |location: &str, local: &Path, name: &str| {
        let remote = tmp.path().join(format!("remote-{name}"));
        let out = build_from(&server, location, &remote, &["--max-seq-len", "64"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let built = tmp.path().join(format!("local-{name}"));
        build_ok(local, &built, &["--max-seq-len", "64"]);
        assert!(shard_bytes(&remote) == shard_bytes(&built), "{location}");
        remote
    };
    // A Parquet file, read by range requests (footer, then the text column's chunks).
    let remote = same_as_local("s3://corpus/pq/", &parquet, "pq");
    assert_eq!(Manifest::read(&remote).unwrap().counters.documents, 8);
    // A prefix of several files, read whole.
    same_as_local("s3://corpus/fixtures/", &fixtures(), "fixtures");

    // One object cut into pieces, three tasks reading only their ranges.
    let flags = [
        "--max-seq-len",
        "64",
        "--piece-bytes",
        "65536",
        "--tasks",
        "3",
    ];
    let remote = tmp.path().join("remote-tasks");
    let out = build_from(&server, "s3://corpus/big/wiki", &remote, &flags);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let local = tmp.path().join("local-tasks");
    build_ok(&big_file, &local, &flags);
    finalize_ok(&remote, &[]);
    finalize_ok(&local, &[]);
    assert!(shard_bytes(&remote) == shard_bytes(&local));
    for t in 0..3 {
        let part = |dir: &Path| {
            Manifest::read_file(&dir.join(format!("manifest-t000{t}.json")))
                .unwrap()
                .bytes_read
        };
        assert_eq!(part(&remote), part(&local), "task {t} read other ranges");
        let size = std::fs::metadata(&big_file).unwrap().len();
        assert!(
            part(&remote).unwrap() < size * 3 / 5,
            "task {t} of 3 read more than its share of 16 pieces"
        );
    }

    // Killed after its first checkpoint, and run again: the same bytes.
    let killed = tmp.path().join("killed");
    let child = Command::new(env!("CARGO_BIN_EXE_bertprep"))
        .args(["build", "--quiet", "--in", "s3://corpus/big/wiki", "--out"])
        .arg(&killed)
        .args([
            "--max-seq-len",
            "64",
            "--unit-bytes",
            "20000",
            "--threads",
            "1",
        ])
        .envs(server.s3_credentials())
        .spawn()
        .unwrap();
    let state = killed.join(".bertprep-work/state.json");
    kill_when_exists(child, &state);
    assert!(
        !killed.join("manifest.json").exists(),
        "the build finished before the kill"
    );
    let flags = ["--max-seq-len", "64", "--unit-bytes", "20000"];
    let out = build_from(&server, "s3://corpus/big/wiki", &killed, &flags);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let whole = tmp.path().join("whole");
    build_ok(&big_file, &whole, &flags);
    assert!(shard_bytes(&killed) == shard_bytes(&whole));
}

#[test]
fn a_build_to_s3_uploads_the_build_made_on_disk() {
    let Some(big) = shared_corpus("enwiki-2019-small") else {
        return;
    };
    let big_file = big.join("wiki/AA/wiki_00");
    let Some(server) = server(&[("big/wiki", big_file.as_path())]) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let flags = ["--max-seq-len", "64", "--rows-per-shard", "300"];

    // One machine, from disk to the store.
    let input = big_file.to_str().unwrap();
    let args = [
        "build",
        "--quiet",
        "--in",
        input,
        "--out",
        "s3://corpus/one/",
    ];
    let run = bertprep_with(&server, &args, &flags);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let got = tmp.path().join("one-got");
    download(&server, "one/", &got);
    let local = tmp.path().join("one-local");
    build_ok(&big_file, &local, &flags);
    assert_eq!(names(&got), names(&local));
    assert!(shard_bytes(&got) == shard_bytes(&local));
    let shards = |dir: &Path| Manifest::read(dir).unwrap().shards;
    assert_eq!(shards(&got), shards(&local));
    // The readers of a finished build take it from the store too.
    let run = bertprep_with(
        &server,
        &["inspect", "s3://corpus/one/", "--check"],
        &["--rows", "0"],
    );
    let said = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success() && said.contains("manifest.json (rows, bytes, SHA-256)"),
        "{said}"
    );
    let shard = "s3://corpus/one/shard-0000.parquet";
    let run = bertprep_with(&server, &["inspect", shard, "--check"], &["--rows", "0"]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stdout)
    );
    let exported = tmp.path().join("exported");
    let out = exported.to_str().unwrap();
    let args = [
        "export",
        "s3://corpus/one/",
        "--to",
        "tfrecord",
        "--out",
        out,
    ];
    let run = bertprep_with(&server, &args, &["--quiet"]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(exported.join("export-manifest.json").exists());

    // Two workers of three tasks, from the store to the store, finalized there; one worker
    // killed after its first checkpoint and run again.
    let mut task_flags = flags.to_vec();
    task_flags.extend(["--piece-bytes", "65536", "--tasks", "3"]);
    let mut args = vec!["build", "--quiet", "--in", "s3://corpus/big/wiki"];
    args.extend(["--out", "s3://corpus/tasks/"]);
    args.extend(&task_flags);
    let child = Command::new(env!("CARGO_BIN_EXE_bertprep"))
        .args(&args)
        .args(["--worker", "0/2", "--threads", "1"])
        .envs(server.s3_credentials())
        .spawn()
        .unwrap();
    let staging = bertprep::input::remote::staging_dir(Path::new("s3://corpus/tasks/"));
    kill_when_exists(child, &staging.join(".bertprep-work-t0000/state.json"));
    for worker in ["0/2", "1/2"] {
        let run = bertprep_with(&server, &args, &["--worker", worker]);
        assert!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
    }
    // On another machine (no staging directory: another temporary directory), the finished
    // tasks are found complete in the store and not run again; another build is refused.
    let elsewhere = tmp.path().join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    let on_another_machine = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_bertprep"))
            .args(&args)
            .args(extra)
            .envs(server.s3_credentials())
            .env("TMPDIR", &elsewhere)
            .output()
            .unwrap()
    };
    let run = on_another_machine(&["--worker", "0/2"]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let restaged = std::fs::read_dir(&elsewhere)
        .unwrap()
        .flat_map(|d| std::fs::read_dir(d.unwrap().path()).unwrap())
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect::<Vec<_>>();
    assert!(
        !restaged.iter().any(|n| n.starts_with("shard-")),
        "tasks complete in the store were built again: {restaged:?}"
    );
    let run = on_another_machine(&["--worker", "0/2", "--seed", "7"]);
    let said = String::from_utf8_lossy(&run.stderr);
    assert!(
        !run.status.success()
            && said.contains("s3://corpus/tasks")
            && said.contains("holds a different build"),
        "{said}"
    );
    let run = bertprep_with(&server, &["finalize", "s3://corpus/tasks/"], &[]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let got = tmp.path().join("tasks-got");
    download(&server, "tasks/", &got);
    let local = tmp.path().join("tasks-local");
    build_ok(&big_file, &local, &task_flags);
    finalize_ok(&local, &[]);
    assert_eq!(names(&got), names(&local));
    assert!(shard_bytes(&got) == shard_bytes(&local));
    let _ = std::fs::remove_dir_all(&staging);
    let _ = std::fs::remove_dir_all(bertprep::input::remote::staging_dir(Path::new(
        "s3://corpus/one/",
    )));
}

#[test]
fn missing_objects_and_unreachable_servers_are_clear_errors() {
    let Some(server) = server(&[]) else { return };
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let run = build_from(&server, "s3://corpus/nothing/", &out, &[]);
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(
        !run.status.success() && err.contains("s3://corpus/nothing/"),
        "{err}"
    );
    let run = build_from(&server, "s3://no-such-bucket/x", &out, &[]);
    assert!(!run.status.success());
    drop(server);
    let dead = Server::dead();
    let run = build_from(&dead, "s3://corpus/x/", &out, &[]);
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(
        !run.status.success() && err.contains("s3://corpus/x/"),
        "{err}"
    );
    assert!(!out.join("manifest.json").exists());
    // Claims and rebalancing need a directory.
    let fixtures = fixtures();
    let args = [
        "build",
        "--in",
        fixtures.to_str().unwrap(),
        "--out",
        "s3://corpus/out/",
    ];
    let run = bertprep(&[&args[..], &["--claim"]].concat());
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(
        !run.status.success() && err.contains("--claim needs a shared directory"),
        "{err}"
    );
    let run = bertprep(&["finalize", "s3://corpus/out/", "--rebalance", "10"]);
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(
        !run.status.success() && err.contains("--rebalance rewrites shards"),
        "{err}"
    );
}

/// wsgidav serving `root`; `None` (skipped) where it is missing outside CI.
fn webdav(root: &Path) -> Option<Server> {
    python_ready(&["wsgidav.server.server_cli, cheroot"], "wsgidav cheroot")
        .then(|| servers::webdav(root))
}

#[test]
fn a_build_over_webdav_reads_and_writes_http_locations() {
    let Some(big) = shared_corpus("enwiki-2019-small") else {
        return;
    };
    let big_file = big.join("wiki/AA/wiki_00");
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("dav");
    std::fs::create_dir_all(root.join("corpus")).unwrap();
    std::fs::copy(&big_file, root.join("corpus/wiki")).unwrap();
    let Some(server) = webdav(&root) else { return };
    let flags = [
        "--max-seq-len",
        "64",
        "--rows-per-shard",
        "300",
        "--piece-bytes",
        "65536",
        "--tasks",
        "3",
    ];
    let input = format!("{}/corpus/wiki", server.endpoint);
    let out = format!("{}/shards/", server.endpoint);
    for worker in ["0/2", "1/2"] {
        let args = ["build", "--quiet", "--in", &input, "--out", &out];
        let run = bertprep(&[&args[..], &flags, &["--worker", worker]].concat());
        assert!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
    }
    let run = bertprep(&["finalize", &out]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let local = tmp.path().join("local");
    build_ok(&big_file, &local, &flags);
    finalize_ok(&local, &[]);
    // What the server holds is the build made on disk, with no temporary upload left.
    let got = root.join("shards");
    assert_eq!(names(&got), names(&local));
    assert!(shard_bytes(&got) == shard_bytes(&local));
    for t in 0..3 {
        let part = |dir: &Path| {
            Manifest::read_file(&dir.join(format!("manifest-t000{t}.json")))
                .unwrap()
                .bytes_read
        };
        assert_eq!(part(&got), part(&local), "task {t} read other ranges");
    }
    let _ = std::fs::remove_dir_all(bertprep::input::remote::staging_dir(Path::new(&out)));
}

#[test]
fn s3_credentials_come_from_the_aws_files_too() {
    let Some(server) = server(&[("files/a.txt", &fixtures().join("text/sample.txt"))]) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let credentials = tmp.path().join("credentials");
    let config = tmp.path().join("config");
    std::fs::write(
        &credentials,
        "[default]\naws_access_key_id = nobody\n\n[corpus]\naws_access_key_id = test\n\
         aws_secret_access_key = test\n",
    )
    .unwrap();
    let endpoint = format!(
        "[profile corpus]\nregion = us-east-1\nendpoint_url = {}\n",
        server.endpoint
    );
    std::fs::write(&config, endpoint).unwrap();
    let run = |profile: Option<&str>, out: &str| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_bertprep"));
        command
            .args(["build", "--quiet", "--in", "s3://corpus/files/", "--out"])
            .arg(tmp.path().join(out))
            .env("AWS_SHARED_CREDENTIALS_FILE", &credentials)
            .env("AWS_CONFIG_FILE", &config)
            .env("AWS_ALLOW_HTTP", "true")
            .env("HOME", tmp.path());
        for key in [
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_REGION",
            "AWS_ENDPOINT",
        ] {
            command.env_remove(key);
        }
        if let Some(profile) = profile {
            command.env("AWS_PROFILE", profile);
        }
        command.output().unwrap()
    };
    // The profile's keys, region and endpoint come from the files.
    let with = run(Some("corpus"), "with");
    assert!(
        with.status.success(),
        "{}",
        String::from_utf8_lossy(&with.stderr)
    );
    // The default profile has neither the server nor a secret: the build cannot reach it.
    let without = run(None, "without");
    assert!(!without.status.success());
}
