//! Routing decisions remembered per worker.
//!
//! Splitting a path and walking the routes costs more than the rest of the gateway's own work
//! on a small request, yet a service sees the same few paths over and over. What the router
//! decides depends only on the method and the path, so an operation match is remembered under
//! those two, byte for byte; negotiation, which also reads the query and `Accept`, still runs
//! per request.
//!
//! A memo belongs to one actix worker (it is built in the service factory, which runs once per
//! worker), so it needs no lock. Paths are chosen by clients, so it is bounded, and forgets
//! everything when full rather than keeping an eviction order: a client sending endless
//! distinct paths costs each request a failed lookup and the router's usual work, no more.
//! Its hash is seeded per process, so those paths cannot be picked to collide.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use super::RouteMatch;

/// How many (method, path) decisions a worker keeps.
const CAPACITY: usize = 1024;

/// Whether `m` is worth remembering: an operation match that depends on nothing but the method
/// and the path, that is a generic route or a REST route without path variables (one with
/// variables has as many paths as values, so it is not worth a slot). Such a match owns no heap
/// memory, so handing out a clone of it costs a copy.
fn rememberable(m: &RouteMatch) -> bool {
    match m {
        RouteMatch::Generic { .. } => true,
        RouteMatch::Rest { path_vars, .. } => path_vars.is_empty(),
        _ => false,
    }
}

/// The methods a decision is remembered for; any other is decided afresh each time.
const METHODS: [&str; 7] = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"];

fn method_slot(method: &str) -> Option<usize> {
    METHODS.iter().position(|m| *m == method)
}

/// One path's decisions, by [`METHODS`] slot.
type Methods = [Option<RouteMatch>; METHODS.len()];

/// One worker's remembered routing decisions (see the module documentation).
#[derive(Debug, Default)]
pub(crate) struct RouteMemo {
    paths: RefCell<HashMap<Box<str>, Methods, foldhash::fast::RandomState>>,
    /// Decisions held, over all paths.
    held: Cell<usize>,
}

impl RouteMemo {
    /// What the router decided before for `method` on exactly `path`.
    pub(crate) fn get(&self, method: &str, path: &str) -> Option<RouteMatch> {
        let slot = method_slot(method)?;
        let paths = self.paths.borrow();
        paths.get(path)?.get(slot)?.clone()
    }

    /// Remembers `decided` for `method` on `path`, if it depends on nothing else.
    pub(crate) fn remember(&self, method: &str, path: &str, decided: &RouteMatch) {
        let Some(slot) = method_slot(method).filter(|_| rememberable(decided)) else {
            return;
        };
        let mut paths = self.paths.borrow_mut();
        if self.held.get() >= CAPACITY {
            paths.clear();
            self.held.set(0);
        }
        let methods = paths.entry(path.into()).or_default();
        if let Some(m) = methods.get_mut(slot)
            && m.is_none()
        {
            *m = Some(decided.clone());
            self.held.set(self.held.get() + 1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn generic(op: usize) -> RouteMatch {
        RouteMatch::Generic {
            op,
            route_format: Some("json"),
            suffix: None,
            batch: false,
            oneway: false,
        }
    }

    fn op_of(m: Option<RouteMatch>) -> Option<usize> {
        match m? {
            RouteMatch::Generic { op, .. } | RouteMatch::Rest { op, .. } => Some(op),
            _ => None,
        }
    }

    #[test]
    fn remembers_per_method_and_exact_path() {
        let memo = RouteMemo::default();
        memo.remember("GET", "/json/reply/Echo", &generic(1));
        memo.remember("POST", "/json/reply/Echo", &generic(2));
        assert_eq!(op_of(memo.get("GET", "/json/reply/Echo")), Some(1));
        assert_eq!(op_of(memo.get("POST", "/json/reply/Echo")), Some(2));
        assert_eq!(op_of(memo.get("PUT", "/json/reply/Echo")), None);
        // Another spelling of the same route is another key, decided afresh.
        assert_eq!(op_of(memo.get("GET", "/JSON/reply/Echo")), None);
    }

    #[test]
    fn leaves_out_what_depends_on_more_than_the_path() {
        let memo = RouteMemo::default();
        let with_vars = RouteMatch::Rest {
            op: 3,
            path_vars: vec![("id".into(), "7".into())],
            suffix: None,
        };
        memo.remember("GET", "/things/7", &with_vars);
        memo.remember("GET", "/nothing", &RouteMatch::NotFound { suffix: None });
        assert!(memo.get("GET", "/things/7").is_none());
        assert!(memo.get("GET", "/nothing").is_none());
        let plain = RouteMatch::Rest {
            op: 4,
            path_vars: Vec::new(),
            suffix: Some("json"),
        };
        memo.remember("GET", "/things.json", &plain);
        assert!(matches!(
            memo.get("GET", "/things.json"),
            Some(RouteMatch::Rest { op: 4, suffix: Some("json"), ref path_vars }) if path_vars.is_empty()
        ));
    }

    #[test]
    fn forgets_everything_when_full() {
        let memo = RouteMemo::default();
        for i in 0..CAPACITY {
            memo.remember("GET", &format!("/api/Op{i}"), &generic(i));
        }
        assert_eq!(op_of(memo.get("GET", "/api/Op0")), Some(0));
        memo.remember("GET", "/api/OneMore", &generic(9999));
        assert_eq!(op_of(memo.get("GET", "/api/OneMore")), Some(9999));
        assert!(memo.get("GET", "/api/Op0").is_none());
        assert_eq!(memo.held.get(), 1);
    }
}
