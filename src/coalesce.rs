//! A transport layer that sends a request's head together with the first piece of its body,
//! so a small upload leaves in one write (one TCP segment, one TLS record) instead of two.
//!
//! ureq writes the head and then the body with separate `transmit_output` calls. This layer,
//! chained after ureq's default connector (above TLS), keeps the head aside; the next transmit
//! sends it in front of the body bytes, and the wait for the response sends it alone (a
//! request without a body). Only the head is held, never body bytes, so a slow upload
//! source cannot delay what the server sees beyond its own first read. It uses ureq's
//! `unversioned` transport API.

use ureq::Error;
use ureq::unversioned::transport::{Buffers, ConnectionDetails, Connector, NextTimeout, Transport};

/// Wraps every connection in a [`HeadWithBody`].
#[derive(Debug)]
pub(crate) struct Coalesce;

impl Connector<Box<dyn Transport>> for Coalesce {
    type Out = HeadWithBody;

    fn connect(
        &self,
        _details: &ConnectionDetails,
        chained: Option<Box<dyn Transport>>,
    ) -> Result<Option<HeadWithBody>, Error> {
        Ok(chained.map(|inner| HeadWithBody {
            inner,
            head: Vec::new(),
            hold_next: true,
        }))
    }
}

/// A connection whose request heads wait for their first body bytes.
#[derive(Debug)]
pub(crate) struct HeadWithBody {
    inner: Box<dyn Transport>,
    /// A request head not sent yet.
    head: Vec<u8>,
    /// Whether the next transmit is a request head.
    hold_next: bool,
}

impl HeadWithBody {
    /// Sends a held head on its own.
    fn flush(&mut self, timeout: NextTimeout) -> Result<(), Error> {
        if self.head.is_empty() {
            return Ok(());
        }
        let head = std::mem::take(&mut self.head);
        self.inner.buffers().output()[..head.len()].copy_from_slice(&head);
        self.inner.transmit_output(head.len(), timeout)
    }
}

impl Transport for HeadWithBody {
    fn buffers(&mut self) -> &mut dyn Buffers {
        self.inner.buffers()
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), Error> {
        if std::mem::take(&mut self.hold_next) && self.head.is_empty() {
            self.head = self.inner.buffers().output()[..amount].to_vec();
            return Ok(());
        }
        if self.head.is_empty() {
            return self.inner.transmit_output(amount, timeout);
        }
        let head = std::mem::take(&mut self.head);
        let output = self.inner.buffers().output();
        if head.len() + amount <= output.len() {
            // The usual case for a small body: head and body in one write.
            output.copy_within(..amount, head.len());
            output[..head.len()].copy_from_slice(&head);
            return self.inner.transmit_output(head.len() + amount, timeout);
        }
        // A full buffer of body: the head goes first, on its own.
        let body = output[..amount].to_vec();
        self.head = head;
        self.flush(timeout)?;
        self.inner.buffers().output()[..amount].copy_from_slice(&body);
        self.inner.transmit_output(amount, timeout)
    }

    fn maybe_await_input(&mut self, timeout: NextTimeout) -> Result<bool, Error> {
        self.flush(timeout)?;
        // What is sent after the response has started to arrive belongs to a new request.
        self.hold_next = true;
        self.inner.maybe_await_input(timeout)
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, Error> {
        self.flush(timeout)?;
        self.hold_next = true;
        self.inner.await_input(timeout)
    }

    fn is_open(&mut self) -> bool {
        self.inner.is_open()
    }

    fn is_tls(&self) -> bool {
        self.inner.is_tls()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ureq::unversioned::transport::LazyBuffers;

    /// The layer below: records what each transmit sends.
    #[derive(Debug)]
    struct Recorder {
        buffers: LazyBuffers,
        sent: std::sync::Arc<std::sync::Mutex<Vec<Vec<u8>>>>,
    }

    impl Transport for Recorder {
        fn buffers(&mut self) -> &mut dyn Buffers {
            &mut self.buffers
        }
        fn transmit_output(&mut self, amount: usize, _: NextTimeout) -> Result<(), Error> {
            let bytes = self.buffers.output()[..amount].to_vec();
            self.sent.lock().unwrap().push(bytes);
            Ok(())
        }
        fn await_input(&mut self, _: NextTimeout) -> Result<bool, Error> {
            Ok(false)
        }
        fn is_open(&mut self) -> bool {
            true
        }
    }

    fn layer(output: usize) -> (HeadWithBody, std::sync::Arc<std::sync::Mutex<Vec<Vec<u8>>>>) {
        let sent = std::sync::Arc::default();
        let inner = Recorder {
            buffers: LazyBuffers::new(1024, output),
            sent: std::sync::Arc::clone(&sent),
        };
        let layer = HeadWithBody {
            inner: Box::new(inner),
            head: Vec::new(),
            hold_next: true,
        };
        (layer, sent)
    }

    fn write(t: &mut HeadWithBody, bytes: &[u8]) {
        t.buffers().output()[..bytes.len()].copy_from_slice(bytes);
        t.transmit_output(bytes.len(), NextTimeout::default())
            .unwrap();
    }

    #[test]
    fn a_head_and_a_small_body_leave_in_one_write_and_a_bodiless_head_alone() {
        let (mut t, sent) = layer(64);
        write(&mut t, b"POST / HTTP/1.1\r\n\r\n");
        write(&mut t, b"body");
        t.await_input(NextTimeout::default()).unwrap();
        write(&mut t, b"GET / HTTP/1.1\r\n\r\n");
        assert_eq!(
            sent.lock().unwrap().len(),
            1,
            "the GET waits for the response wait"
        );
        t.await_input(NextTimeout::default()).unwrap();
        assert_eq!(
            *sent.lock().unwrap(),
            [
                b"POST / HTTP/1.1\r\n\r\nbody".to_vec(),
                b"GET / HTTP/1.1\r\n\r\n".to_vec()
            ]
        );
    }

    #[test]
    fn a_body_that_fills_the_buffer_follows_its_head_intact() {
        let (mut t, sent) = layer(16);
        write(&mut t, b"HEAD1234");
        write(&mut t, b"0123456789abcdef");
        write(&mut t, b"tail");
        assert_eq!(
            *sent.lock().unwrap(),
            [
                b"HEAD1234".to_vec(),
                b"0123456789abcdef".to_vec(),
                b"tail".to_vec()
            ]
        );
    }
}
