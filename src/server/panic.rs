//! A second line of defence: a panic inside a connection task is caught,
//! journaled as the attempt's outcome, and answered, instead of leaving the
//! client with an empty reply and the journal with an attempt that never ends.
//!
//! Validation keeps out the parameters a fault cannot serve; this catches what
//! it missed. The connection is answered `500` when nothing was sent yet, and
//! closed otherwise.

use std::any::Any;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::task::{Context, Poll};

/// Where a server panics on purpose, to test that panics are caught.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PanicAt {
    /// In a transport fault, before it does anything.
    Misbehave,
    /// In a responder, before the response is built.
    Respond,
    /// In a response body, after the status line and headers are sent.
    Body,
}

/// The message a deliberate panic carries.
pub(crate) const ON_PURPOSE: &str = "panic on purpose";

/// A future whose panic comes out as `Err` with the panic's message.
///
/// What the future had borrowed may be left half-changed; the callers only
/// use it afterwards to answer and close, which a half-written connection can
/// take (at worst the answer fails and the connection is closed anyway).
pub(crate) struct CatchUnwind<F>(pub(crate) F);

impl<F: Future + Unpin> Future for CatchUnwind<F> {
    type Output = Result<F::Output, String>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = &mut self.0;
        match catch_unwind(AssertUnwindSafe(|| Pin::new(inner).poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
            Err(payload) => Poll::Ready(Err(message(&*payload))),
        }
    }
}

/// The text of a panic's payload: `panic!` gives a `&str` or a `String`.
fn message(payload: &(dyn Any + Send)) -> String {
    match (
        payload.downcast_ref::<&str>(),
        payload.downcast_ref::<String>(),
    ) {
        (Some(text), _) => (*text).to_owned(),
        (_, Some(text)) => text.clone(),
        _ => "a panic without a message".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panic_comes_out_as_its_message() {
        let caught = CatchUnwind(Box::pin(async { panic!("went {}", "wrong") })).await;
        assert_eq!(caught, Err::<(), _>("went wrong".to_owned()));
        let fine = CatchUnwind(Box::pin(async { 7 })).await;
        assert_eq!(fine, Ok(7));
    }
}
