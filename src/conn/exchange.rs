//! `Exchange`: what a transport fault acts on for one attempt.

use crate::conn::{Conn, NoRequest, wire};
use crate::journal::{AttemptLog, Ending};
use crate::request::{HeadError, RequestHead};

/// One attempt on a raw connection: the connection, the request head once it
/// is read, and the journal entry being filled in.
pub(crate) struct Exchange {
    pub(crate) conn: Conn,
    head: Option<RequestHead>,
    log: AttemptLog,
}

impl Exchange {
    pub(crate) fn new(conn: Conn, head: Option<RequestHead>, log: AttemptLog) -> Self {
        if let Some(head) = &head {
            log.request(head);
        }
        Exchange { conn, head, log }
    }

    pub(crate) fn into_parts(self) -> (Conn, AttemptLog) {
        (self.conn, self.log)
    }

    /// Records what the fault did, in words.
    pub(crate) fn did(&self, action: impl Into<std::borrow::Cow<'static, str>>) {
        self.log.action(action);
    }

    /// Journals `action`, sends `bytes`, and closes with a FIN: the shape of
    /// every fault that writes a broken response and hangs up.
    pub(crate) async fn send_and_close(&mut self, bytes: &[u8], action: String) -> Ending {
        self.did(action);
        self.send_and_close_quietly(bytes).await
    }

    /// Sends `bytes` and closes with a FIN, leaving the journaled action as it is.
    pub(crate) async fn send_and_close_quietly(&mut self, bytes: &[u8]) -> Ending {
        match self.conn.send(bytes).await {
            Ok(()) => self.conn.close_fin().await,
            Err(_) => Ending::ClientRst,
        }
    }

    /// The request head, read from the client unless it already was.
    ///
    /// When no request can be had, the attempt is journaled and the connection
    /// ended here; the fault returns the `Err` ending as its own.
    pub(crate) async fn request(&mut self) -> Result<&RequestHead, Ending> {
        if self.head.is_none() {
            let head = match self.conn.read_head().await {
                Ok(head) => head,
                Err(NoRequest::Ended(ending)) => {
                    self.did("client left before sending a full request");
                    return Err(ending);
                }
                Err(NoRequest::Unreadable(error)) => return Err(self.reject(error).await),
            };
            self.log.request(&head);
            self.head = Some(head);
        }
        // Filled just above when it was empty.
        Ok(self.head.as_ref().expect("request head was just read"))
    }

    /// Answers a request that cannot be read with 400 or 431 and closes; an
    /// HTTP/2 client could not read an HTTP/1 answer, so it gets none.
    async fn reject(&mut self, error: HeadError) -> Ending {
        let status = match error {
            HeadError::TooLarge | HeadError::TooManyHeaders => 431,
            HeadError::Malformed(_) => 400,
            HeadError::Http2Preface => {
                self.did(format!("{error}; closed without answering"));
                return self.conn.close_fin().await;
            }
        };
        self.did(format!(
            "unreadable request ({error}); answered {status} and closed"
        ));
        let response = wire::response(status, &[], b"");
        if self.conn.send(&response).await.is_err() {
            return Ending::ClientRst;
        }
        self.conn.close_fin().await
    }
}
