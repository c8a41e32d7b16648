//! Which operation a request is for (decisions.md 1–3 and 29, protocol.md §1).
//!
//! Order: `/api/{Op}` first (it shadows custom routes under `/api`, as upstream), then the REST
//! routes every operation declares, then `/{fmt}/{reply|oneway|syncreply}/{Op}`.

use std::borrow::Cow;
use std::ops::Range;

use percent_encoding::percent_decode_str;

use crate::format::Formats;
use crate::registry::Registry;

mod memo;

pub(crate) use memo::RouteMemo;

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

    /// Walks decoded path segments against the template, handing each variable's name and
    /// segment range to `bind`; false when the path does not fit.
    ///
    /// Checking and binding are one walk so that [`CompiledRoute::fits`] (run for every route
    /// on every request) allocates nothing, and only the chosen route's variables are copied.
    fn walk<S: AsRef<str>>(&self, parts: &[S], mut bind: impl FnMut(&str, Range<usize>)) -> bool {
        let mut i = 0;
        for (si, seg) in self.segments.iter().enumerate() {
            match seg {
                Seg::Literal(l) => {
                    if !parts.get(i).is_some_and(|p| literal_eq(p.as_ref(), l)) {
                        return false;
                    }
                    i += 1;
                }
                Seg::Var(name) => {
                    if i >= parts.len() {
                        return false;
                    }
                    bind(name, i..i + 1);
                    i += 1;
                }
                Seg::Wildcard(name) => {
                    // Whatever the literals after the wildcard need is left for them.
                    let tail = self.segments.len() - si - 1;
                    let Some(end) = parts.len().checked_sub(tail) else {
                        return false;
                    };
                    if end < i {
                        return false;
                    }
                    bind(name, i..end);
                    i = end;
                }
            }
        }
        i == parts.len()
    }

    /// Whether the decoded path segments fit this route.
    fn fits<S: AsRef<str>>(&self, parts: &[S]) -> bool {
        // Every route is tried on every request; without a wildcard a route takes exactly one
        // segment per template segment, so most are ruled out before any text is compared.
        if !self.wildcard && self.segments.len() != parts.len() {
            return false;
        }
        self.walk(parts, |_, _| {})
    }

    /// Matches decoded path segments, returning the bound variables.
    fn matches<S: AsRef<str>>(&self, parts: &[S]) -> Option<Vec<(String, String)>> {
        let mut vars = Vec::new();
        let fits = self.walk(parts, |name, range| {
            let value = match parts.get(range.clone()) {
                Some([one]) => one.as_ref().to_string(),
                Some(many) => join(many),
                None => String::new(),
            };
            vars.push((name.to_string(), value));
        });
        fits.then_some(vars)
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

/// Whether a path segment is the (lower-cased) literal `lower`, ignoring ASCII case.
///
/// Paths nearly always come in the case they were declared in, so one exact comparison settles
/// most matches; only then are the bytes folded one by one (and only one side needs it).
fn literal_eq(segment: &str, lower: &str) -> bool {
    segment.len() == lower.len()
        && (segment == lower
            || segment
                .bytes()
                .zip(lower.bytes())
                .all(|(a, b)| a.to_ascii_lowercase() == b))
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

/// Segments joined with `/` (a wildcard's value).
fn join<S: AsRef<str>>(parts: &[S]) -> String {
    let mut out = String::new();
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            out.push('/');
        }
        out.push_str(p.as_ref());
    }
    out
}

/// Splits a raw path into percent-decoded segments, dropping empty ones (so a trailing or
/// doubled slash is ignored).
///
/// The pipeline splits a path once (into [`Segments`], which does the same without a `Vec`)
/// and routes on these; only a segment holding a `%` is decoded into a new string, the rest
/// borrow the path.
#[cfg(test)]
pub(crate) fn split_path(raw: &str) -> Vec<Cow<'_, str>> {
    raw.split('/')
        .filter(|s| !s.is_empty())
        .map(|s| {
            if s.contains('%') {
                percent_decode_str(s).decode_utf8_lossy()
            } else {
                Cow::Borrowed(s)
            }
        })
        .collect()
}

/// How many segments a path may have before [`Segments`] moves them to the heap; every route
/// the hosts declare is shorter.
const INLINE_SEGMENTS: usize = 8;

/// A path's percent-decoded segments ([`split_path`]), held on the stack for the usual short
/// path: splitting is done on every request, and a `Vec` would be an allocation each time.
pub(crate) struct Segments<'a> {
    inline: [Cow<'a, str>; INLINE_SEGMENTS],
    len: usize,
    /// Every segment, once there are more than fit inline.
    spilled: Vec<Cow<'a, str>>,
}

impl<'a> Segments<'a> {
    /// Splits `raw` as [`split_path`] does.
    pub(crate) fn split(raw: &'a str) -> Self {
        let mut segs = Segments {
            inline: Default::default(),
            len: 0,
            spilled: Vec::new(),
        };
        // One pass over the bytes finds both the slashes and whether a segment needs decoding
        // (`str::split` and `contains` each run a general-purpose search per call, which for
        // paths this short costs more than the search itself).
        let mut start = 0;
        let mut escaped = false;
        for (i, &b) in raw.as_bytes().iter().enumerate() {
            if b == b'/' {
                // The leading slash (and doubled ones) end empty segments: no call for those.
                if i > start {
                    segs.push(raw, start..i, escaped);
                }
                start = i + 1;
                escaped = false;
            } else if b == b'%' {
                escaped = true;
            }
        }
        segs.push(raw, start..raw.len(), escaped);
        segs
    }

    /// Adds `raw[range]` unless it is empty, decoded if it holds an escape.
    #[inline]
    fn push(&mut self, raw: &'a str, range: Range<usize>, escaped: bool) {
        // The range ends at a `/` or the end, so it is always on character boundaries.
        let Some(s) = raw.get(range).filter(|s| !s.is_empty()) else {
            return;
        };
        let s = if escaped {
            percent_decode_str(s).decode_utf8_lossy()
        } else {
            Cow::Borrowed(s)
        };
        if let Some(slot) = self.inline.get_mut(self.len) {
            *slot = s;
            self.len += 1;
        } else {
            if self.spilled.is_empty() {
                self.spilled
                    .extend(self.inline.iter_mut().map(std::mem::take));
            }
            self.spilled.push(s);
        }
    }
}

impl<'a> std::ops::Deref for Segments<'a> {
    type Target = [Cow<'a, str>];

    fn deref(&self) -> &Self::Target {
        if self.spilled.is_empty() {
            self.inline.get(..self.len).unwrap_or_default()
        } else {
            &self.spilled
        }
    }
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
        route_format: Option<&'static str>,
        /// The format `.ext` on the operation name names.
        suffix: Option<&'static str>,
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
        /// The format `.ext` on the last segment names.
        suffix: Option<&'static str>,
    },
    /// A generic route naming no known operation.
    UnknownOperation {
        /// The name as requested.
        name: String,
        /// The format a `/{fmt}/...` route names.
        route_format: Option<&'static str>,
        /// The format `.ext` on the operation name names.
        suffix: Option<&'static str>,
    },
    /// `OPTIONS` on a known path.
    Options {
        /// Verbs the path accepts.
        allow: String,
        /// The format `.ext` on the last segment names.
        suffix: Option<&'static str>,
    },
    /// A known path, but not for this verb.
    MethodNotAllowed {
        /// Verbs the path accepts.
        allow: String,
        /// The format `.ext` on the last segment names.
        suffix: Option<&'static str>,
    },
    /// Nothing matched.
    NotFound {
        /// The format `.ext` on the last segment names.
        suffix: Option<&'static str>,
    },
}

/// Splits a `.ext` suffix that names a format off `name`, returning the format's name (the
/// negotiator looks formats up by name ignoring case, so it stands for the suffix as written).
fn split_suffix<'a>(name: &'a str, formats: &Formats) -> (&'a str, Option<&'static str>) {
    // A byte loop rather than `rsplit_once`: names are short, and a general search costs more
    // to set up than to run on them.
    let dot = name.as_bytes().iter().rposition(|&b| b == b'.');
    if let Some((base, ext)) = dot.and_then(|i| Some((name.get(..i)?, name.get(i + 1..)?)))
        && !base.is_empty()
        && let Some(f) = formats.get(ext)
    {
        return (base, Some(f.name()));
    }
    (name, None)
}

/// The router: every REST route compiled once, plus the generic routes.
#[derive(Debug, Clone, Default)]
pub(crate) struct Router {
    routes: Vec<CompiledRoute>,
    /// For each segment count, the routes a path with that many segments may fit, in
    /// registration order: every request would otherwise look at every route.
    by_len: Vec<Vec<usize>>,
    /// The wildcard routes: all a path longer than `by_len` covers may fit.
    wildcards: Vec<usize>,
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
        let longest = routes.iter().map(|r| r.segments.len()).max().unwrap_or(0);
        let by_len = (0..=longest)
            .map(|n| {
                (0..routes.len())
                    .filter(|&i| {
                        routes.get(i).is_some_and(|r| {
                            if r.wildcard {
                                r.segments.len() <= n + 1
                            } else {
                                r.segments.len() == n
                            }
                        })
                    })
                    .collect()
            })
            .collect();
        let wildcards = (0..routes.len())
            .filter(|&i| routes.get(i).is_some_and(|r| r.wildcard))
            .collect();
        Router {
            routes,
            by_len,
            wildcards,
        }
    }

    /// Resolves a generic operation name (`Op`, `op.xml`, `Op[]`, `Op%5B%5D.json`).
    ///
    /// `split` is [`split_suffix`] of the name, which is always the path's last segment (worked
    /// out once per request).
    fn generic(
        &self,
        split: (&str, Option<&'static str>),
        route_format: Option<&'static str>,
        oneway: bool,
        registry: &Registry,
        formats: &Formats,
    ) -> RouteMatch {
        let (mut name, mut suffix) = split;
        let mut batch = false;
        if let Some(n) = name.strip_suffix("[]") {
            name = n;
            batch = true;
            if suffix.is_none() {
                (name, suffix) = split_suffix(name, formats);
            }
        }
        match registry.find(name) {
            Some(op) => RouteMatch::Generic {
                op,
                route_format,
                suffix,
                batch,
                oneway,
            },
            None => RouteMatch::UnknownOperation {
                name: name.to_string(),
                route_format,
                suffix,
            },
        }
    }

    /// Routes a request by its decoded path segments ([`split_path`]). `method` is the
    /// effective method (after `X-HTTP-Method-Override`), upper case; `HEAD` routes as `GET`.
    pub(crate) fn route(
        &self,
        method: &str,
        parts: &[Cow<'_, str>],
        registry: &Registry,
        formats: &Formats,
    ) -> RouteMatch {
        // Every kind of route looks at the last segment's format suffix.
        let last = match parts.last() {
            Some(last) => split_suffix(last, formats),
            None => ("", None),
        };
        if let [first, _] = parts
            && literal_eq(first, "api")
        {
            return options_for_generic(method, self.generic(last, None, false, registry, formats));
        }
        if let Some(m) = self.rest(method, parts, last) {
            return m;
        }
        if let [fmt, kind, _] = parts
            && let Some(f) = formats.get(fmt)
        {
            let oneway = literal_eq(kind, "oneway");
            if oneway || literal_eq(kind, "reply") || literal_eq(kind, "syncreply") {
                let m = self.generic(last, Some(f.name()), oneway, registry, formats);
                return options_for_generic(method, m);
            }
        }
        RouteMatch::NotFound { suffix: last.1 }
    }

    /// `last` is [`split_suffix`] of the last segment.
    fn rest(
        &self,
        method: &str,
        parts: &[Cow<'_, str>],
        (last, suffix): (&str, Option<&'static str>),
    ) -> Option<RouteMatch> {
        if suffix.is_none() {
            return self.pick(method, parts, None);
        }
        // Only a path ending in a format suffix needs segments of its own: the last one without it.
        let mut stripped: Vec<&str> = parts.iter().map(|p| p.as_ref()).collect();
        if let Some(l) = stripped.last_mut() {
            *l = last;
        }
        if let Some(m) = self.pick(method, &stripped, suffix) {
            return Some(m);
        }
        // The dot was part of a value after all (`/files/{name}` with `a.json`); the suffix goes
        // back lower-cased, as it always has.
        let ext = parts
            .last()
            .and_then(|l| l.rsplit_once('.'))
            .map(|(_, ext)| ext.to_ascii_lowercase())
            .unwrap_or_default();
        let rejoined = format!("{last}.{ext}");
        if let Some(l) = stripped.last_mut() {
            *l = &rejoined;
        }
        self.pick(method, &stripped, None)
    }

    /// The routes the segments fit, in registration order.
    fn candidates<'r, S: AsRef<str>>(
        &'r self,
        parts: &'r [S],
    ) -> impl Iterator<Item = &'r CompiledRoute> + 'r {
        self.by_len
            .get(parts.len())
            .unwrap_or(&self.wildcards)
            .iter()
            .filter_map(|&i| self.routes.get(i))
            .filter(move |r| r.fits(parts))
    }

    /// The best of the routes a path fits for `method`, with its variables bound; `None` when
    /// the path fits no route at all.
    ///
    /// One pass over the routes on the way to a match (a list of candidates would be an
    /// allocation per request); the rarer answers (`OPTIONS`, 405) walk them again for `Allow`.
    fn pick<S: AsRef<str>>(
        &self,
        method: &str,
        parts: &[S],
        suffix: Option<&'static str>,
    ) -> Option<RouteMatch> {
        let routing_method = if method == "HEAD" { "GET" } else { method };
        let mut any = false;
        let mut best = None;
        for r in self.candidates(parts) {
            any = true;
            if !r.allows(routing_method) {
                continue;
            }
            let score = r.score(routing_method);
            // Strictly better only: ties go to the first registered route.
            if best.as_ref().is_none_or(|(_, b)| score > *b) {
                best = Some((r, score));
            }
        }
        let best = best.map(|(r, _)| r);
        if !any {
            return None;
        }
        if method == "OPTIONS" {
            return Some(RouteMatch::Options {
                allow: allow_header(self.candidates(parts)),
                suffix,
            });
        }
        Some(match best {
            Some(r) => RouteMatch::Rest {
                op: r.op,
                // A candidate fits by construction, so this always binds.
                path_vars: r.matches(parts).unwrap_or_default(),
                suffix,
            },
            None => RouteMatch::MethodNotAllowed {
                allow: allow_header(self.candidates(parts)),
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
fn allow_header<'r>(candidates: impl Iterator<Item = &'r CompiledRoute>) -> String {
    fn push(verbs: &mut Vec<String>, v: &str) {
        if !verbs.iter().any(|x| x == v) {
            verbs.push(v.to_string());
        }
    }
    let mut verbs: Vec<String> = Vec::new();
    for r in candidates {
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
    fn split_decodes_only_escaped_segments() {
        let parts = split_path("/a//b%20c/");
        assert_eq!(parts, ["a", "b c"]);
        assert!(matches!(parts[0], Cow::Borrowed("a")));
        assert!(split_path("/").is_empty());
    }

    #[test]
    fn segments_split_like_split_path() {
        for path in [
            "",
            "/",
            "/json/reply/Echo",
            "//a///b/",
            "/a%2Fb/%41c",
            "/1/2/3/4/5/6/7/8",
            "/1/2/3/4/5/6/7/8/9",
            "/1/2/3/4/5/6/7/8/9/10/%31%31/12",
        ] {
            assert_eq!(
                &*Segments::split(path),
                split_path(path).as_slice(),
                "{path}"
            );
        }
    }

    #[test]
    fn allow_lists_verbs() {
        let a = route("/x", Some("GET,POST"));
        let b = route("/x", Some("PUT"));
        assert_eq!(
            allow_header([&a, &b].into_iter()),
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
