//! Object storage: `s3://`, `gs://`, `az://` (and `abfs://`) and `https://` locations, through
//! the Arrow project's `object_store` crate — inputs listed and read, and the uploads, checks
//! and fetches of an `--out` there ([`upload`], [`sha256`], [`fetch`]).
//!
//! A location names one object or, ending in `/` or naming no object, every object under that
//! prefix (sorted, names starting with `.` or `_` skipped, as the local walk skips hidden
//! entries). [`RemoteFile`] reads an object as a seekable stream of range requests (64 KiB
//! after an open or a seek, doubling while reading on, up to [`BLOCK_BYTES`]), so the unit
//! plan's cut pieces fetch little more than their own byte ranges, as they read on disk.
//! Credentials and endpoints come from each cloud's standard environment variables
//! (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`, `AWS_ENDPOINT`,
//! `AWS_ALLOW_HTTP`, `GOOGLE_SERVICE_ACCOUNT`, `GOOGLE_APPLICATION_CREDENTIALS`,
//! `AZURE_STORAGE_ACCOUNT_NAME`, ...) and, for S3, from AWS's shared files
//! (`~/.aws/credentials` and `~/.aws/config`, profile `AWS_PROFILE`); requests are
//! retried with exponential backoff by `object_store`. A failed request is an error naming the
//! location.
//!
//! `object_store` is asynchronous; one small tokio runtime, started on first use, drives every
//! request, and callers block on it.

use std::collections::HashMap;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use bytes::Bytes;
use futures::TryStreamExt;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt};

use super::InputFile;
use crate::error::{Error, Result};

/// Most bytes fetched by one range request.
pub const BLOCK_BYTES: u64 = 4 << 20;

/// Bytes fetched by the first request after an open or a seek; each request after it in
/// sequence fetches twice the last, up to [`BLOCK_BYTES`], so a short read (a file's head, the
/// end of a piece) costs little and a long one few requests.
const FIRST_FETCH: u64 = 64 << 10;

const SCHEMES: [&str; 6] = ["s3://", "gs://", "az://", "abfs://", "https://", "http://"];

/// Whether `path` is an object-storage location rather than a local path.
pub fn is_remote(path: &Path) -> bool {
    path.to_str()
        .is_some_and(|s| SCHEMES.iter().any(|scheme| s.starts_with(scheme)))
}

fn runtime() -> Result<&'static tokio::runtime::Runtime> {
    static RUNTIME: OnceLock<std::result::Result<tokio::runtime::Runtime, String>> =
        OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .thread_name("bertprep-store")
                .enable_all()
                .build()
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| Error::Internal(format!("cannot start the object-store runtime: {e}")))
}

/// A store and the object path of `location` (stores are shared per bucket).
fn resolve(location: &Path) -> Result<(Arc<dyn ObjectStore>, ObjectPath, String)> {
    static STORES: OnceLock<Mutex<HashMap<String, Arc<dyn ObjectStore>>>> = OnceLock::new();
    let text = location.to_string_lossy().into_owned();
    let url = url::Url::parse(&text).map_err(|e| remote_error(location, e))?;
    let root = format!("{}://{}", url.scheme(), url.authority());
    // The AWS files first, so that the environment's settings win, as in AWS's own tools.
    let files = match url.scheme() {
        "s3" | "s3a" => aws_file_options(),
        // A location written with http:// asks for plain HTTP.
        "http" => vec![("allow_http".to_string(), "true".to_string())],
        _ => Vec::new(),
    };
    let options = files.into_iter().chain(std::env::vars());
    let (store, path) =
        object_store::parse_url_opts(&url, options).map_err(|e| remote_error(location, e))?;
    let mut stores = STORES
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let store = stores
        .entry(root.clone())
        .or_insert_with(|| Arc::from(store));
    Ok((store.clone(), path, root))
}

/// Settings of the AWS shared files for the profile `AWS_PROFILE` (else `default`): keys, session
/// token from the credentials file (`AWS_SHARED_CREDENTIALS_FILE`, else
/// `~/.aws/credentials`), region and endpoint from the config file (`AWS_CONFIG_FILE`, else
/// `~/.aws/config`), as `object_store` option pairs. Missing files give nothing.
fn aws_file_options() -> Vec<(String, String)> {
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let file = |var: &str, name: &str| {
        std::env::var_os(var)
            .map(PathBuf::from)
            .or_else(|| home.as_ref().map(|h| h.join(".aws").join(name)))
    };
    let profile = std::env::var("AWS_PROFILE").unwrap_or_else(|_| "default".into());
    let mut options = Vec::new();
    let sections = [
        (
            file("AWS_SHARED_CREDENTIALS_FILE", "credentials"),
            profile.clone(),
        ),
        (
            file("AWS_CONFIG_FILE", "config"),
            match profile.as_str() {
                "default" => profile.clone(),
                other => format!("profile {other}"),
            },
        ),
    ];
    for (path, section) in sections {
        let Some(text) = path.and_then(|p| std::fs::read_to_string(p).ok()) else {
            continue;
        };
        let mut inside = false;
        for line in text.lines().map(str::trim) {
            if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                inside = name.trim() == section;
            } else if let (true, Some((key, value))) = (inside, line.split_once('=')) {
                let key = match key.trim() {
                    "aws_access_key_id" => "aws_access_key_id",
                    "aws_secret_access_key" => "aws_secret_access_key",
                    "aws_session_token" => "aws_session_token",
                    "region" => "aws_region",
                    "endpoint_url" => "aws_endpoint",
                    _ => continue,
                };
                options.push((key.to_string(), value.trim().to_string()));
            }
        }
    }
    options
}

fn remote_error(location: &Path, e: impl std::fmt::Display) -> Error {
    Error::io(location, std::io::Error::other(e.to_string()))
}

/// The objects `location` names: itself, or everything under it as a prefix.
pub fn discover(location: &Path) -> Result<Vec<InputFile>> {
    let (store, path, root) = resolve(location)?;
    let rt = runtime()?;
    let text = location.to_string_lossy();
    if !text.ends_with('/') {
        if let Ok(meta) = rt.block_on(store.head(&path)) {
            return Ok(vec![InputFile {
                path: location.to_path_buf(),
                bytes: meta.size,
            }]);
        }
    }
    let prefix = (!path.as_ref().is_empty()).then_some(&path);
    let mut found: Vec<InputFile> = rt
        .block_on(store.list(prefix).try_collect::<Vec<_>>())
        .map_err(|e| remote_error(location, e))?
        .into_iter()
        .filter(|meta| {
            meta.location
                .parts()
                .all(|p| !p.as_ref().starts_with(['.', '_']))
        })
        .map(|meta| InputFile {
            path: PathBuf::from(format!("{root}/{}", meta.location)),
            bytes: meta.size,
        })
        .collect();
    found.sort_by(|a, b| a.path.cmp(&b.path));
    if found.is_empty() {
        return Err(remote_error(location, "no object there, nor under it"));
    }
    Ok(found)
}

/// An object read through range requests, with the `Read` and `Seek` of a file.
pub struct RemoteFile {
    location: PathBuf,
    store: Arc<dyn ObjectStore>,
    path: ObjectPath,
    size: u64,
    pos: u64,
    block: Bytes,
    block_start: u64,
    /// Bytes the next request fetches.
    fetch: u64,
}

impl RemoteFile {
    /// Opens the object at `location`.
    pub fn open(location: &Path) -> Result<RemoteFile> {
        let (store, path, _) = resolve(location)?;
        let meta = runtime()?
            .block_on(store.head(&path))
            .map_err(|e| remote_error(location, e))?;
        Ok(RemoteFile {
            location: location.to_path_buf(),
            store,
            path,
            size: meta.size,
            pos: 0,
            block: Bytes::new(),
            block_start: 0,
            fetch: FIRST_FETCH,
        })
    }
}

impl Read for RemoteFile {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.pos >= self.size || buf.is_empty() {
            return Ok(0);
        }
        let in_block =
            self.pos >= self.block_start && self.pos < self.block_start + self.block.len() as u64;
        if !in_block {
            // Reading on from the last block: fetch more at a time.
            let sequential = self.pos == self.block_start + self.block.len() as u64;
            self.fetch = if sequential && !self.block.is_empty() {
                (self.fetch * 2).min(BLOCK_BYTES)
            } else {
                FIRST_FETCH
            };
            let end = (self.pos + self.fetch.max(buf.len() as u64)).min(self.size);
            let rt = runtime().map_err(|e| std::io::Error::other(e.to_string()))?;
            self.block = rt
                .block_on(self.store.get_range(&self.path, self.pos..end))
                .map_err(|e| std::io::Error::other(format!("{}: {e}", self.location.display())))?;
            self.block_start = self.pos;
            if self.block.is_empty() {
                return Ok(0);
            }
        }
        let offset = (self.pos - self.block_start) as usize;
        let n = buf.len().min(self.block.len() - offset);
        buf[..n].copy_from_slice(&self.block[offset..offset + n]);
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for RemoteFile {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        let pos = match to {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::End(d) => self.size.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        self.pos = pos.ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::InvalidInput, "seek before the start")
        })?;
        Ok(self.pos)
    }
}

/// A Parquet file in object storage, read as the Parquet reader asks: its footer and each
/// column chunk by range requests.
pub struct RemoteParquet(RemoteFile);

impl RemoteParquet {
    /// Opens the object at `location`.
    pub fn open(location: &Path) -> Result<RemoteParquet> {
        RemoteFile::open(location).map(RemoteParquet)
    }
}

impl parquet::file::reader::Length for RemoteParquet {
    fn len(&self) -> u64 {
        self.0.size
    }
}

impl parquet::file::reader::ChunkReader for RemoteParquet {
    type T = RemoteFile;

    fn get_read(&self, start: u64) -> parquet::errors::Result<RemoteFile> {
        let f = &self.0;
        Ok(RemoteFile {
            location: f.location.clone(),
            store: f.store.clone(),
            path: f.path.clone(),
            size: f.size,
            pos: start,
            block: Bytes::new(),
            block_start: 0,
            fetch: FIRST_FETCH,
        })
    }

    fn get_bytes(&self, start: u64, length: usize) -> parquet::errors::Result<Bytes> {
        let f = &self.0;
        let external = |e: Error| parquet::errors::ParquetError::External(Box::new(e));
        runtime()
            .map_err(external)?
            .block_on(f.store.get_range(&f.path, start..start + length as u64))
            .map_err(|e| external(remote_error(&f.location, e)))
    }
}

/// A file or an object, open for reading.
pub trait ReadSeek: Read + Seek + Send {}

impl<T: Read + Seek + Send> ReadSeek for T {}

/// Opens `path`, a local file or an object-storage location, for reading.
pub fn open(path: &Path) -> Result<Box<dyn ReadSeek>> {
    if is_remote(path) {
        return Ok(Box::new(RemoteFile::open(path)?));
    }
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    Ok(Box::new(file))
}

/// `name` under the prefix `location`.
pub fn child(location: &Path, name: &str) -> PathBuf {
    let base = location.to_string_lossy();
    PathBuf::from(format!("{}/{name}", base.trim_end_matches('/')))
}

/// The size of the object at `location`, or `None` where there is none.
pub fn size(location: &Path) -> Result<Option<u64>> {
    let (store, path, _) = resolve(location)?;
    match runtime()?.block_on(store.head(&path)) {
        Ok(meta) => Ok(Some(meta.size)),
        Err(object_store::Error::NotFound { .. }) => Ok(None),
        Err(e) => Err(remote_error(location, e)),
    }
}

/// The whole object at `location` (a manifest: small).
pub fn fetch(location: &Path) -> Result<Vec<u8>> {
    let (store, path, _) = resolve(location)?;
    let rt = runtime()?;
    let bytes = rt
        .block_on(async { store.get(&path).await?.bytes().await })
        .map_err(|e| remote_error(location, e))?;
    Ok(bytes.to_vec())
}

/// The names and sizes of the objects directly under the prefix `location`.
pub fn list_names(location: &Path) -> Result<Vec<(String, u64)>> {
    Ok(list_objects(location)?
        .into_iter()
        .map(|(name, meta)| (name, meta.size))
        .collect())
}

/// The names and metadata of the objects directly under the prefix `location`.
fn list_objects(location: &Path) -> Result<Vec<(String, object_store::ObjectMeta)>> {
    let (store, path, _) = resolve(location)?;
    let listed = runtime()?
        .block_on(store.list_with_delimiter(Some(&path)))
        .map_err(|e| remote_error(location, e))?;
    Ok(listed
        .objects
        .into_iter()
        .filter_map(|m| Some((m.location.filename()?.to_string(), m)))
        .collect())
}

/// Hex SHA-256 of the object at `location`, streamed.
pub fn sha256(location: &Path) -> Result<String> {
    crate::output::manifest::sha256_read(location, RemoteFile::open(location)?)
}

/// Uploads the local `file` to `location` as a multipart upload, which the store makes
/// visible only once complete (aborted on an error). An `https://` or `http://` location is a
/// WebDAV server, which has no multipart uploads: the file is put whole under a hidden name
/// beside `location` (`.NAME.partial`, skipped by listings) and then moved there (WebDAV
/// `COPY` and `DELETE`), so `location` too only ever holds a complete file.
pub fn upload(file: &Path, location: &Path) -> Result<()> {
    let (store, path, root) = resolve(location)?;
    if root.starts_with("http") {
        return put_then_move(store.as_ref(), file, &path, location);
    }
    let mut local = std::fs::File::open(file).map_err(|e| Error::io(file, e))?;
    let result: Result<()> = runtime()?.block_on(async {
        let upload = store
            .put_multipart(&path)
            .await
            .map_err(|e| remote_error(location, e))?;
        let mut writer = object_store::WriteMultipart::new(upload);
        let mut buf = vec![0u8; 8 << 20];
        loop {
            let n = match local.read(&mut buf) {
                Ok(n) => n,
                Err(e) => {
                    let _ = writer.abort().await;
                    return Err(Error::io(file, e));
                }
            };
            if n == 0 {
                break;
            }
            if let Err(e) = writer.wait_for_capacity(4).await {
                return Err(remote_error(location, e));
            }
            writer.write(&buf[..n]);
        }
        writer
            .finish()
            .await
            .map_err(|e| remote_error(location, e))?;
        Ok(())
    });
    result
}

/// [`upload`] to a store without multipart uploads: `file` is read into memory (one shard at
/// a time), put under a temporary name, and moved to `path`.
fn put_then_move(
    store: &dyn ObjectStore,
    file: &Path,
    path: &ObjectPath,
    location: &Path,
) -> Result<()> {
    let name = path
        .filename()
        .ok_or_else(|| remote_error(location, "no object name to upload to"))?;
    let temp: ObjectPath = path
        .parts()
        .take(path.parts().count() - 1)
        .chain([format!(".{name}.partial").into()])
        .collect();
    let bytes = std::fs::read(file).map_err(|e| Error::io(file, e))?;
    runtime()?
        .block_on(async {
            store.put(&temp, bytes.into()).await?;
            store.rename(&temp, path).await
        })
        .map_err(|e| remote_error(location, e))?;
    Ok(())
}

/// A local copy of `location` for the readers of finished builds (`inspect`, `export`,
/// `bert-train`): for a prefix, the directory of the objects directly under it; for an object,
/// that object in the copy of its prefix. An object already copied is not fetched again while
/// the store reports the same version of it (size, entity tag and modification time, kept
/// beside the copy as `.NAME.version`). A local path is returned as it is.
pub fn local_copy(location: &Path) -> Result<PathBuf> {
    if !is_remote(location) {
        return Ok(location.to_path_buf());
    }
    let text = location.to_string_lossy();
    let object = !text.ends_with('/') && size(location)?.is_some();
    let (prefix, name) = match text.rsplit_once('/') {
        Some((prefix, name)) if object => (PathBuf::from(prefix), Some(name.to_string())),
        _ => (location.to_path_buf(), None),
    };
    let prefix_text = prefix.to_string_lossy();
    let dir = temp_dir_for("copy", prefix_text.trim_end_matches('/'));
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    let objects = list_objects(&prefix)?;
    if objects.is_empty() {
        return Err(remote_error(location, "no object there, nor under it"));
    }
    for (object, meta) in objects {
        let to = dir.join(&object);
        let version_file = dir.join(format!(".{object}.version"));
        let version = format!(
            "{} {} {}",
            meta.size,
            meta.e_tag.as_deref().unwrap_or("-"),
            meta.last_modified.to_rfc3339()
        );
        let copied = std::fs::read_to_string(&version_file).is_ok_and(|v| v == version)
            && std::fs::metadata(&to).is_ok_and(|m| m.len() == meta.size);
        if copied {
            continue;
        }
        let from = child(&prefix, &object);
        let mut remote = RemoteFile::open(&from)?;
        let tmp = crate::output::layout::temp_path(&to);
        let copied = std::fs::File::create(&tmp)
            .and_then(|mut f| std::io::copy(&mut remote, &mut f).and_then(|_| f.sync_all()))
            .and_then(|_| std::fs::rename(&tmp, &to));
        if let Err(e) = copied {
            let _ = std::fs::remove_file(&tmp);
            return Err(Error::io(&from, e));
        }
        std::fs::write(&version_file, version).map_err(|e| Error::io(&version_file, e))?;
    }
    Ok(match name {
        Some(name) => dir.join(name),
        None => dir,
    })
}

/// The local directory a build for the object-storage location `out` is made in before it is
/// uploaded: the same for every run, so a killed build resumes there.
pub fn staging_dir(out: &Path) -> PathBuf {
    temp_dir_for("out", &out.to_string_lossy())
}

/// `bertprep-KIND-HASH` under the system's temporary directory, HASH from `location`: the same
/// directory for the same location in every run.
fn temp_dir_for(kind: &str, location: &str) -> PathBuf {
    use sha2::{Digest, Sha256};
    let digest = crate::tokenize::hex(&Sha256::digest(location.as_bytes()));
    std::env::temp_dir().join(format!("bertprep-{kind}-{}", &digest[..16]))
}
#[cfg(test)]
mod tests {
    use super::*;
    use object_store::memory::InMemory;
    use object_store::PutPayload;

    #[test]
    fn short_reads_fetch_little_and_reading_on_fetches_more() {
        let store: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
        let path = ObjectPath::from("corpus/a.txt");
        let data: Vec<u8> = (0..20u32 << 20).map(|i| (i % 251) as u8).collect();
        let rt = runtime().unwrap();
        rt.block_on(store.put(&path, PutPayload::from(data.clone())))
            .unwrap();
        let mut f = RemoteFile {
            location: PathBuf::from("mem://corpus/a.txt"),
            store,
            path,
            size: data.len() as u64,
            pos: 0,
            block: Bytes::new(),
            block_start: 0,
            fetch: FIRST_FETCH,
        };
        let mut head = [0u8; 16];
        f.read_exact(&mut head).unwrap();
        assert_eq!(&head[..], &data[..16]);
        assert_eq!(
            f.block.len() as u64,
            FIRST_FETCH,
            "a head read fetches 64 KiB"
        );
        // Reading on doubles each fetch, up to the block size.
        let mut sizes = Vec::new();
        let mut buf = vec![0u8; 1 << 16];
        while f.pos < 12 << 20 {
            let before = f.block_start;
            f.read_exact(&mut buf).unwrap();
            if f.block_start != before {
                sizes.push(f.block.len() as u64 >> 10);
            }
        }
        assert_eq!(&sizes[..7], [128, 256, 512, 1024, 2048, 4096, 4096]);
        // A seek starts small again, and reads what is there.
        f.seek(SeekFrom::Start(19 << 20)).unwrap();
        f.read_exact(&mut head).unwrap();
        assert_eq!(&head[..], &data[19 << 20..(19 << 20) + 16]);
        assert_eq!(f.block.len() as u64, FIRST_FETCH);
        f.seek(SeekFrom::End(-3)).unwrap();
        let mut rest = Vec::new();
        f.read_to_end(&mut rest).unwrap();
        assert_eq!(rest, &data[data.len() - 3..]);
    }
}
