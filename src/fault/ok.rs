//! `ok`: a healthy server.

use serde::Deserialize;

use crate::fault::{Body, BoxFuture, Respond, status};
use crate::request::RequestHead;

/// Answers `200 OK` with a short plain-text body, served by hyper, and keeps
/// the connection alive like any healthy HTTP/1.1 server.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Healthy {
    /// The response body.
    pub body: String,
}

impl Default for Healthy {
    fn default() -> Self {
        Healthy {
            body: "ok\n".to_owned(),
        }
    }
}

impl Respond for Healthy {
    fn action(&self) -> String {
        "answered 200".to_owned()
    }

    fn respond<'a>(&'a self, _request: &'a RequestHead) -> BoxFuture<'a, http::Response<Body>> {
        Box::pin(async move { status::plain(200, self.body.clone()) })
    }
}
