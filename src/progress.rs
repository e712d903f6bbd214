//! Progress reporting for uploads and downloads: a reader wrapper that calls back every
//! [`PROGRESS_STEP`] bytes and at the end, never per read.

use std::io::{self, Read};

/// How many bytes pass between two progress calls.
pub const PROGRESS_STEP: u64 = 256 * 1024;

/// A progress callback: `(bytes done, total if known)`.
pub(crate) type ProgressFn<'a> = Box<dyn FnMut(u64, Option<u64>) + Send + 'a>;

/// Counts bytes read through it and reports them to a callback.
pub(crate) struct Progress<R, F> {
    inner: R,
    done: u64,
    reported: u64,
    total: Option<u64>,
    callback: Option<F>,
}

impl<R: Read, F: FnMut(u64, Option<u64>)> Progress<R, F> {
    /// Wraps `inner`; with no callback it only counts.
    pub(crate) fn new(inner: R, total: Option<u64>, callback: Option<F>) -> Self {
        Progress {
            inner,
            done: 0,
            reported: 0,
            total,
            callback,
        }
    }

    /// Bytes read so far.
    pub(crate) fn done(&self) -> u64 {
        self.done
    }

    /// Sets or replaces the callback.
    pub(crate) fn set_callback(&mut self, callback: F) {
        self.callback = Some(callback);
    }

    fn report(&mut self, finished: bool) {
        if let Some(callback) = &mut self.callback {
            let due = self.done - self.reported >= PROGRESS_STEP;
            if (due || finished) && (self.done != self.reported || self.done == 0) {
                self.reported = self.done;
                callback(self.done, self.total);
            }
        }
    }
}

impl<R: Read, F: FnMut(u64, Option<u64>)> Read for Progress<R, F> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.done += n as u64;
        let finished = (n == 0 && !buf.is_empty()) || Some(self.done) == self.total;
        self.report(finished);
        Ok(n)
    }
}

/// Reads exactly `len` bytes from a source: a source that ends early is an error (instead of
/// a request that never completes), and one that has more is cut off.
pub(crate) struct ExactLen<R> {
    inner: io::Take<R>,
    left: u64,
}

impl<R: Read> ExactLen<R> {
    pub(crate) fn new(inner: R, len: u64) -> Self {
        ExactLen {
            inner: inner.take(len),
            left: len,
        }
    }
}

impl<R: Read> Read for ExactLen<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 || buf.is_empty() {
            return Ok(0);
        }
        let n = self.inner.read(buf)?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("upload source ended {} bytes early", self.left),
            ));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[test]
    fn reports_in_steps_and_at_the_end() {
        let data = vec![7u8; (PROGRESS_STEP * 3 + 10) as usize];
        let calls = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&calls);
        let mut reader = Progress::new(
            &data[..],
            Some(data.len() as u64),
            Some(move |d, t| sink.lock().unwrap().push((d, t))),
        );
        let mut buf = [0u8; 4096];
        while reader.read(&mut buf).unwrap() > 0 {}
        let calls = calls.lock().unwrap();
        assert_eq!(calls.len(), 4, "{calls:?}");
        assert_eq!(
            calls.last(),
            Some(&(data.len() as u64, Some(data.len() as u64)))
        );
        assert!(calls.windows(2).all(|w| w[1].0 - w[0].0 >= 10));
    }

    #[test]
    fn exact_len_errors_on_a_short_source_and_cuts_a_long_one() {
        let mut out = Vec::new();
        let err = ExactLen::new(&b"abc"[..], 5)
            .read_to_end(&mut out)
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
        out.clear();
        ExactLen::new(&b"abcdef"[..], 4)
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, b"abcd");
    }
}
