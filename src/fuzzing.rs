//! Entry points for the fuzz targets in `fuzz/`: parsers that are private to
//! the crate, reachable from outside only through here. Not part of the API.

use crate::request::{self, HeadError, RequestHead};

/// Parses a request head from the start of `bytes`, as a connection does
/// before a transport fault takes over.
pub fn request_head(bytes: &[u8]) -> Result<Option<(RequestHead, usize)>, HeadError> {
    request::parse(bytes)
}
