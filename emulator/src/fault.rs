//! Misbehaviours tests can inject: what each one does, which operation it may hit, and the
//! queues that hand them out in the order they were injected.

use std::collections::VecDeque;
use std::time::Duration;

/// A misbehaviour to inject with [`Emulator::inject`](super::Emulator::inject).
///
/// A fault replaces (or, for [`Fault::Delay`], holds) the answer to one request; it comes
/// before authentication, so even a request with a bad key gets it. Aim it at one operation
/// with [`Fault::on`]; otherwise it hits the next requests whatever they are.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Fault {
    /// Answers with this status, extra headers, and a body (the spec's error shape by
    /// default), without running the operation: an upload's file is not stored.
    Status {
        /// The HTTP status code.
        status: u16,
        /// Extra response headers, such as `Retry-After`.
        headers: Vec<(String, String)>,
        /// The raw body; `None` sends `{"error":{"code":status,"message":…}}`.
        body: Option<String>,
    },
    /// Waits this long, then runs the operation and answers normally.
    Delay(Duration),
    /// For a download only: sends the headers with the full `Content-Length`, then only this
    /// many bytes of the body, then closes the connection. Other requests pass this fault by
    /// (it stays queued), so it is always aimed at [`Route::Download`]. Not aimed, it waits
    /// at the front of the global queue for a download, and the faults behind it wait too.
    TruncateDownload {
        /// How many body bytes to send before closing.
        after_bytes: u64,
    },
    /// Closes the connection without answering; the operation does not run.
    DropConnection,
    /// Runs the operation (an upload stores its file, a delete deletes), then throws its
    /// answer away and closes the connection: the answer lost to a reset after the server
    /// acted, which a client cannot tell from a request that never arrived.
    DropAfterRunning,
    /// Runs the operation (an upload stores its file), then answers this status with the
    /// spec's error body instead of its answer: a gateway's 502 after the server acted.
    StatusAfterRunning(u16),
}

/// One operation of the API, to aim a fault at with [`Fault::on`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Route {
    /// `GET /files`
    List,
    /// `POST /files`
    Upload,
    /// `GET /files/{id}`
    Retrieve,
    /// `DELETE /files/{id}`
    Delete,
    /// `GET /files/{id}/content`
    Download,
}

/// A fault and the operation it is aimed at, if any; made by [`Fault::on`], or from a bare
/// [`Fault`] (aimed at every operation).
#[derive(Debug, Clone)]
pub struct AimedFault {
    fault: Fault,
    route: Option<Route>,
}

impl From<Fault> for AimedFault {
    fn from(fault: Fault) -> Self {
        AimedFault { fault, route: None }
    }
}

impl Fault {
    /// A [`Fault::Status`] with the spec's error body and no extra headers.
    ///
    /// ```
    /// # use openrouter_files_emulator::{Emulator, Fault};
    /// let server = Emulator::start()?;
    /// server.inject(Fault::status(429).with_header("Retry-After", "1"), 2);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn status(status: u16) -> Fault {
        Fault::Status {
            status,
            headers: Vec::new(),
            body: None,
        }
    }

    /// Adds a response header to a [`Fault::Status`]; other faults are returned unchanged.
    /// A header with CR or LF in it is not sent.
    pub fn with_header(mut self, name: &str, value: &str) -> Fault {
        if let Fault::Status { headers, .. } = &mut self {
            headers.push((name.to_string(), value.to_string()));
        }
        self
    }

    /// Replaces the body of a [`Fault::Status`]; other faults are returned unchanged.
    pub fn with_body(mut self, text: &str) -> Fault {
        if let Fault::Status { body, .. } = &mut self {
            *body = Some(text.to_string());
        }
        self
    }

    /// Aims this fault at one operation: other requests pass it by. Aimed faults are kept apart
    /// from the queue of unaimed ones and are looked at first.
    ///
    /// ```
    /// # use openrouter_files_emulator::{Emulator, Fault, Route};
    /// let server = Emulator::start()?;
    /// server.inject(Fault::status(503).on(Route::Upload), 1); // lists still answer 200
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn on(self, route: Route) -> AimedFault {
        AimedFault {
            fault: self,
            route: Some(route),
        }
    }
}

/// The queued faults: aimed ones, looked at first, and the global queue.
#[derive(Debug, Default)]
pub(crate) struct Faults {
    aimed: VecDeque<(Route, Fault, usize)>,
    global: VecDeque<(Fault, usize)>,
}

impl Faults {
    /// Queues `fault` for the next `times` requests it applies to.
    pub(crate) fn push(&mut self, fault: AimedFault, times: usize) {
        if times == 0 {
            return;
        }
        match fault.route {
            Some(route) => self.aimed.push_back((route, fault.fault, times)),
            None => self.global.push_back((fault.fault, times)),
        }
    }

    /// Takes the fault for a request to `route` (None: not an API operation), if any: the
    /// oldest aimed at it, else the front of the global queue when it applies.
    pub(crate) fn next(&mut self, route: Option<Route>) -> Option<Fault> {
        let route = route?;
        let applies = |fault: &Fault| {
            !matches!(fault, Fault::TruncateDownload { .. }) || route == Route::Download
        };
        if let Some(i) = self
            .aimed
            .iter()
            .position(|(r, f, _)| *r == route && applies(f))
        {
            return take_one(&mut self.aimed, i, |(_, f, left)| (f, left));
        }
        match self.global.front() {
            Some((fault, _)) if applies(fault) => {
                take_one(&mut self.global, 0, |(f, left)| (f, left))
            }
            _ => None,
        }
    }
}

/// Clones the fault at `i` and counts one use of it, removing it after its last.
fn take_one<T>(
    queue: &mut VecDeque<T>,
    i: usize,
    parts: impl Fn(&mut T) -> (&mut Fault, &mut usize),
) -> Option<Fault> {
    let (fault, left) = parts(queue.get_mut(i)?);
    let fault = fault.clone();
    *left -= 1;
    if *left == 0 {
        queue.remove(i);
    }
    Some(fault)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aimed_faults_skip_other_routes_and_come_before_global_ones() {
        let mut faults = Faults::default();
        faults.push(Fault::status(500).into(), 1);
        faults.push(Fault::status(503).on(Route::Upload), 2);
        assert!(matches!(
            faults.next(Some(Route::Upload)),
            Some(Fault::Status { status: 503, .. })
        ));
        assert!(matches!(
            faults.next(Some(Route::List)),
            Some(Fault::Status { status: 500, .. })
        ));
        assert!(faults.next(Some(Route::List)).is_none());
        assert!(faults.next(None).is_none());
        assert!(matches!(
            faults.next(Some(Route::Upload)),
            Some(Fault::Status { status: 503, .. })
        ));
        assert!(faults.next(Some(Route::Upload)).is_none());
    }

    #[test]
    fn a_global_truncation_waits_for_a_download() {
        let mut faults = Faults::default();
        faults.push(Fault::TruncateDownload { after_bytes: 1 }.into(), 1);
        faults.push(Fault::status(500).into(), 1);
        assert!(
            faults.next(Some(Route::List)).is_none(),
            "the 500 waits behind"
        );
        assert!(matches!(
            faults.next(Some(Route::Download)),
            Some(Fault::TruncateDownload { .. })
        ));
        assert!(matches!(
            faults.next(Some(Route::List)),
            Some(Fault::Status { status: 500, .. })
        ));
        assert!(faults.next(Some(Route::Download)).is_none());
    }
}
