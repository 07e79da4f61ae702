//! Inputs in object storage, against a local S3-compatible server (`moto`'s, which speaks the
//! S3 protocol over HTTP; `.ci/run` installs it): a build from `s3://` equals the build of the
//! same files on disk, byte for byte, in one piece or in tasks reading only their ranges, and
//! after a kill; an unreachable server is a clear error.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bertprep::output::Manifest;

use crate::util::*;

/// A moto S3 server on a free port, stopped on drop.
struct Server {
    child: Child,
    endpoint: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the server and fills bucket `corpus` with `files` (`(key, local path)`); `None`
/// (skipped) where moto is missing outside CI.
fn server(files: &[(&str, &Path)]) -> Option<Server> {
    if !python_ready(&["moto.server, boto3"], "'moto[server]' boto3") {
        return None;
    }
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new("python3")
        .args([
            "-m",
            "moto.server",
            "-H",
            "127.0.0.1",
            "-p",
            &port.to_string(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start moto.server");
    let server = Server {
        child,
        endpoint: format!("http://127.0.0.1:{port}"),
    };
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "moto did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let uploads: Vec<String> = files
        .iter()
        .map(|(key, path)| format!("({key:?}, {:?})", path.to_str().unwrap()))
        .collect();
    let script = format!(
        "import boto3\n\
         s3 = boto3.client('s3', endpoint_url='{}', aws_access_key_id='test', \
         aws_secret_access_key='test', region_name='us-east-1')\n\
         s3.create_bucket(Bucket='corpus')\n\
         for key, path in [{}]:\n    s3.upload_file(path, 'corpus', key)\n",
        server.endpoint,
        uploads.join(", ")
    );
    let out = Command::new("python3")
        .args(["-c", &script])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(server)
}

/// `bertprep build` with the server's credentials in the environment.
fn build_from(server: &Server, input: &str, out: &Path, extra: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_bertprep"))
        .args([
            "build",
            "--quiet",
            "--in",
            input,
            "--out",
            out.to_str().unwrap(),
        ])
        .args(extra)
        .envs(credentials(&server.endpoint))
        .output()
        .unwrap()
}

fn credentials(endpoint: &str) -> [(&'static str, String); 5] {
    [
        ("AWS_ACCESS_KEY_ID", "test".into()),
        ("AWS_SECRET_ACCESS_KEY", "test".into()),
        ("AWS_REGION", "us-east-1".into()),
        ("AWS_ENDPOINT", endpoint.into()),
        ("AWS_ALLOW_HTTP", "true".into()),
    ]
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
    let big_file = bertprep::input::discover(&[big]).unwrap()[0].path.clone();
    let mut uploads: Vec<(&str, &Path)> = files
        .iter()
        .map(|(k, p)| (k.as_str(), p.as_path()))
        .collect();
    uploads.push(("big/wiki", big_file.as_path()));
    let Some(server) = server(&uploads) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();

    // A prefix of several files, read whole.
    let remote = tmp.path().join("remote");
    let out = build_from(
        &server,
        "s3://corpus/fixtures/",
        &remote,
        &["--max-seq-len", "64"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let local = tmp.path().join("local");
    build_ok(&fixtures(), &local, &["--max-seq-len", "64"]);
    assert!(shard_bytes(&remote) == shard_bytes(&local));

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
        .envs(credentials(&server.endpoint))
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
    let dead = Server {
        child: Command::new("true").spawn().unwrap(),
        endpoint: "http://127.0.0.1:9".into(),
    };
    let run = build_from(&dead, "s3://corpus/x/", &out, &[]);
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(
        !run.status.success() && err.contains("s3://corpus/x/"),
        "{err}"
    );
    assert!(!out.join("manifest.json").exists());
    // The output goes to a directory, never to a bucket.
    let run = bertprep(&[
        "build",
        "--in",
        fixtures().to_str().unwrap(),
        "--out",
        "s3://corpus/out/",
    ]);
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(
        !run.status.success() && err.contains("--out must be a local"),
        "{err}"
    );
}
