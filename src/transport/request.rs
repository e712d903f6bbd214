//! The request loop: one call, tried per the retry policy within its deadline, each try sent
//! with the scope's headers and timeouts through the shared agent, following redirects.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ureq::http::{self, HeaderName, HeaderValue, Response};
use ureq::{Body, RequestExt, SendBody};

use super::redirect::{is_redirect, origin, origin_of, same_origin};
use super::response::api_error;
use super::url::api_path;
use super::{Call, Outgoing, Replay, Reply, Transport, method_name};
use crate::config::finite;
use crate::error::{ApiError, Error, Result, TransportError};
use crate::observe::{Ended, Try};
use crate::retry::gate::Closed;
use crate::retry::{RetryPolicy, may_wait};

/// Why one attempt failed: a transport error the retry rules judge, or an error that ends the
/// call at once (a redirect the client will not follow, an upload source that failed).
enum Failure {
    Transport(TransportError),
    Final(Error),
}

/// A failed try, judged: whether the call may be tried again, the wait the server asked for,
/// and the error the call ends with if not.
struct Failed {
    retryable: bool,
    wait_hint: Option<Duration>,
    error: Error,
}

impl Failed {
    /// A failure status: retried per the call's [`Replay`].
    fn api(api: ApiError, replay: Replay) -> Failed {
        let retryable = match replay {
            Replay::Idempotent => api.kind().is_retryable(),
            Replay::Upload => api.kind().says_not_done(),
            Replay::Never => false,
        };
        Failed {
            retryable,
            wait_hint: api.retry_after,
            error: Error::from(api),
        }
    }

    /// A request that did not complete: an upload is retried only when nothing can have
    /// reached the server.
    fn transport(error: TransportError, replay: Replay) -> Failed {
        let retryable = match replay {
            Replay::Idempotent => error.is_retryable(),
            Replay::Upload => error.failed_before_sending(),
            Replay::Never => false,
        };
        Failed {
            retryable,
            wait_hint: None,
            error: Error::Transport(error),
        }
    }
}

impl Failed {
    /// How long to wait before the next try, or `None` when this failure ends the call: it is
    /// not retryable, the retries are spent, the server asked for too long a wait, or the wait
    /// would pass the deadline.
    fn retry_in(
        &self,
        attempts: u32,
        policy: RetryPolicy,
        deadline: Option<Instant>,
    ) -> Option<Duration> {
        if !self.retryable || attempts > policy.max_retries() {
            return None;
        }
        policy
            .delay(attempts - 1, self.wait_hint)
            .filter(|wait| may_wait(*wait, deadline))
    }
}

impl Call<'_> {
    /// A transfer (a download, or any call with a body) is bounded by the stall timeout and the
    /// user's deadline; a small JSON call also by the default whole-call cap.
    fn is_transfer(&self, has_body: bool) -> bool {
        self.identity || has_body
    }
}

impl Transport<'_> {
    /// Sends `call`, retrying per the client's policy. `body` is asked for a fresh body before
    /// each try. Returns the 2xx response, or the error of the last try.
    pub(crate) fn execute<'a>(
        &self,
        call: &Call<'_>,
        body: Option<&mut dyn FnMut() -> Result<Outgoing<'a>>>,
    ) -> Result<Reply> {
        self.execute_with(call, body, &[])
    }

    /// [`Transport::execute`] with extra request headers (a download's `Range`).
    ///
    /// Longer than the crate's ~60 lines on purpose: the one retry loop of the crate, whose
    /// try, judgement and wait share its state (the try count, whether an earlier try may have
    /// acted, the byte count the observer is told); the parts are functions of their own
    /// (`attempt`, `Failed::retry_in`, `pause`, `watch`).
    pub(crate) fn execute_with<'a>(
        &self,
        call: &Call<'_>,
        body: Option<&mut dyn FnMut() -> Result<Outgoing<'a>>>,
        extra: &[(HeaderName, HeaderValue)],
    ) -> Result<Reply> {
        let path = api_path(call);
        let url = self.url(&path, call)?;
        let method = method_name(&call.method);
        let policy = self.options.retry;
        let deadline = self.deadline(call, body.is_some());
        // A batch's first try waits for its shared pause (retries wait below).
        self.wait_for_batch(method, &path, deadline)?;
        let observer = self.shared.observer.as_ref();
        // The body length of the latest try, for the observer.
        let sent = std::cell::Cell::new(0u64);
        let mut body = body.map(|make| {
            let sent = &sent;
            move || make().inspect(|outgoing| sent.set(outgoing.len))
        });
        let mut attempts: u32 = 0;
        // Whether a failed try so far may have been acted on (a lost answer, a 500): a
        // retried delete that then finds the file gone counts as done only then.
        let mut may_have_acted = false;
        loop {
            attempts = attempts.saturating_add(1);
            sent.set(0);
            let watch = self.watch(method, &path, &url, attempts);
            let making = body
                .as_mut()
                .map(|m| m as &mut dyn FnMut() -> Result<Outgoing<'a>>);
            let tried = self.attempt(call, &url, &watch, making, extra, deadline);
            let failed = match tried {
                Ok(response) if response.status().is_success() => {
                    watch.report(observer, Ended::Answered(&response), sent.get(), None);
                    let secret = Arc::clone(&self.shared.key);
                    return Ok(Reply {
                        response,
                        method,
                        path,
                        secret,
                        attempts,
                    });
                }
                Ok(response) => {
                    let mut api = api_error(response, attempts, method, &path, &self.shared.key);
                    api.earlier_try_may_have_acted = may_have_acted;
                    may_have_acted |= api.kind().is_retryable() && !api.kind().says_not_done();
                    Failed::api(api, call.replay)
                }
                Err(Failure::Final(error)) => {
                    watch.report(observer, Ended::Failed(&error), sent.get(), None);
                    return Err(error);
                }
                Err(Failure::Transport(error)) => {
                    may_have_acted |= !error.failed_before_sending();
                    Failed::transport(error, call.replay)
                }
            };
            let retry_in = failed.retry_in(attempts, policy, deadline);
            let asked = failed.wait_hint.is_some();
            if let Some(wait) = retry_in.filter(|_| asked) {
                // Closed before the observer is told of the wait: from then on, every call of
                // the batch waits for it.
                self.hold_batch(wait);
            }
            watch.report(observer, Ended::Failed(&failed.error), sent.get(), retry_in);
            let Some(wait) = retry_in else {
                return Err(failed.error);
            };
            log::debug!(
                "retrying {method} {path} after {} (attempt {attempts} of {}), waiting {wait:?}",
                failed
                    .error
                    .status()
                    .map_or_else(|| "a transport error".to_string(), |s| format!("HTTP {s}")),
                policy.max_retries().saturating_add(1),
            );
            if !self.pause(wait, deadline) {
                return Err(failed.error);
            }
        }
    }

    /// When the whole call must end: a transfer (a download, or any call with a body) by the
    /// user's deadline only, a small JSON call also by the default whole-call cap.
    fn deadline(&self, call: &Call<'_>, has_body: bool) -> Option<Instant> {
        let timeouts = &self.options.timeouts;
        let limit = if call.is_transfer(has_body) {
            timeouts.deadline
        } else {
            timeouts.json_deadline
        };
        limit.and_then(|d| Instant::now().checked_add(d))
    }

    /// Waits for the batch's shared pause, when this scope belongs to a batch: fails with
    /// [`Error::Cancelled`] when the batch stops, and with a timeout when the pause outlasts
    /// the deadline.
    fn wait_for_batch(
        &self,
        method: &'static str,
        path: &str,
        deadline: Option<Instant>,
    ) -> Result<()> {
        let Some(gate) = &self.options.gate else {
            return Ok(());
        };
        match gate.wait(deadline) {
            Ok(()) => Ok(()),
            Err(Closed::Stopped) => Err(Error::Cancelled),
            Err(Closed::PastDeadline) => {
                let timeout = ureq::Error::Timeout(ureq::Timeout::Global);
                let error = TransportError::new(method, path.to_string(), None, timeout);
                Err(Error::Transport(error))
            }
        }
    }

    /// In a batch, closes its shared pause for `wait` from now: a server asked for the wait.
    fn hold_batch(&self, wait: Duration) {
        if let Some(gate) = &self.options.gate {
            gate.hold_for(wait);
        }
    }

    /// Waits `wait` before a retry; in a batch, through its shared pause (which a server's
    /// `Retry-After` has closed for every worker: [`hold_batch`](Self::hold_batch)). False when
    /// the call should end with what it got instead: the batch stopped, or the pause would
    /// outlast the deadline.
    pub(crate) fn pause(&self, wait: Duration, deadline: Option<Instant>) -> bool {
        match &self.options.gate {
            Some(gate) => gate.pause(wait, deadline).is_ok(),
            None => {
                std::thread::sleep(wait);
                true
            }
        }
    }

    /// The report of try `number` of `method path` to `url`, started now.
    fn watch<'w>(&'w self, method: &'w str, path: &'w str, url: &str, number: u32) -> Try<'w> {
        Try {
            method,
            path,
            number,
            started: Instant::now(),
            proxy: std::cell::Cell::new(self.shared.proxies.for_url(url).map(|r| r.shown.as_str())),
            secret: &self.shared.key,
        }
    }

    /// One try of a call, `watch`ed: the request, and the redirects it is allowed to follow
    /// (`watch` is told the proxy of each request sent).
    fn attempt<'a, 'w>(
        &'w self,
        call: &Call<'_>,
        url: &str,
        watch: &Try<'w>,
        mut body: Option<&mut (dyn FnMut() -> Result<Outgoing<'a>> + '_)>,
        extra: &[(HeaderName, HeaderValue)],
        deadline: Option<Instant>,
    ) -> Result<Response<Body>, Failure> {
        let path = watch.path;
        let mut target = url.to_string();
        let mut redirects = 0;
        loop {
            let outgoing = match body.as_deref_mut() {
                Some(make) => Some(make().map_err(Failure::Final)?),
                None => None,
            };
            let at_origin = same_origin(url, &target);
            let route = self.shared.proxies.for_url(&target);
            watch.proxy.set(route.map(|r| r.shown.as_str()));
            let response = self
                .send(call, &target, at_origin, outgoing, extra, deadline)
                .map_err(|source| {
                    let method = method_name(&call.method);
                    if let Some(refused) = crate::proxy::refusal(&source, route, method, path) {
                        return Failure::Final(refused);
                    }
                    // Through a proxy, the connection that could not be made is the proxy's.
                    let peer = match route {
                        Some(route) => Some(format!("the proxy {}", route.shown)),
                        None => origin(&target).map(|(_, host, port)| format!("{host}:{port}")),
                    };
                    Failure::Transport(TransportError::new(method, path.into(), peer, source))
                })?;
            let status = response.status().as_u16();
            if !is_redirect(status) {
                return Ok(response);
            }
            let next = self
                .follow(call, path, &target, &response, redirects, body.is_some())
                .map_err(Failure::Final)?;
            log::debug!(
                "following HTTP {status} for {} {path} to {}",
                method_name(&call.method),
                origin_of(&next),
            );
            target = next;
            redirects += 1;
        }
    }

    /// Sends one request with this scope's timeouts through the shared agent. The key and the
    /// user's headers (`header`, `app`, `with_header`) go only to the base URL's origin
    /// (`at_origin`); the protocol's own (`User-Agent`, `Range`, body headers) go everywhere.
    fn send(
        &self,
        call: &Call<'_>,
        url: &str,
        at_origin: bool,
        outgoing: Option<Outgoing<'_>>,
        extra: &[(HeaderName, HeaderValue)],
        deadline: Option<Instant>,
    ) -> Result<Response<Body>, ureq::Error> {
        let mut request = http::Request::builder()
            .method(call.method.clone())
            .uri(url);
        if at_origin {
            request = request.header(http::header::AUTHORIZATION, self.shared.auth.clone());
            for (name, value) in self.shared.headers.iter().chain(&self.options.headers) {
                request = request.header(name, value);
            }
        }
        for (name, value) in extra {
            request = request.header(name, value);
        }
        if call.identity {
            request = request.header(http::header::ACCEPT_ENCODING, "identity");
        }
        let global = match deadline {
            Some(at) => match at.checked_duration_since(Instant::now()) {
                Some(left) if !left.is_zero() => Some(left),
                _ => return Err(ureq::Error::Timeout(ureq::Timeout::Global)),
            },
            None => None,
        };
        let timeouts = &self.options.timeouts;
        let configure = |request: http::Request<SendBody<'_>>| {
            request
                .with_agent(&self.shared.agent)
                .configure()
                .timeout_global(finite(global))
                .timeout_connect(finite(timeouts.connect))
                .timeout_recv_response(finite(timeouts.response))
                .timeout_per_read(finite(timeouts.stall))
                .timeout_per_write(finite(timeouts.stall))
                .proxy(self.shared.proxies.for_url(url).map(|r| r.proxy.clone()))
                .run()
        };
        match outgoing {
            Some(outgoing) => {
                let mut reader = outgoing.reader;
                let request = request
                    .header(http::header::CONTENT_TYPE, outgoing.content_type)
                    .header(http::header::CONTENT_LENGTH, outgoing.len);
                configure(request.body(SendBody::from_reader(&mut *reader))?)
            }
            None => configure(request.body(SendBody::none())?),
        }
    }
}
