//! Standard output, one line at a time, noticing when its reader has gone (`| head -1`) so a
//! command can stop fetching instead of failing.

use std::io::{self, IsTerminal, StdoutLock, Write};

use crate::failure::Failure;
use crate::text::hide;

/// Standard output for result lines. After its reader goes away, writes are dropped and
/// [`Out::closed`] says so.
pub struct Out {
    stdout: StdoutLock<'static>,
    closed: bool,
    secret: Option<String>,
}

impl Out {
    pub fn new() -> Out {
        Out {
            stdout: io::stdout().lock(),
            closed: false,
            secret: None,
        }
    }

    /// The same output, with `secret` (the API key) replaced in every line it writes. File
    /// contents copied with [`Out::copy_from`] are written as they are.
    pub fn hiding(mut self, secret: Option<String>) -> Out {
        self.secret = secret;
        self
    }

    /// Whether standard output is a terminal.
    pub fn is_terminal(&self) -> bool {
        io::stdout().is_terminal()
    }

    /// Whether the reader has gone: nothing more will be written.
    pub fn closed(&self) -> bool {
        self.closed
    }

    /// Writes `line` and a newline, flushed so a reader sees it at once.
    pub fn line(&mut self, line: &str) -> Result<(), Failure> {
        let line = hide(line, self.secret.as_deref()).into_owned();
        self.write(|out| writeln!(out, "{line}").and_then(|()| out.flush()))
    }

    /// Ends standard output for its reader while this process goes on: standard output is
    /// pointed at `/dev/null`, so a shell's `$(…)` reading it returns. (Elsewhere than on Unix,
    /// nothing more is written, and the reader waits for the process to end.)
    #[cfg(feature = "emulator")]
    pub fn detach(&mut self) -> Result<(), Failure> {
        self.write(|out| out.flush())?;
        self.closed = true;
        #[cfg(unix)]
        {
            use std::os::fd::AsRawFd;
            let null = std::fs::OpenOptions::new()
                .write(true)
                .open("/dev/null")
                .map_err(Failure::output)?;
            // SAFETY: dup2(2) takes two descriptors this process has open and touches no memory
            // of ours; the buffer in front of descriptor 1 was flushed above.
            if unsafe { libc::dup2(null.as_raw_fd(), libc::STDOUT_FILENO) } < 0 {
                return Err(Failure::output(io::Error::last_os_error()));
            }
        }
        Ok(())
    }

    /// Copies `reader` to standard output; stops quietly if the reader of the output goes.
    /// Errors from `reader` are returned as they are.
    pub fn copy_from(&mut self, reader: &mut impl io::Read) -> Result<(), CopyError> {
        let mut buf = vec![0u8; 256 * 1024];
        loop {
            let n = match reader.read(&mut buf) {
                Ok(0) => return self.write(|out| out.flush()).map_err(CopyError::Output),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(CopyError::Input(e)),
            };
            self.write(|out| out.write_all(&buf[..n]))
                .map_err(CopyError::Output)?;
            if self.closed {
                return Ok(());
            }
        }
    }

    fn write(
        &mut self,
        f: impl FnOnce(&mut StdoutLock<'static>) -> io::Result<()>,
    ) -> Result<(), Failure> {
        if self.closed {
            return Ok(());
        }
        match f(&mut self.stdout) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(())
            }
            Err(e) => Err(Failure::output(e)),
        }
    }
}

/// Why [`Out::copy_from`] stopped.
pub enum CopyError {
    /// Reading the source failed.
    Input(io::Error),
    /// Writing standard output failed.
    Output(Failure),
}
