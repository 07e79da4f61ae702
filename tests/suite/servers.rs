//! Local object-storage servers for the tests, each on a free port and stopped on drop: moto's
//! S3 server and wsgidav's WebDAV server, both speaking their real protocols over HTTP
//! (`.ci/run` installs them). Callers check first that python3 imports them. Shared with the
//! trainer's tests (`crates/bert-train/tests`).

#![allow(dead_code)]

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A server process, stopped on drop.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// A server that is not there: its endpoint refuses connections.
    pub fn dead() -> Server {
        Server {
            child: Command::new("true").spawn().unwrap(),
            endpoint: "http://127.0.0.1:9".into(),
        }
    }

    /// The environment of a client of this S3 server.
    pub fn s3_credentials(&self) -> [(&'static str, String); 5] {
        [
            ("AWS_ACCESS_KEY_ID", "test".into()),
            ("AWS_SECRET_ACCESS_KEY", "test".into()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_ENDPOINT", self.endpoint.clone()),
            ("AWS_ALLOW_HTTP", "true".into()),
        ]
    }

    /// Downloads every object under `prefix` of bucket `corpus` of this S3 server into `dir`.
    pub fn s3_download(&self, prefix: &str, dir: &Path) {
        std::fs::create_dir_all(dir).unwrap();
        python(&format!(
            "{}for o in s3.list_objects_v2(Bucket='corpus', Prefix='{prefix}').get('Contents', []):\n    \
             s3.download_file('corpus', o['Key'], os.path.join({:?}, os.path.basename(o['Key'])))\n",
            self.boto3(),
            dir.to_str().unwrap()
        ));
    }

    fn boto3(&self) -> String {
        format!(
            "import boto3, os\n\
             s3 = boto3.client('s3', endpoint_url='{}', aws_access_key_id='test', \
             aws_secret_access_key='test', region_name='us-east-1')\n",
            self.endpoint
        )
    }
}

/// A moto S3 server whose bucket `corpus` holds `files` (`(key, local path)`).
pub fn s3(files: &[(&str, &Path)]) -> Server {
    let server = start("moto.server", &["-H", "127.0.0.1", "-p"], &[]);
    let uploads: Vec<String> = files
        .iter()
        .map(|(key, path)| format!("({key:?}, {:?})", path.to_str().unwrap()))
        .collect();
    python(&format!(
        "{}s3.create_bucket(Bucket='corpus')\n\
         for key, path in [{}]:\n    s3.upload_file(path, 'corpus', key)\n",
        server.boto3(),
        uploads.join(", ")
    ));
    server
}

/// A wsgidav WebDAV server serving the directory `root`, anonymous, read and write.
pub fn webdav(root: &Path) -> Server {
    let root = format!("--root={}", root.to_str().unwrap());
    start(
        "wsgidav.server.server_cli",
        &["--host=127.0.0.1", "--auth=anonymous", "-q", "--port"],
        &[&root],
    )
}

/// `python3 -m MODULE ARGS PORT REST`, waited for until the port accepts connections.
fn start(module: &str, args: &[&str], rest: &[&str]) -> Server {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new("python3")
        .args(["-m", module])
        .args(args)
        .arg(port.to_string())
        .args(rest)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("start {module}: {e}"));
    let server = Server {
        child,
        endpoint: format!("http://127.0.0.1:{port}"),
    };
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "{module} did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    server
}

fn python(script: &str) {
    let out = Command::new("python3")
        .args(["-c", script])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
