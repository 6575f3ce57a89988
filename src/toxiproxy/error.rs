//! `ApiError`: an answer other than success, with Toxiproxy's status codes
//! and messages, so that its clients recognise each one.

use serde::Serialize;

use crate::toxic::ToxicError;

/// A request the API could not carry out: the HTTP status and the message
/// sent back as `{"error":"<message>","status":<status>}`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[error("{message}")]
pub struct ApiError {
    /// What went wrong, in Toxiproxy's words where Toxiproxy has them.
    #[serde(rename = "error")]
    pub message: String,
    /// The HTTP status code: 400, 404, 409 or 500.
    pub status: u16,
}

impl ApiError {
    fn new(status: u16, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
        }
    }

    /// A body that is not JSON, or not of the expected shape.
    pub(crate) fn bad_body(detail: impl std::fmt::Display) -> ApiError {
        ApiError::new(400, format!("bad request body: {detail}"))
    }

    /// A required field (`name`, `upstream`) that is missing or empty.
    pub(crate) fn missing(field: impl std::fmt::Display) -> ApiError {
        ApiError::new(400, format!("missing required field: {field}"))
    }

    /// A toxic's `stream` other than `upstream` or `downstream`.
    pub(crate) fn invalid_stream() -> ApiError {
        ApiError::new(
            400,
            "stream was invalid, can be either upstream or downstream",
        )
    }

    /// A toxic `type` that is not one of the toxics.
    pub(crate) fn invalid_toxic_type() -> ApiError {
        ApiError::new(400, "invalid toxic type")
    }

    /// No proxy has the name in the path.
    pub(crate) fn proxy_not_found() -> ApiError {
        ApiError::new(404, "proxy not found")
    }

    /// A proxy of that name exists already.
    pub(crate) fn proxy_exists() -> ApiError {
        ApiError::new(409, "proxy already exists")
    }

    /// A listen address that cannot be resolved or bound.
    pub(crate) fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(500, message)
    }
}

impl From<ToxicError> for ApiError {
    fn from(error: ToxicError) -> ApiError {
        let status = match error {
            ToxicError::Exists => 409,
            ToxicError::NotFound => 404,
            ToxicError::SecondOutage => 409,
        };
        ApiError::new(status, error.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toxic_errors_keep_toxiproxys_codes_and_words() {
        assert_eq!(
            ApiError::from(ToxicError::Exists),
            ApiError::new(409, "toxic already exists")
        );
        assert_eq!(
            ApiError::from(ToxicError::NotFound),
            ApiError::new(404, "toxic not found")
        );
    }
}
