//! The emulator's file store: records in creation order, scoped by workspace and provider, with
//! their bytes on disk in a private directory held open ([`StorageDir`]).

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use crate::dir::{StorageDir, random_name};

/// The workspace a key uses when a request names none.
pub const DEFAULT_WORKSPACE: &str = "00000000-0000-4000-8000-000000000000";

/// One stored file.
#[derive(Debug, Clone)]
pub(crate) struct StoredFile {
    pub(crate) seq: u64,
    pub(crate) id: String,
    pub(crate) scope: Scope,
    pub(crate) filename: String,
    pub(crate) mime_type: String,
    pub(crate) size_bytes: u64,
    pub(crate) created_at: i64,
    pub(crate) downloadable: bool,
}

/// Where a file lives: a workspace, and the provider storage it was put in (None: OpenRouter's).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Scope {
    pub(crate) workspace: String,
    pub(crate) provider: Option<String>,
}

/// An upload's or a seed's bytes on their way in: a file of the store's directory under an
/// unpredictable name, removed when this is dropped unless [`Store::insert`] took it.
pub(crate) struct Temp {
    dir: Arc<StorageDir>,
    name: String,
}

impl Drop for Temp {
    fn drop(&mut self) {
        // Gone already when stored (renamed) or when the server stopped.
        let _ = self.dir.remove(&self.name);
    }
}

/// All files, in creation order.
pub(crate) struct Store {
    dir: Arc<StorageDir>,
    /// The server stopped: its directory is gone and no file may be made.
    closed: bool,
    next_seq: u64,
    id_prefix: &'static str,
    files: BTreeMap<u64, StoredFile>,
    by_id: HashMap<String, u64>,
}

impl Store {
    /// Creates an empty store with its own directory under `parent` (default: the system temp
    /// dir), which must exist.
    pub(crate) fn new(parent: Option<&Path>, id_prefix: &'static str) -> std::io::Result<Store> {
        let parent = parent.map_or_else(std::env::temp_dir, Path::to_path_buf);
        let dir = StorageDir::create(&parent).map_err(|e| {
            std::io::Error::new(
                e.kind(),
                format!(
                    "cannot make the emulator's storage directory in {}: {e}",
                    parent.display()
                ),
            )
        })?;
        Ok(Store {
            dir: Arc::new(dir),
            closed: false,
            next_seq: 1,
            id_prefix,
            files: BTreeMap::new(),
            by_id: HashMap::new(),
        })
    }

    /// The path of the store's own directory.
    pub(crate) fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// A new file for incoming bytes, under a fresh unpredictable name, unless the store is
    /// closed: under the store's lock, so no file appears while [`Store::close`] empties the
    /// directory.
    pub(crate) fn temp(&self) -> std::io::Result<(Temp, File)> {
        if self.closed {
            return Err(std::io::Error::other("the emulator has stopped"));
        }
        loop {
            let name = random_name(".incoming-");
            match self.dir.create_new(&name) {
                Ok(file) => {
                    let dir = Arc::clone(&self.dir);
                    return Ok((Temp { dir, name }, file));
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Opens `temp` again for reading (to tell its type).
    pub(crate) fn open_temp(&self, temp: &Temp) -> std::io::Result<File> {
        self.dir.open(&temp.name)
    }

    /// Opens a stored file's bytes for reading.
    pub(crate) fn open(&self, file: &StoredFile) -> std::io::Result<File> {
        self.dir.open(&file.id)
    }

    /// Removes the store's directory with every file in it, now, and refuses new files: the
    /// server stopped. (Serving threads can outlive the server for a while, and the process
    /// may end before they do, so the directory cannot wait for the store to be dropped.)
    pub(crate) fn close(&mut self) {
        if !self.closed {
            self.closed = true;
            self.dir.remove_all();
        }
    }

    /// Takes ownership of the bytes in `temp` and records them as a new file.
    pub(crate) fn insert(
        &mut self,
        scope: Scope,
        filename: String,
        mime_type: String,
        temp: &Temp,
        downloadable: bool,
    ) -> std::io::Result<StoredFile> {
        let seq = self.next_seq;
        self.next_seq += 1;
        let id = format!("{}{}", self.id_prefix, file_id_suffix(seq));
        let size_bytes = self.dir.open(&temp.name)?.metadata()?.len();
        self.dir.rename(&temp.name, &id)?;
        let file = StoredFile {
            seq,
            id: id.clone(),
            scope,
            filename,
            mime_type,
            size_bytes,
            created_at: crate::wire::now_unix(),
            downloadable,
        };
        self.by_id.insert(id, seq);
        self.files.insert(seq, file.clone());
        Ok(file)
    }

    /// The file with `id` in `scope`, if any.
    pub(crate) fn get(&self, scope: &Scope, id: &str) -> Option<&StoredFile> {
        let seq = self.by_id.get(id)?;
        self.files.get(seq).filter(|f| &f.scope == scope)
    }

    /// Removes the file with `id` in `scope`; false when there is none.
    pub(crate) fn remove(&mut self, scope: &Scope, id: &str) -> bool {
        let Some(seq) = self.get(scope, id).map(|f| f.seq) else {
            return false;
        };
        self.by_id.remove(id);
        if let Some(file) = self.files.remove(&seq) {
            let _ = self.dir.remove(&file.id);
        }
        true
    }

    /// Up to `limit` files of `scope` strictly after (or, descending, before) `from_seq`.
    pub(crate) fn page(
        &self,
        scope: &Scope,
        from_seq: Option<u64>,
        descending: bool,
        limit: usize,
    ) -> Vec<&StoredFile> {
        let in_scope = |f: &&StoredFile| &f.scope == scope;
        match (descending, from_seq) {
            (false, from) => self
                .files
                .range(
                    from.map_or(Some(0), |s| s.checked_add(1))
                        .unwrap_or(u64::MAX)..,
                )
                .map(|(_, f)| f)
                .filter(in_scope)
                .take(limit)
                .collect(),
            (true, from) => self
                .files
                .range(..from.unwrap_or(u64::MAX))
                .rev()
                .map(|(_, f)| f)
                .filter(in_scope)
                .take(limit)
                .collect(),
        }
    }

    /// Whether `seq` is a position a cursor of this store can hold: one already handed out.
    pub(crate) fn is_position(&self, seq: u64) -> bool {
        seq < self.next_seq
    }

    /// The creation sequence number of `id`, in any scope.
    pub(crate) fn seq_of(&self, id: &str) -> Option<u64> {
        self.by_id.get(id).copied()
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        self.close();
    }
}

/// 24 characters in the style of the API's ids (`011CNha8iCJcU1wXNR6q4V8w`): eight from the
/// sequence number, so ids are unique within a store, and sixteen from the clock.
fn file_id_suffix(seq: u64) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let mut out = base62(seq, 8);
    out.push_str(&base62(nanos.wrapping_mul(0x9E37_79B9_7F4A_7C15), 16));
    out
}

/// `value` in base 62, left-padded to `width` digits (higher digits are dropped).
fn base62(mut value: u64, width: usize) -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut digits = vec![b'0'; width];
    for slot in digits.iter_mut().rev() {
        *slot = ALPHABET[(value % 62) as usize];
        value /= 62;
    }
    String::from_utf8(digits).unwrap_or_default()
}

/// Encodes a list position as the opaque cursor the API hands out (base64url JSON).
pub(crate) fn encode_cursor(seq: u64, descending: bool) -> String {
    let key = if descending { "before" } else { "after" };
    base64url_encode(format!("{{\"{key}\":{seq}}}").as_bytes())
}

/// Decodes a cursor made by [`encode_cursor`] into its position and direction.
pub(crate) fn decode_cursor(cursor: &str) -> Option<(u64, bool)> {
    let json = base64url_decode(cursor)?;
    let value: serde_json::Value = serde_json::from_slice(&json).ok()?;
    match (value.get("after"), value.get("before")) {
        (Some(after), None) => Some((after.as_u64()?, false)),
        (None, Some(before)) => Some((before.as_u64()?, true)),
        _ => None,
    }
}

const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

fn base64url_encode(bytes: &[u8]) -> String {
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | u32::from(*b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(B64[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

fn base64url_decode(text: &str) -> Option<Vec<u8>> {
    let text = text.trim_end_matches('=');
    let mut out = Vec::new();
    for chunk in text.as_bytes().chunks(4) {
        if chunk.len() == 1 {
            return None;
        }
        let mut n = 0u32;
        for (i, c) in chunk.iter().enumerate() {
            let v = B64.iter().position(|b| b == c)? as u32;
            n |= v << (18 - 6 * i);
        }
        for i in 0..chunk.len() - 1 {
            out.push((n >> (16 - 8 * i)) as u8);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips_and_matches_standard_base64url() {
        assert_eq!(base64url_encode(b"{\"after\":7}"), "eyJhZnRlciI6N30");
        for seq in [0, 1, 99, 123_456_789] {
            assert_eq!(
                decode_cursor(&encode_cursor(seq, false)),
                Some((seq, false))
            );
            assert_eq!(decode_cursor(&encode_cursor(seq, true)), Some((seq, true)));
        }
        assert_eq!(decode_cursor("!!"), None);
        assert_eq!(
            decode_cursor("eyJjdXJzb3IiOiJvcl9maWxlXzAxMUNOaGE4aUNKY1Uxd1hOUjZxNFY4dyJ9"),
            None
        );
    }

    /// A store's directory name cannot be guessed ahead (a planted one is never taken), and a
    /// closed store removes its own directory only.
    #[test]
    fn store_directories_have_unpredictable_names_and_close_removes_only_them() {
        let parent = std::env::temp_dir().join(format!("store-test-{}", std::process::id()));
        std::fs::create_dir_all(&parent).unwrap();
        std::fs::write(parent.join("precious"), b"not the store's").unwrap();
        let a = Store::new(Some(&parent), "x_").unwrap();
        let b = Store::new(Some(&parent), "x_").unwrap();
        let (a_dir, b_dir) = (a.dir().to_path_buf(), b.dir().to_path_buf());
        let name = |p: &Path| p.file_name().unwrap().to_string_lossy().into_owned();
        assert_ne!(a_dir, b_dir);
        assert!(!name(&a_dir).contains(&std::process::id().to_string()));
        drop(a);
        drop(b);
        let left: Vec<_> = std::fs::read_dir(&parent).unwrap().flatten().collect();
        let _ = std::fs::remove_dir_all(&parent);
        assert_eq!(left.len(), 1, "{left:?}");
        assert_eq!(left[0].file_name(), "precious");
    }

    #[test]
    fn ids_are_unique_and_shaped_like_the_api() {
        let a = file_id_suffix(1);
        let b = file_id_suffix(2);
        assert_ne!(a, b);
        assert_eq!(a.len(), 24);
        assert!(a.bytes().all(|c| c.is_ascii_alphanumeric()));
    }
}
