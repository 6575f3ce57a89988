//! The fault for each request: the attempt's, or for a `routes` fault, the
//! one its path takes, at the attempt's position on that route.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::fault::{Acts, Chosen};
use crate::journal::AttemptLog;
use crate::request::RequestHead;
use crate::server::Site;

/// How many attempts each route has taken, so that a route's `sequence`
/// counts only its own.
#[derive(Default)]
pub(crate) struct RouteCounts(Mutex<HashMap<String, u64>>);

impl RouteCounts {
    /// Counts one more attempt on `route`; returns how many came before it.
    fn next(&self, route: &str) -> u64 {
        let mut counts = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let taken = counts.entry(route.to_owned()).or_default();
        *taken += 1;
        *taken - 1
    }
}

impl Site {
    /// The fault that handles the request `head` of attempt `log`; the
    /// route it takes, if any, is journaled.
    pub(crate) fn for_request(&self, log: &AttemptLog, head: &RequestHead) -> Chosen<'_> {
        let chosen = self.fault.for_attempt(log.index());
        let Acts::Route(routes) = chosen.acts() else {
            return chosen;
        };
        let (route, fault) = routes.pick(head.target());
        log.took_route(route);
        fault.for_attempt(self.routes.next(route))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_route_counts_its_own_attempts() {
        let counts = RouteCounts::default();
        let positions: Vec<u64> = ["/a", "/b", "/a", "/a", "/b"]
            .iter()
            .map(|route| counts.next(route))
            .collect();
        assert_eq!(positions, [0, 0, 1, 2, 1]);
    }
}
