//! `routes`: one server, a fault per request path.

use serde::{Deserialize, Serialize};

use crate::fault::{Fault, FaultLeaf, Handling, InvalidFault};

/// Hands each request to the fault of the first route whose pattern matches
/// its path, or to `fallback` (default `status 404`). A pattern is an exact
/// path (`/health`) or a prefix ending in `/*` (`/api/*` matches `/api` and
/// everything under it); the query is ignored.
///
/// The server reads each request head before it chooses, so requests on one
/// kept-alive connection may take different routes. A route may be a
/// `sequence` or a `chance`: each route counts its own attempts from 0, in
/// the order the server reads them, so `/api/* -> [503, ok]` fails the first
/// request to `/api` whatever other paths were asked first. Each attempt's
/// route is in the journal.
///
/// Faults that act before a request is read cannot be routes: listener
/// faults, `hang-on-accept` and `reset` with `when = "on-accept"`.
///
/// ```
/// use outage::Fault;
/// use outage::fault::{Routes, Status};
///
/// let api = Routes::new([])
///     .route("/api/*", Status::code(503))
///     .route("/health", Fault::ok())
///     .fallback(Status::code(410));
/// assert_eq!(api.pick("/api/users").0, "/api/*");
/// assert!(Fault::from(api).validate().is_ok());
/// ```
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct Routes {
    /// The routes, tried in order.
    pub routes: Vec<Route>,
    /// What handles a path that no route matches.
    pub fallback: Box<Fault>,
}

/// One path pattern and the fault that handles it.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Route {
    /// An exact path, or a prefix ending in `/*`.
    pub path: String,
    /// The fault for requests whose path matches.
    pub fault: Fault,
}

/// The journal's name for the fallback route.
pub(crate) const FALLBACK: &str = "fallback";

impl Default for Routes {
    fn default() -> Self {
        Routes {
            routes: vec![Route {
                path: "/health".to_owned(),
                fault: Fault::ok(),
            }],
            fallback: Box::new(Fault::status(404)),
        }
    }
}

impl Route {
    /// The route for the pattern `path`, an exact path or a prefix ending in
    /// `/*`, handled by `fault`.
    pub fn new(path: impl Into<String>, fault: impl Into<Fault>) -> Self {
        Route {
            path: path.into(),
            fault: fault.into(),
        }
    }

    fn matches(&self, path: &str) -> bool {
        match self.path.strip_suffix("/*") {
            Some(prefix) => path
                .strip_prefix(prefix)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/')),
            None => path == self.path,
        }
    }
}

impl Routes {
    /// Routes from `(path pattern, fault)` pairs, tried in order; every other
    /// path is answered `404`.
    pub fn new<'a>(table: impl IntoIterator<Item = (&'a str, Fault)>) -> Self {
        Routes {
            routes: table
                .into_iter()
                .map(|(path, fault)| Route {
                    path: path.to_owned(),
                    fault,
                })
                .collect(),
            fallback: Box::new(Fault::status(404)),
        }
    }

    /// Adds a route for the pattern `path` after those already listed: an
    /// exact path, or a prefix ending in `/*`. `Routes::default()` lists
    /// `/health` (`ok`); `Routes::new([])` lists none.
    pub fn route(mut self, path: impl Into<String>, fault: impl Into<Fault>) -> Self {
        self.routes.push(Route::new(path, fault));
        self
    }

    /// Hands paths that no route matches to `fault` instead of a `404`.
    pub fn fallback(mut self, fault: impl Into<Fault>) -> Self {
        self.fallback = Box::new(fault.into());
        self
    }

    /// The pattern that handles a request for `target` (`fallback` when none
    /// matches), and its fault.
    pub fn pick(&self, target: &str) -> (&str, &Fault) {
        let path = target.split(['?', '#']).next().unwrap_or(target);
        self.routes
            .iter()
            .find(|route| route.matches(path))
            .map_or((FALLBACK, &*self.fallback), |route| {
                (route.path.as_str(), &route.fault)
            })
    }
}

impl Route {
    /// Checks the pattern, and that the fault can act after a request is read.
    pub fn validate(&self) -> Result<(), InvalidFault> {
        self.check()
            .map_err(|reason| InvalidFault::new("routes", reason))
    }

    fn check(&self) -> Result<(), String> {
        let path = &self.path;
        if !path.starts_with('/') || path.trim_end_matches("/*").contains('*') {
            return Err(format!(
                "path {path:?} is not a pattern; use an exact path such as \"/health\" or a prefix such as \"/api/*\""
            ));
        }
        routable(&self.fault).map_err(|e| format!("{path:?}: {e}"))
    }
}

/// Checks that `fault` can act after a request head was read.
fn routable(fault: &Fault) -> Result<(), String> {
    let acts_before_request = match fault {
        Fault::Routes(_) => {
            return Err(
                "a route cannot be routes itself; list its paths in the outer routes".into(),
            );
        }
        Fault::Sequence(sequence) => {
            return sequence.steps.iter().try_for_each(routable);
        }
        Fault::Chance(chance) => {
            routable(&chance.fault)?;
            return routable(&chance.otherwise);
        }
        tls if tls.is_tls() => {
            return Err(format!(
                "{:?} acts during the TLS handshake, before the path is known; serve the routes with `tls = true` and route to ordinary faults",
                tls.name()
            ));
        }
        other => other.is_listener_fault() || other.acts_before_request(),
    };
    if acts_before_request {
        return Err(format!(
            "{:?} acts before a request is read, but a route is chosen from the request's path; use \"hang\" or \"reset\" instead",
            fault.name()
        ));
    }
    fault.validate().map_err(|e| e.reason)
}

impl FaultLeaf for Routes {
    fn handling(&self) -> Handling<'_> {
        Handling::Route(self)
    }

    fn validate(&self) -> Result<(), String> {
        for (i, route) in self.routes.iter().enumerate() {
            route.check().map_err(|e| format!("route {i} {e}"))?;
            if self.routes[..i].iter().any(|r| r.path == route.path) {
                return Err(format!("route {i} path {:?} is listed twice", route.path));
            }
        }
        routable(&self.fallback).map_err(|e| format!("fallback: {e}"))
    }

    fn is_http2(&self) -> bool {
        self.routes.iter().any(|route| route.fault.is_http2()) || self.fallback.is_http2()
    }

    fn seed(&self) -> Option<u64> {
        self.routes
            .iter()
            .map(|route| &route.fault)
            .chain([&*self.fallback])
            .find_map(Fault::seed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tls_fault_cannot_be_a_route() {
        let routes = Routes::new([("/secure", Fault::named("tls-expired").unwrap())]);
        let error = routes.validate().unwrap_err();
        assert!(error.contains("acts during the TLS handshake"), "{error}");
    }

    #[test]
    fn a_route_sequence_or_chance_is_checked_step_by_step() {
        let nested = Fault::sequence([Fault::status(503), Routes::default().into()]);
        let error = Routes::new([("/a", nested)]).validate().unwrap_err();
        assert!(error.contains("cannot be routes itself"), "{error}");
        let early = Fault::chance(0.5, Fault::ok(), Fault::named("hang-on-accept").unwrap());
        let error = Routes::new([("/a", early)]).validate().unwrap_err();
        assert!(error.contains("acts before a request is read"), "{error}");
    }

    fn routes(paths: &[&str]) -> Routes {
        Routes {
            routes: paths
                .iter()
                .map(|p| Route {
                    path: (*p).to_owned(),
                    fault: Fault::ok(),
                })
                .collect(),
            fallback: Box::new(Fault::status(404)),
        }
    }

    #[test]
    fn exact_paths_and_prefixes_match_and_the_rest_falls_back() {
        let table = routes(&["/health", "/api/*"]);
        let pick = |target| table.pick(target).0;
        assert_eq!(pick("/health?verbose=1"), "/health");
        assert_eq!(pick("/health/deep"), FALLBACK);
        assert_eq!(pick("/api"), "/api/*");
        assert_eq!(pick("/api/users/7"), "/api/*");
        assert_eq!(pick("/apix"), FALLBACK);
        assert_eq!(pick("/"), FALLBACK);
    }

    #[test]
    fn bad_patterns_duplicates_and_early_faults_are_rejected() {
        let error = routes(&["api"]).validate().unwrap_err();
        assert!(
            error.starts_with("route 0 path \"api\" is not a pattern"),
            "{error}"
        );
        assert!(routes(&["/a*b"]).validate().is_err());
        let twice = routes(&["/a", "/a"]).validate().unwrap_err();
        assert_eq!(twice, "route 1 path \"/a\" is listed twice");
        let mut early = routes(&["/a"]);
        early.routes[0].fault = Fault::refuse();
        assert_eq!(
            early.validate().unwrap_err(),
            "route 0 \"/a\": \"refuse\" acts before a request is read, but a route is chosen from the request's path; use \"hang\" or \"reset\" instead"
        );
    }
}
