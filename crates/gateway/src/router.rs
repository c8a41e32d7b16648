//! Which operation a request is for (decisions.md 1–3 and 29, protocol.md §1).
//!
//! Order: `/api/{Op}` first (it shadows custom routes under `/api`, as upstream), then the REST
//! routes every operation declares, then `/{fmt}/{reply|oneway|syncreply}/{Op}`.

use percent_encoding::percent_decode_str;

use crate::format::Formats;
use crate::registry::Registry;

/// Verbs listed in `Allow` for a route that accepts every verb.
const ALL_VERBS: &[&str] = &["GET", "POST", "PUT", "DELETE", "PATCH"];

/// One segment of a route template.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Seg {
    /// Literal text, lower-cased for case-insensitive comparison.
    Literal(String),
    /// `{name}`: one segment bound to a property.
    Var(String),
    /// `{name*}`, `{*name}`, `{**name}`: the rest of the path.
    Wildcard(String),
}

#[derive(Debug, Clone)]
struct CompiledRoute {
    op: usize,
    segments: Vec<Seg>,
    /// Upper-cased verbs; `None` accepts every verb.
    verbs: Option<Vec<String>>,
    /// The verbs as written, to prefer a route declared for exactly this verb.
    verbs_raw: Option<&'static str>,
    literals: usize,
    vars: usize,
    wildcard: bool,
}

impl CompiledRoute {
    fn allows(&self, method: &str) -> bool {
        match &self.verbs {
            None => true,
            Some(v) => v.iter().any(|x| x == method),
        }
    }

    /// Matches decoded path segments, returning the bound variables.
    fn matches(&self, parts: &[String]) -> Option<Vec<(String, String)>> {
        let mut vars = Vec::new();
        let mut i = 0;
        for (si, seg) in self.segments.iter().enumerate() {
            match seg {
                Seg::Literal(l) => {
                    if !parts.get(i).is_some_and(|p| p.eq_ignore_ascii_case(l)) {
                        return None;
                    }
                    i += 1;
                }
                Seg::Var(name) => {
                    vars.push((name.clone(), parts.get(i)?.clone()));
                    i += 1;
                }
                Seg::Wildcard(name) => {
                    // Whatever the literals after the wildcard need is left for them.
                    let tail = self.segments.len() - si - 1;
                    let end = parts.len().checked_sub(tail)?;
                    if end < i {
                        return None;
                    }
                    vars.push((name.clone(), parts[i..end].join("/")));
                    i = end;
                }
            }
        }
        (i == parts.len()).then_some(vars)
    }

    /// Higher is better: no wildcard, more literals, a route declared for exactly this verb,
    /// fewer variables.
    fn score(&self, method: &str) -> (bool, usize, bool, std::cmp::Reverse<usize>) {
        let exact = self
            .verbs_raw
            .is_some_and(|v| v.trim().eq_ignore_ascii_case(method));
        (
            !self.wildcard,
            self.literals,
            exact,
            std::cmp::Reverse(self.vars),
        )
    }
}

fn compile_segment(s: &str) -> Seg {
    if let Some(inner) = s.strip_prefix('{').and_then(|x| x.strip_suffix('}')) {
        let wildcard = inner.starts_with('*') || inner.ends_with('*');
        let name = inner.trim_matches('*');
        // `{id:int}` and `{id?}` carry inert markers.
        let name = name
            .split(':')
            .next()
            .unwrap_or(name)
            .trim_end_matches('?')
            .to_string();
        if wildcard {
            Seg::Wildcard(name)
        } else {
            Seg::Var(name)
        }
    } else {
        Seg::Literal(s.to_ascii_lowercase())
    }
}

/// Splits a raw path into percent-decoded segments, dropping empty ones (so a trailing or
/// doubled slash is ignored).
pub(crate) fn split_path(raw: &str) -> Vec<String> {
    raw.split('/')
        .filter(|s| !s.is_empty())
        .map(|s| percent_decode_str(s).decode_utf8_lossy().into_owned())
        .collect()
}

/// What the router found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RouteMatch {
    /// `/api/{Op}` or `/{fmt}/{reply|oneway|syncreply}/{Op}`.
    Generic {
        /// Registry index.
        op: usize,
        /// The format a `/{fmt}/...` route names; `None` for `/api` (JSON, but `Accept` may
        /// still choose the response format).
        route_format: Option<String>,
        /// `.ext` on the operation name.
        suffix: Option<String>,
        /// `Op[]`.
        batch: bool,
        /// `/{fmt}/oneway/...`.
        oneway: bool,
    },
    /// A REST route.
    Rest {
        /// Registry index.
        op: usize,
        /// Bound path variables.
        path_vars: Vec<(String, String)>,
        /// `.ext` on the last segment.
        suffix: Option<String>,
    },
    /// A generic route naming no known operation.
    UnknownOperation {
        /// The name as requested.
        name: String,
        /// The format a `/{fmt}/...` route names.
        route_format: Option<String>,
        /// `.ext` on the operation name.
        suffix: Option<String>,
    },
    /// `OPTIONS` on a known path.
    Options {
        /// Verbs the path accepts.
        allow: String,
        /// `.ext` on the last segment.
        suffix: Option<String>,
    },
    /// A known path, but not for this verb.
    MethodNotAllowed {
        /// Verbs the path accepts.
        allow: String,
        /// `.ext` on the last segment.
        suffix: Option<String>,
    },
    /// Nothing matched.
    NotFound {
        /// `.ext` on the last segment.
        suffix: Option<String>,
    },
}

/// Splits a `.ext` suffix that names a format off `name`.
fn split_suffix(name: &str, formats: &Formats) -> (String, Option<String>) {
    if let Some((base, ext)) = name.rsplit_once('.')
        && !base.is_empty()
        && formats.get(ext).is_some()
    {
        return (base.to_string(), Some(ext.to_ascii_lowercase()));
    }
    (name.to_string(), None)
}

/// The router: every REST route compiled once, plus the generic routes.
#[derive(Debug, Clone, Default)]
pub(crate) struct Router {
    routes: Vec<CompiledRoute>,
}

impl Router {
    /// Compiles every route of every operation in `registry`.
    pub(crate) fn new(registry: &Registry) -> Self {
        let mut routes = Vec::new();
        for (op, entry) in registry.entries() {
            let Some(meta) = entry.info().operation.as_ref() else {
                continue;
            };
            for r in meta.routes {
                let segments: Vec<Seg> = r
                    .path
                    .split('/')
                    .filter(|s| !s.is_empty())
                    .map(compile_segment)
                    .collect();
                let verbs = r.verbs.and_then(|v| {
                    let list: Vec<String> = v
                        .split([',', ' '])
                        .map(|x| x.trim().to_ascii_uppercase())
                        .filter(|x| !x.is_empty())
                        .collect();
                    // `*` means every verb, as upstream.
                    if list.is_empty() || list.iter().any(|x| x == "*") {
                        None
                    } else {
                        Some(list)
                    }
                });
                routes.push(CompiledRoute {
                    op,
                    literals: segments
                        .iter()
                        .filter(|s| matches!(s, Seg::Literal(_)))
                        .count(),
                    vars: segments
                        .iter()
                        .filter(|s| !matches!(s, Seg::Literal(_)))
                        .count(),
                    wildcard: segments.iter().any(|s| matches!(s, Seg::Wildcard(_))),
                    segments,
                    verbs,
                    verbs_raw: r.verbs,
                });
            }
        }
        Router { routes }
    }

    /// Resolves a generic operation name (`Op`, `op.xml`, `Op[]`, `Op%5B%5D.json`).
    fn generic(
        &self,
        raw_name: &str,
        route_format: Option<&str>,
        oneway: bool,
        registry: &Registry,
        formats: &Formats,
    ) -> RouteMatch {
        let (mut name, mut suffix) = split_suffix(raw_name, formats);
        let mut batch = false;
        if let Some(n) = name.strip_suffix("[]") {
            name = n.to_string();
            batch = true;
            if suffix.is_none() {
                let (n2, s2) = split_suffix(&name, formats);
                name = n2;
                suffix = s2;
            }
        }
        match registry.find(&name) {
            Some(op) => RouteMatch::Generic {
                op,
                route_format: route_format.map(str::to_string),
                suffix,
                batch,
                oneway,
            },
            None => RouteMatch::UnknownOperation {
                name,
                route_format: route_format.map(str::to_string),
                suffix,
            },
        }
    }

    /// Routes a request. `method` is the effective method (after `X-HTTP-Method-Override`),
    /// upper case; `HEAD` routes as `GET`.
    pub(crate) fn route(
        &self,
        method: &str,
        raw_path: &str,
        registry: &Registry,
        formats: &Formats,
    ) -> RouteMatch {
        let parts = split_path(raw_path);
        if let [first, name] = parts.as_slice()
            && first.eq_ignore_ascii_case("api")
        {
            return options_for_generic(method, self.generic(name, None, false, registry, formats));
        }
        if let Some(m) = self.rest(method, &parts, formats) {
            return m;
        }
        if let [fmt, kind, name] = parts.as_slice() {
            let kind = kind.to_ascii_lowercase();
            if let Some(f) = formats.get(fmt)
                && matches!(kind.as_str(), "reply" | "oneway" | "syncreply")
            {
                let m = self.generic(name, Some(f.name()), kind == "oneway", registry, formats);
                return options_for_generic(method, m);
            }
        }
        let suffix = parts.last().and_then(|l| split_suffix(l, formats).1);
        RouteMatch::NotFound { suffix }
    }

    fn rest(&self, method: &str, parts: &[String], formats: &Formats) -> Option<RouteMatch> {
        let (mut parts, suffix) = {
            let mut p = parts.to_vec();
            let suffix = match p.last_mut() {
                Some(last) => {
                    let (base, s) = split_suffix(last, formats);
                    *last = base;
                    s
                }
                None => None,
            };
            (p, suffix)
        };
        let mut candidates = self.candidates(&parts);
        if candidates.is_empty() && suffix.is_some() {
            // The dot was part of a value after all (`/files/{name}` with `a.json`).
            if let (Some(last), Some(s)) = (parts.last_mut(), &suffix) {
                last.push('.');
                last.push_str(s);
            }
            candidates = self.candidates(&parts);
            if !candidates.is_empty() {
                return self.pick(method, candidates, None);
            }
        }
        if candidates.is_empty() {
            return None;
        }
        self.pick(method, candidates, suffix)
    }

    fn candidates(&self, parts: &[String]) -> Vec<(&CompiledRoute, Vec<(String, String)>)> {
        self.routes
            .iter()
            .filter_map(|r| r.matches(parts).map(|v| (r, v)))
            .collect()
    }

    fn pick(
        &self,
        method: &str,
        candidates: Vec<(&CompiledRoute, Vec<(String, String)>)>,
        suffix: Option<String>,
    ) -> Option<RouteMatch> {
        let routing_method = if method == "HEAD" { "GET" } else { method };
        if method == "OPTIONS" {
            return Some(RouteMatch::Options {
                allow: allow_header(&candidates),
                suffix,
            });
        }
        let mut best: Option<(&CompiledRoute, Vec<(String, String)>)> = None;
        for (r, vars) in &candidates {
            if !r.allows(routing_method) {
                continue;
            }
            // Strictly better only: ties go to the first registered route.
            let better = match &best {
                None => true,
                Some((b, _)) => r.score(routing_method) > b.score(routing_method),
            };
            if better {
                best = Some((r, vars.clone()));
            }
        }
        Some(match best {
            Some((r, path_vars)) => RouteMatch::Rest {
                op: r.op,
                path_vars,
                suffix,
            },
            None => RouteMatch::MethodNotAllowed {
                allow: allow_header(&candidates),
                suffix,
            },
        })
    }
}

/// `OPTIONS` on a generic route answers what the route accepts (every verb) instead of running
/// the service.
fn options_for_generic(method: &str, m: RouteMatch) -> RouteMatch {
    match m {
        RouteMatch::Generic { suffix, .. } if method == "OPTIONS" => {
            let mut allow: Vec<&str> = ALL_VERBS.to_vec();
            allow.extend(["HEAD", "OPTIONS"]);
            RouteMatch::Options {
                allow: allow.join(", "),
                suffix,
            }
        }
        other => other,
    }
}

/// The `Allow` header for the routes that matched a path: their verbs, `HEAD` with `GET`, and
/// `OPTIONS`.
fn allow_header(candidates: &[(&CompiledRoute, Vec<(String, String)>)]) -> String {
    fn push(verbs: &mut Vec<String>, v: &str) {
        if !verbs.iter().any(|x| x == v) {
            verbs.push(v.to_string());
        }
    }
    let mut verbs: Vec<String> = Vec::new();
    for (r, _) in candidates {
        match &r.verbs {
            None => ALL_VERBS.iter().for_each(|v| push(&mut verbs, v)),
            Some(list) => list.iter().for_each(|v| push(&mut verbs, v)),
        }
    }
    if verbs.iter().any(|v| v == "GET") {
        push(&mut verbs, "HEAD");
    }
    push(&mut verbs, "OPTIONS");
    verbs.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(template: &str, verbs: Option<&'static str>) -> CompiledRoute {
        let segments: Vec<Seg> = template
            .split('/')
            .filter(|s| !s.is_empty())
            .map(compile_segment)
            .collect();
        CompiledRoute {
            op: 0,
            literals: segments
                .iter()
                .filter(|s| matches!(s, Seg::Literal(_)))
                .count(),
            vars: segments
                .iter()
                .filter(|s| !matches!(s, Seg::Literal(_)))
                .count(),
            wildcard: segments.iter().any(|s| matches!(s, Seg::Wildcard(_))),
            segments,
            verbs: verbs.map(|v| v.split(',').map(|x| x.trim().to_string()).collect()),
            verbs_raw: verbs,
        }
    }

    #[test]
    fn segments_and_wildcards() {
        let r = route("/files/{path*}", None);
        assert_eq!(
            r.matches(&split_path("/FILES/a/b%2Fc")),
            Some(vec![("path".into(), "a/b/c".into())])
        );
        assert_eq!(
            r.matches(&split_path("/files")),
            Some(vec![("path".into(), String::new())])
        );
        let r = route("/a/{x}/b", Some("GET"));
        assert_eq!(
            r.matches(&split_path("/A/1/B/")),
            Some(vec![("x".into(), "1".into())])
        );
        assert_eq!(r.matches(&split_path("/a/1")), None);
        let r = route("/tail/{rest*}/end", None);
        assert_eq!(
            r.matches(&split_path("/tail/x/y/end")),
            Some(vec![("rest".into(), "x/y".into())])
        );
    }

    #[test]
    fn allow_lists_verbs() {
        let a = route("/x", Some("GET,POST"));
        let b = route("/x", Some("PUT"));
        assert_eq!(
            allow_header(&[(&a, vec![]), (&b, vec![])]),
            "GET, POST, PUT, HEAD, OPTIONS"
        );
    }

    #[test]
    fn scores_prefer_literals_then_exact_verbs() {
        let lit = route("/auth/logout", None);
        let var = route("/auth/{provider}", Some("GET"));
        assert!(lit.score("GET") > var.score("GET"));
        let exact = route("/x/{a}", Some("GET"));
        let many = route("/x/{a}", Some("GET,POST"));
        assert!(exact.score("GET") > many.score("GET"));
        let wild = route("/x/{a*}", Some("GET"));
        assert!(exact.score("GET") > wild.score("GET"));
    }
}
