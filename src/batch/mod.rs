//! Many operations at once: uploads, downloads, retrieves and deletes run by a few scoped
//! threads over one client, with per-item results, aggregate progress and early stop.
//!
//! No async runtime and no thread pool: a batch starts `concurrency` threads with
//! [`std::thread::scope`], each takes the next input, and all of them have ended when the call
//! returns. Each worker uses one pooled connection at a time, and the client's pool keeps
//! [`FilesClientBuilder::max_idle_connections`](crate::FilesClientBuilder::max_idle_connections)
//! idle (32 by default), so N workers use N TCP connections for the whole batch.

mod existing;
mod report;

use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

pub use report::{BatchItem, BatchProgress, BatchReport, Outcome};

use crate::client::FilesClient;
use crate::error::{Error, Result};
use crate::model::{FileDeleted, FileMetadata};
use crate::retry::Gate;
use crate::upload::Upload;

/// How many operations a batch runs at once unless [`Batch::concurrency`] says otherwise.
pub const DEFAULT_CONCURRENCY: usize = 4;

/// The most operations a batch runs at once, whatever [`Batch::concurrency`] asks.
pub const MAX_CONCURRENCY: usize = 256;

/// The aggregate progress callback; calls are serialized, so it may be `FnMut`.
type ProgressCallback<'a> = Box<dyn FnMut(&BatchProgress) + Send + 'a>;

/// Runs many operations with bounded concurrency; made by [`FilesClient::batch`].
///
/// Every method takes all its inputs, runs them on `concurrency` scoped threads and returns
/// a [`BatchReport`] with one [`BatchItem`] per input **in input order**. A report in input
/// order, rather than an iterator of results as they complete, is what scoped threads allow
/// (every worker has ended when the call returns, so nothing outlives it and nothing needs
/// `'static`) and it is what a script wants afterwards: zip it with the inputs, retry the
/// failed ones, print a summary. [`Batch::on_progress`] shows the batch moving while it runs.
///
/// # Partial failure
///
/// One item failing does not stop the others: the report holds its error
/// ([`Outcome::Failed`]) and the batch goes on, unless [`Batch::stop_on_error`] is set. Bad
/// input (a missing path, an empty file, one over the upload limit, an empty id) fails its
/// item with [`Error::InvalidInput`] or [`Error::Io`] before anything is sent for it. Each
/// operation has the client's usual retries; a `Retry-After` answer pauses **every** worker of
/// the batch until it has passed, not only the one that received it. When the batch stops
/// early (an error with `stop_on_error`, the [`cancel_flag`](Batch::cancel_flag), a panic),
/// operations already running finish (but one waiting to retry stops waiting and sends nothing
/// more) and the rest are [`Outcome::Skipped`]: nothing is left half-done. The batch never sends an upload twice on a guess: it is sent again only when it
/// never reached the server (the connection could not be made) or the server answered that it
/// did not take it (408, 429, 503); a server that stores a file and then answers 503 is the one
/// case it cannot see. An upload that failed *after* its request went out (a dropped
/// connection, a response timeout) may still have been stored, as with any single upload, even
/// though [`Error::is_retryable`] says that trying again may succeed: list before sending such
/// items again. A download writes each file atomically (see [`FilesClient::download_to`]), so a
/// failed one leaves no partial file behind.
///
/// # Panics
///
/// If a callback (the progress callback, or the closure given to [`Batch::run`] or
/// [`Batch::upload_each`]) panics, the batch stops as above and the panic is resumed on the
/// calling thread, with its original payload, once every worker has ended. It is never
/// swallowed.
///
/// # Examples
///
/// Upload a folder, 8 files at a time, and say what failed:
///
/// ```
/// # use openrouter_files::{FilesClient};
/// # use openrouter_files_emulator::Emulator;
/// # let server = Emulator::start()?;
/// # let client = FilesClient::builder().api_key(server.api_key()).base_url(server.base_url()).build()?;
/// # let folder = std::env::temp_dir().join(format!("batch-doc-{}", std::process::id()));
/// # std::fs::create_dir_all(&folder)?;
/// # std::fs::write(folder.join("a.txt"), "alpha")?;
/// # std::fs::write(folder.join("b.txt"), "beta")?;
/// # std::fs::write(folder.join("empty.txt"), "")?;
/// let paths = std::fs::read_dir(&folder)?
///     .map(|entry| entry.map(|e| e.path()))
///     .collect::<Result<Vec<_>, _>>()?;
/// let report = client.batch().concurrency(8).upload_paths(paths);
/// for (path, file) in report.done() {
///     println!("{}\t{}", file.id, path.display());
/// }
/// for (path, error) in report.failed() {
///     eprintln!("{}: {error}", path.display()); // empty.txt: the API rejects empty files
/// }
/// # assert_eq!((report.done().count(), report.failed().count()), (2, 1));
/// # std::fs::remove_dir_all(&folder)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// Download a list of ids into a folder (each file named by its id, written atomically):
///
/// ```
/// # use openrouter_files::{FilesClient};
/// # use openrouter_files_emulator::Emulator;
/// # let server = Emulator::builder().seed_file("out.jsonl", b"{}\n".to_vec()).start()?;
/// # let client = FilesClient::builder().api_key(server.api_key()).base_url(server.base_url()).build()?;
/// # let folder = std::env::temp_dir().join(format!("batch-doc-dl-{}", std::process::id()));
/// # std::fs::create_dir_all(&folder)?;
/// let ids: Vec<String> = client.list().into_iter().map(|f| f.map(|f| f.id)).collect::<Result<_, _>>()?;
/// let report = client.batch().download_to_dir(&ids, &folder);
/// if let Some(error) = report.first_error() {
///     eprintln!("{} of {} failed, first: {error}", report.failed().count(), report.len());
/// }
/// # assert!(report.is_success());
/// # assert_eq!(std::fs::read(folder.join(&ids[0]))?, b"{}\n");
/// # std::fs::remove_dir_all(&folder)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// Delete everything created before a date, stopping at the first failure:
///
/// ```
/// # use openrouter_files::{FilesClient};
/// # use openrouter_files_emulator::Emulator;
/// # let server = Emulator::builder().seed_file("old.txt", b"x".to_vec()).start()?;
/// # let client = FilesClient::builder().api_key(server.api_key()).base_url(server.base_url()).build()?;
/// let old: Vec<String> = client
///     .list()
///     .into_iter()
///     .filter(|f| f.as_ref().map_or(true, |f| f.created_at.as_str() < "2100-01-01"))
///     .map(|f| f.map(|f| f.id))
///     .collect::<Result<_, _>>()?;
/// let report = client.batch().stop_on_error(true).delete(&old);
/// println!("deleted {}, skipped {}", report.done().count(), report.skipped().count());
/// # assert!(report.is_success() && client.list().into_iter().next().is_none());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Batch<'a> {
    client: &'a FilesClient,
    concurrency: usize,
    stop_on_error: bool,
    skip_existing: bool,
    cancel: Option<&'a AtomicBool>,
    progress: Option<ProgressCallback<'a>>,
}

impl std::fmt::Debug for Batch<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batch")
            .field("concurrency", &self.concurrency)
            .field("stop_on_error", &self.stop_on_error)
            .field("skip_existing", &self.skip_existing)
            .field("cancel", &self.cancel)
            .finish_non_exhaustive()
    }
}

impl FilesClient {
    /// A [`Batch`] of operations run with bounded concurrency over this client (its
    /// workspace, retries and timeouts).
    ///
    /// ```
    /// # use openrouter_files::{FilesClient};
    /// # use openrouter_files_emulator::Emulator;
    /// # let server = Emulator::builder().seed_file("a.txt", b"a".to_vec()).start()?;
    /// # let client = FilesClient::builder().api_key(server.api_key()).base_url(server.base_url()).build()?;
    /// # let ids = vec![client.list().page()?.data[0].id.clone()];
    /// let report = client.batch().concurrency(16).retrieve(&ids);
    /// for (id, file) in report.done() {
    ///     println!("{id}\t{}\t{}", file.size_bytes, file.filename);
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn batch(&self) -> Batch<'_> {
        Batch {
            client: self,
            concurrency: DEFAULT_CONCURRENCY,
            stop_on_error: false,
            skip_existing: false,
            cancel: None,
            progress: None,
        }
    }
}

impl<'a> Batch<'a> {
    /// How many operations run at once (default [`DEFAULT_CONCURRENCY`]; 0 counts as 1, and
    /// more than [`MAX_CONCURRENCY`] as that). If the OS refuses a thread, the batch goes on
    /// with those it has, or on the calling thread. Keep it at or below the client's
    /// [`max_idle_connections`](crate::FilesClientBuilder::max_idle_connections), or the
    /// workers above it open a new connection for each operation.
    pub fn concurrency(mut self, workers: usize) -> Self {
        self.concurrency = workers.clamp(1, MAX_CONCURRENCY);
        self
    }

    /// Stops the batch at the first failed item: running operations finish, the rest are
    /// [`Outcome::Skipped`] (default: go on).
    pub fn stop_on_error(mut self, stop: bool) -> Self {
        self.stop_on_error = stop;
        self
    }

    /// Leaves out of [`Batch::upload_paths`] each file the workspace already holds under the
    /// same name with the same size: such an item is [`Outcome::Existing`] with the stored
    /// file, and nothing is sent for it. The workspace is listed once, before the first
    /// upload (default: off). Progress counts only the files to send.
    pub fn skip_existing(mut self, skip: bool) -> Self {
        self.skip_existing = skip;
        self
    }

    /// A flag the caller owns: once it is set (from any thread, such as a Ctrl-C handler), no
    /// new operation starts; running ones finish and the rest are [`Outcome::Skipped`]. A
    /// pause ends at once (the flag is looked at every 20 ms) and sends nothing more: an item
    /// waiting to retry (after a `Retry-After` or a backoff) fails with the answer it got, one
    /// held by the shared `Retry-After` before its first request is [`Outcome::Skipped`] (in
    /// [`Batch::run`] and [`Batch::download_to_dir`], whose items may make more than one
    /// request, it fails with [`Error::Cancelled`]). The same holds when
    /// [`Batch::stop_on_error`] or a panic stops the batch.
    pub fn cancel_flag(mut self, flag: &'a AtomicBool) -> Self {
        self.cancel = Some(flag);
        self
    }

    /// Calls `callback` with the batch's progress after each item and as upload bytes go
    /// out. Calls never overlap (they come from the workers, one at a time) and the counts
    /// never go down.
    ///
    /// ```
    /// # use openrouter_files::{FilesClient};
    /// # use openrouter_files_emulator::Emulator;
    /// # let server = Emulator::start()?;
    /// # let client = FilesClient::builder().api_key(server.api_key()).base_url(server.base_url()).build()?;
    /// let report = client
    ///     .batch()
    ///     .on_progress(|p| eprintln!("{}/{} files", p.files_done, p.files_total))
    ///     .delete(["or_file_gone"]);
    /// # assert_eq!(report.failed().count(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn on_progress(mut self, callback: impl FnMut(&BatchProgress) + Send + 'a) -> Self {
        self.progress = Some(Box::new(callback));
        self
    }

    /// Uploads each file under its own name (see [`FilesClient::upload_path`]). Paths that do
    /// not exist, are not regular files, are empty or are over the upload limit fail their
    /// item before anything is sent. Path uploads are retried like single ones.
    pub fn upload_paths<P: AsRef<Path>>(
        self,
        paths: impl IntoIterator<Item = P>,
    ) -> BatchReport<PathBuf, FileMetadata> {
        let paths: Vec<PathBuf> = paths
            .into_iter()
            .map(|p| p.as_ref().to_path_buf())
            .collect();
        if self.skip_existing {
            let client = self.client;
            let batch = Batch {
                skip_existing: false,
                ..self
            };
            return existing::skip(client, paths, |to_send| batch.upload_paths(to_send));
        }
        // Only what can be sent: the items refused before sending move no bytes.
        let limit = self.client.shared.upload_limit;
        let total = paths
            .iter()
            .filter_map(|p| std::fs::metadata(p).ok())
            .filter(|m| m.is_file() && (1..=limit).contains(&m.len()))
            .map(|m| m.len())
            .sum();
        self.execute(paths, Some(total), true, |worker, path| {
            let mut last = 0;
            let upload = Upload::path(path).on_progress(|sent, _| {
                worker.add_bytes(sent.saturating_sub(last));
                last = sent;
            });
            worker.client.upload(upload)
        })
    }

    /// Uploads one file per input, each built on its worker thread by `make` (from bytes, a
    /// reader, or a path with another name). The batch sets each upload's progress callback,
    /// replacing any `make` set.
    ///
    /// ```
    /// # use openrouter_files::{FilesClient};
    /// # use openrouter_files_emulator::Emulator;
    /// # let server = Emulator::start()?;
    /// # let client = FilesClient::builder().api_key(server.api_key()).base_url(server.base_url()).build()?;
    /// use openrouter_files::Upload;
    ///
    /// let rows = ["first", "second", "third"];
    /// let report = client
    ///     .batch()
    ///     .upload_each(rows, |row| Upload::bytes(&format!("{row}.txt"), row.as_bytes()));
    /// assert!(report.is_success());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn upload_each<I: Sync>(
        self,
        inputs: impl IntoIterator<Item = I>,
        make: impl for<'i> Fn(&'i I) -> Upload<'i> + Sync,
    ) -> BatchReport<I, FileMetadata> {
        self.execute(inputs.into_iter().collect(), None, true, |worker, input| {
            let mut last = 0;
            let upload = make(input).on_progress(|sent, _| {
                worker.add_bytes(sent.saturating_sub(last));
                last = sent;
            });
            worker.client.upload(upload)
        })
    }

    /// Downloads each file into `dir`, named by its id, atomically and with the retries of
    /// [`FilesClient::download_to`]. An id that cannot be a file name (empty, `.`, `..`, or
    /// containing `/`, `\` or NUL) fails its item before anything is sent. The value of each
    /// item is the path written and its size.
    pub fn download_to_dir<S: AsRef<str>>(
        self,
        ids: impl IntoIterator<Item = S>,
        dir: impl AsRef<Path>,
    ) -> BatchReport<String, Saved> {
        let dir = dir.as_ref();
        let ids = ids.into_iter().map(|id| id.as_ref().to_string()).collect();
        // Not one call: a download that resumes sends a second request.
        self.execute(ids, None, false, |worker, id| {
            let path = dir.join(file_name_for(id)?);
            let bytes = worker.client.download_to(id, &path)?;
            worker.add_bytes(bytes);
            Ok(Saved { path, bytes })
        })
    }

    /// Deletes each file (see [`FilesClient::delete`]).
    pub fn delete<S: AsRef<str>>(
        self,
        ids: impl IntoIterator<Item = S>,
    ) -> BatchReport<String, FileDeleted> {
        let ids = ids.into_iter().map(|id| id.as_ref().to_string()).collect();
        self.execute(ids, None, true, |worker, id| worker.client.delete(id))
    }

    /// Retrieves each file's metadata (see [`FilesClient::retrieve`]).
    pub fn retrieve<S: AsRef<str>>(
        self,
        ids: impl IntoIterator<Item = S>,
    ) -> BatchReport<String, FileMetadata> {
        let ids = ids.into_iter().map(|id| id.as_ref().to_string()).collect();
        self.execute(ids, None, true, |worker, id| worker.client.retrieve(id))
    }

    /// Runs `op` for each input: anything else a batch should do, with the same concurrency,
    /// stop rules, shared `Retry-After` pause and report. `op` gets the client to call. If the
    /// batch stops while a call of `op` waits at the shared pause before its first request,
    /// that call returns [`Error::Cancelled`] and sends nothing.
    ///
    /// ```
    /// # use openrouter_files::{FilesClient};
    /// # use openrouter_files_emulator::Emulator;
    /// # let server = Emulator::builder().seed_file("a.txt", b"a".to_vec()).start()?;
    /// # let client = FilesClient::builder().api_key(server.api_key()).base_url(server.base_url()).build()?;
    /// # let dir = std::env::temp_dir().join(format!("batch-doc-run-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir)?;
    /// # let id = client.list().page()?.data[0].id.clone();
    /// let wanted = vec![(id, dir.join("renamed.txt"))];
    /// let report = client
    ///     .batch()
    ///     .run(wanted, |client, (id, path)| client.download_to(id, path));
    /// # assert!(report.is_success());
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn run<I: Sync, T: Send>(
        self,
        inputs: impl IntoIterator<Item = I>,
        op: impl Fn(&FilesClient, &I) -> Result<T> + Sync,
    ) -> BatchReport<I, T> {
        self.execute(
            inputs.into_iter().collect(),
            None,
            false,
            |worker, input| op(worker.client, input),
        )
    }

    /// [`Batch::run`] for operations that move bytes themselves: `op` gets a callback that
    /// counts bytes sent, and `bytes_total` is the total progress announces.
    pub(crate) fn run_counting<I: Sync, T: Send>(
        self,
        inputs: Vec<I>,
        bytes_total: Option<u64>,
        op: impl Fn(&FilesClient, &I, &(dyn Fn(u64) + Sync)) -> Result<T> + Sync,
    ) -> BatchReport<I, T> {
        self.execute(inputs, bytes_total, false, |worker, input| {
            op(worker.client, input, &|bytes| worker.add_bytes(bytes))
        })
    }

    /// The one runner every method uses.
    ///
    /// `one_call`: each item is one request (and its retries), so one stopped at the gate
    /// before anything was sent is [`Outcome::Skipped`] (a [`Batch::run`] closure may have made
    /// other calls first, a download a first request before resuming, so there the item fails
    /// with [`Error::Cancelled`]).
    fn execute<I: Sync, T: Send>(
        self,
        inputs: Vec<I>,
        bytes_total: Option<u64>,
        one_call: bool,
        op: impl Fn(&Worker<'_, '_>, &I) -> Result<T> + Sync,
    ) -> BatchReport<I, T> {
        let mut client = self.client.clone();
        let gate = Arc::new(Gate::default());
        client.options.gate = Some(Arc::clone(&gate));
        let shared = Shared {
            gate: &gate,
            one_call,
            next: AtomicUsize::new(0),
            stop: AtomicBool::new(false),
            cancel: self.cancel,
            stop_on_error: self.stop_on_error,
            outcomes: inputs.iter().map(|_| Mutex::new(None)).collect(),
            panic: Mutex::new(None),
        };
        let meter = Meter {
            files_done: AtomicUsize::new(0),
            files_failed: AtomicUsize::new(0),
            bytes_done: AtomicU64::new(0),
            files_total: inputs.len(),
            bytes_total,
            callback: self.progress.map(Mutex::new),
        };
        let worker = Worker {
            client: &client,
            meter: &meter,
        };
        let caller = std::thread::current();
        let run = || {
            let result =
                panic::catch_unwind(AssertUnwindSafe(|| shared.work(&worker, &inputs, &op)));
            if let Err(payload) = result {
                shared.halt();
                lock(&shared.panic).get_or_insert(payload);
            }
            caller.unpark();
        };
        let threads = self.concurrency.min(inputs.len());
        run_on_threads(threads, self.cancel, || shared.halt(), run);
        gate.reopen();
        if let Some(payload) = lock(&shared.panic).take() {
            panic::resume_unwind(payload);
        }
        let items = inputs
            .into_iter()
            .zip(shared.outcomes)
            .map(|(input, outcome)| BatchItem {
                input,
                outcome: outcome
                    .into_inner()
                    .unwrap_or_else(|e| e.into_inner())
                    .unwrap_or(Outcome::Skipped),
            })
            .collect();
        BatchReport { items }
    }
}

/// Runs `run` on up to `threads` scoped threads (on this one when the OS gives none) and,
/// while they run, watches the caller's `cancel` flag for them: a paused worker cannot see it,
/// so this thread calls `halt` when the flag is set.
fn run_on_threads(
    threads: usize,
    cancel: Option<&AtomicBool>,
    halt: impl Fn(),
    run: impl Fn() + Sync,
) {
    std::thread::scope(|scope| {
        let mut workers = Vec::new();
        for _ in 0..threads {
            let spawned = std::thread::Builder::new()
                .name("openrouter-files-batch".into())
                .spawn_scoped(scope, &run);
            match spawned {
                Ok(worker) => workers.push(worker),
                // The OS refused another thread: the ones running share the work.
                Err(_) => break,
            }
        }
        if workers.is_empty() && threads > 0 {
            run();
        }
        if let Some(cancel) = cancel {
            while !workers.iter().all(|w| w.is_finished()) {
                if cancel.load(Ordering::SeqCst) {
                    halt();
                    break;
                }
                std::thread::park_timeout(CANCEL_POLL);
            }
        }
    });
}

/// A downloaded file: where it was written and its size.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Saved {
    /// The path written.
    pub path: PathBuf,
    /// Its size in bytes.
    pub bytes: u64,
}

/// The work queue and results the workers of one batch share.
struct Shared<'a, T> {
    gate: &'a Gate,
    one_call: bool,
    next: AtomicUsize,
    stop: AtomicBool,
    cancel: Option<&'a AtomicBool>,
    stop_on_error: bool,
    outcomes: Vec<Mutex<Option<Outcome<T>>>>,
    panic: Mutex<Option<Box<dyn std::any::Any + Send>>>,
}

impl<T> Shared<'_, T> {
    /// Stops the batch: no new item starts and every pause ends without sending.
    fn halt(&self) {
        self.stop.store(true, Ordering::SeqCst);
        self.gate.stop();
    }

    /// One worker's loop: takes inputs until there are none left or the batch stops.
    fn work<I>(
        &self,
        worker: &Worker<'_, '_>,
        inputs: &[I],
        op: &impl Fn(&Worker<'_, '_>, &I) -> Result<T>,
    ) {
        loop {
            let cancelled = self.cancel.is_some_and(|f| f.load(Ordering::SeqCst));
            if cancelled || self.stop.load(Ordering::SeqCst) {
                return;
            }
            let index = self.next.fetch_add(1, Ordering::SeqCst);
            let Some(input) = inputs.get(index) else {
                return;
            };
            let outcome = match op(worker, input) {
                Ok(value) => Outcome::Done(value),
                Err(Error::Cancelled) if self.one_call => return,
                Err(error) => {
                    if self.stop_on_error {
                        self.halt();
                    }
                    Outcome::Failed(error)
                }
            };
            let failed = !outcome.is_done();
            *lock(&self.outcomes[index]) = Some(outcome);
            worker.meter.finish_item(failed);
        }
    }
}

/// The batch's progress counters and the caller's callback.
struct Meter<'a> {
    files_done: AtomicUsize,
    files_failed: AtomicUsize,
    bytes_done: AtomicU64,
    files_total: usize,
    bytes_total: Option<u64>,
    callback: Option<Mutex<ProgressCallback<'a>>>,
}

impl Meter<'_> {
    /// Counts a finished item: as done first, then as failed, the reverse of the order
    /// [`Meter::report`] reads them in, so no snapshot has more failed items than done ones.
    fn finish_item(&self, failed: bool) {
        self.files_done.fetch_add(1, Ordering::SeqCst);
        if failed {
            self.files_failed.fetch_add(1, Ordering::SeqCst);
        }
        self.report();
    }

    fn add_bytes(&self, bytes: u64) {
        if bytes > 0 {
            self.bytes_done.fetch_add(bytes, Ordering::SeqCst);
            self.report();
        }
    }

    /// Calls the callback with a snapshot taken under its lock, so counts never go down. A
    /// callback that panicked once (its lock is poisoned) is not called again.
    fn report(&self) {
        let Some(callback) = &self.callback else {
            return;
        };
        let Ok(mut callback) = callback.lock() else {
            return;
        };
        // Failed before done: every item counted failed here was counted done before it.
        let files_failed = self.files_failed.load(Ordering::SeqCst);
        let progress = BatchProgress {
            files_done: self.files_done.load(Ordering::SeqCst),
            files_failed,
            files_total: self.files_total,
            bytes_done: self.bytes_done.load(Ordering::SeqCst),
            bytes_total: self.bytes_total,
        };
        callback(&progress);
    }
}

/// What an operation sees of its batch: the client to call and the byte counter.
struct Worker<'s, 'a> {
    client: &'s FilesClient,
    meter: &'s Meter<'a>,
}

impl Worker<'_, '_> {
    fn add_bytes(&self, bytes: u64) {
        self.meter.add_bytes(bytes);
    }
}

/// How often the calling thread looks at the caller's cancel flag while the workers run.
const CANCEL_POLL: std::time::Duration = std::time::Duration::from_millis(20);

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// The file name a download of `id` is saved under, refusing ids that could name another
/// place.
fn file_name_for(id: &str) -> Result<&str> {
    let unsafe_name = id.is_empty() || id == "." || id == ".." || id.contains(['/', '\\', '\0']);
    if unsafe_name {
        return Err(Error::InvalidInput(format!(
            "file id {id:?} cannot be used as a file name"
        )));
    }
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_progress_snapshot_never_counts_more_failed_items_than_finished_ones() {
        const ITEMS: usize = 1_000_000;
        let broken = Mutex::new(Vec::new());
        let meter = Meter {
            files_done: AtomicUsize::new(0),
            files_failed: AtomicUsize::new(0),
            bytes_done: AtomicU64::new(0),
            files_total: ITEMS,
            bytes_total: None,
            callback: Some(Mutex::new(Box::new(|p: &BatchProgress| {
                if p.files_failed > p.files_done {
                    lock(&broken).push(*p);
                }
            }))),
        };
        // One worker fails its items while another reports its bytes: each snapshot the
        // second takes falls somewhere in the first's counting.
        let start = std::sync::Barrier::new(2);
        std::thread::scope(|scope| {
            scope.spawn(|| {
                start.wait();
                (0..ITEMS).for_each(|_| meter.finish_item(true));
            });
            scope.spawn(|| {
                start.wait();
                (0..ITEMS).for_each(|_| meter.add_bytes(1));
            });
        });
        let broken = lock(&broken);
        assert!(
            broken.is_empty(),
            "{} snapshots, first {:?}",
            broken.len(),
            broken.first()
        );
    }
}
