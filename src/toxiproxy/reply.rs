//! `Reply`: a response before it becomes hyper's, written as Toxiproxy's Go
//! server writes it.

use serde::Serialize;

use super::error::ApiError;

/// A response's status, type and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reply {
    /// The HTTP status code.
    pub(crate) status: u16,
    /// The `Content-Type`, when there is a body.
    pub(crate) content_type: Option<&'static str>,
    /// True for Go's `http.Error` answers, which say `nosniff`.
    pub(crate) nosniff: bool,
    /// The body.
    pub(crate) body: Vec<u8>,
    /// False for the router's own 404 and 405, which Toxiproxy sends
    /// before its request-id middleware runs.
    pub(crate) routed: bool,
}

/// Go's `http.Error` type, which Toxiproxy's errors are sent with.
const PLAIN: &str = "text/plain; charset=utf-8";

impl Reply {
    /// `value` as JSON.
    pub(crate) fn json(status: u16, value: &impl Serialize) -> Reply {
        match serde_json::to_vec(value) {
            Ok(body) => Reply {
                status,
                content_type: Some("application/json"),
                nosniff: false,
                body,
                routed: true,
            },
            Err(error) => Reply::error(&ApiError::internal(error.to_string())),
        }
    }

    /// An error as Toxiproxy sends it: its JSON, by Go's `http.Error`, so
    /// typed as plain text and ended by a newline.
    pub(crate) fn error(error: &ApiError) -> Reply {
        // An error is a string and a number: it always serializes.
        let json = serde_json::to_string(error).unwrap_or_default();
        Reply::text(error.status, &json)
    }

    /// A plain text line, as Go's `http.Error` sends it.
    pub(crate) fn text(status: u16, text: &str) -> Reply {
        Reply {
            status,
            content_type: Some(PLAIN),
            nosniff: true,
            body: format!("{text}\n").into_bytes(),
            routed: true,
        }
    }

    /// No body (204, 405).
    pub(crate) fn empty(status: u16) -> Reply {
        Reply {
            status,
            content_type: None,
            nosniff: false,
            body: Vec::new(),
            routed: true,
        }
    }

    /// A body of the given type as it is.
    pub(crate) fn raw(status: u16, content_type: &'static str, body: String) -> Reply {
        Reply {
            status,
            content_type: Some(content_type),
            nosniff: false,
            body: body.into_bytes(),
            routed: true,
        }
    }
}

impl Reply {
    /// The same reply, from the router itself: it carries no request id.
    pub(crate) fn unrouted(self) -> Reply {
        Reply {
            routed: false,
            ..self
        }
    }
}

impl From<Result<Reply, ApiError>> for Reply {
    fn from(result: Result<Reply, ApiError>) -> Reply {
        result.unwrap_or_else(|error| Reply::error(&error))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_json_sent_as_go_sends_them() {
        let reply = Reply::error(&ApiError::proxy_not_found());
        assert_eq!(reply.status, 404);
        assert_eq!(reply.content_type, Some(PLAIN));
        assert_eq!(
            String::from_utf8(reply.body).unwrap(),
            "{\"error\":\"proxy not found\",\"status\":404}\n"
        );
    }
}
