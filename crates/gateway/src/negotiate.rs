//! Response format negotiation (decisions.md 4 and 5).
//!
//! Precedence: path suffix > `?format=` > the format a `/{fmt}/reply` route names > `Accept`
//! (with q-values and order) > JSON. API clients that send `*/*` or no `Accept` get JSON; HTML
//! only goes to clients that prefer `text/html`.

use std::borrow::Cow;
use std::sync::Arc;

use actix_web::http::header::HeaderValue;

use crate::format::{Format, Formats};

/// The JSV media type served when the format was picked by the URL (suffix, `?format=`,
/// `/jsv/...`), as the metadata pages document it.
const JSV_URL_CONTENT_TYPE: &str = "text/jsv; charset=utf-8";
/// What a `?debug` JSV response is labelled: it is for people, not for a JSV reader.
const PRETTY_JSV_CONTENT_TYPE: &str = "text/plain; charset=utf-8";
/// JSONP responses are scripts.
const JSONP_CONTENT_TYPE: &str = "text/javascript; charset=utf-8";

static JSV_URL_HEADER: HeaderValue = HeaderValue::from_static(JSV_URL_CONTENT_TYPE);
static PRETTY_JSV_HEADER: HeaderValue = HeaderValue::from_static(PRETTY_JSV_CONTENT_TYPE);
static JSONP_HEADER: HeaderValue = HeaderValue::from_static(JSONP_CONTENT_TYPE);

/// The outcome of negotiation: which format writes the response and how it is labelled.
#[derive(Clone)]
pub struct Negotiated {
    /// The format that writes the body.
    pub format: Arc<dyn Format>,
    /// The response `Content-Type`: a static string except for a JSV type taken from `Accept`,
    /// so cloning a negotiation allocates nothing.
    pub content_type: Cow<'static, str>,
    /// [`Negotiated::content_type`] as a header value (prebuilt for the static types), `None`
    /// if it is not a valid one.
    pub content_type_header: Option<HeaderValue>,
    /// Human-oriented layout (`?debug` with JSV).
    pub pretty: bool,
    /// The JSONP callback to wrap a JSON body in.
    pub jsonp: Option<String>,
}

impl std::fmt::Debug for Negotiated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Negotiated")
            .field("format", &self.format.name())
            .field("content_type", &self.content_type)
            .field("pretty", &self.pretty)
            .field("jsonp", &self.jsonp)
            .finish()
    }
}

/// Everything negotiation reads from a request.
#[derive(Debug, Clone, Copy, Default)]
pub struct NegotiationInput<'a> {
    /// The `.ext` suffix of the path (`json`), if it names a format.
    pub suffix: Option<&'a str>,
    /// The `?format=` value.
    pub query_format: Option<&'a str>,
    /// The format a `/{fmt}/reply|oneway|syncreply` route names.
    pub route_format: Option<&'a str>,
    /// The `Accept` header.
    pub accept: Option<&'a str>,
    /// The `?debug=` value.
    pub debug: Option<&'a str>,
    /// The `?callback=` value.
    pub callback: Option<&'a str>,
}

/// How the chosen format was picked; JSV's label depends on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source<'a> {
    /// The suffix, `?format=` or `?callback=`.
    Url,
    /// A `/{fmt}/reply` route.
    Route,
    Accept(&'a str),
    Default,
}

/// `?format=xml.foo` means `xml`, as upstream ignores anything after a dot.
fn query_format_name(v: &str) -> &str {
    v.split('.').next().unwrap_or("").trim()
}

/// A JSONP callback is echoed into a script, so only plain identifiers and member paths are
/// accepted; anything else is ignored rather than reflected.
fn valid_callback(cb: &str) -> bool {
    !cb.is_empty()
        && cb.len() <= 128
        && cb
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'$' | b'.'))
}

/// One media range of an `Accept` header.
struct AcceptEntry<'a> {
    media: &'a str,
    q: f32,
}

/// One media range with its q-value; `None` for an empty range.
fn parse_entry(part: &str) -> Option<AcceptEntry<'_>> {
    let mut params = part.split(';');
    let media = params.next()?.trim();
    if media.is_empty() {
        return None;
    }
    let mut q = 1.0_f32;
    for p in params {
        if let Some((k, v)) = p.split_once('=')
            && k.trim().eq_ignore_ascii_case("q")
        {
            q = v.trim().parse::<f32>().unwrap_or(0.0).clamp(0.0, 1.0);
        }
    }
    Some(AcceptEntry { media, q })
}

fn parse_accept(accept: &str) -> Vec<AcceptEntry<'_>> {
    let mut entries: Vec<AcceptEntry<'_>> = accept
        .split(',')
        .filter_map(parse_entry)
        .filter(|e| e.q > 0.0)
        .collect();
    // Stable: equal q-values keep the client's order.
    entries.sort_by(|a, b| b.q.partial_cmp(&a.q).unwrap_or(std::cmp::Ordering::Equal));
    entries
}

/// The format a single media range selects.
fn format_for<'a>(formats: &Formats, media: &'a str) -> Option<(Arc<dyn Format>, &'a str)> {
    if media == "*/*" || media.eq_ignore_ascii_case("application/*") {
        return formats.get("json").map(|f| (f.clone(), media));
    }
    formats.by_media_type(media).map(|f| (f.clone(), media))
}

/// The format the client's `Accept` header prefers, with the media type that selected it.
fn from_accept<'a>(formats: &Formats, accept: &'a str) -> Option<(Arc<dyn Format>, &'a str)> {
    // What most API clients send (curl, many HTTP libraries): nothing to parse.
    if accept == "*/*" {
        return formats.get("json").map(|f| (f.clone(), accept));
    }
    // One range (most other API clients' one type) needs no list to sort.
    if !accept.contains(',') {
        return parse_entry(accept)
            .filter(|e| e.q > 0.0)
            .and_then(|e| format_for(formats, e.media));
    }
    for e in parse_accept(accept) {
        let media = e.media;
        // `*/*` decides even when there is no JSON format to give.
        if media == "*/*" || media.eq_ignore_ascii_case("application/*") {
            return formats.get("json").map(|f| (f.clone(), media));
        }
        if let Some(f) = formats.by_media_type(media) {
            return Some((f.clone(), media));
        }
    }
    None
}

/// The JSV media type an `Accept` header names, if any.
fn jsv_media_in(formats: &Formats, accept: &str) -> Option<String> {
    // Every `/jsv/reply` request asks this, and most send `*/*`: a header that names none of the
    // JSV format's media types anywhere cannot select it, so skip parsing and sorting it.
    let names_jsv = formats
        .iter()
        .filter(|f| f.name() == "jsv")
        .flat_map(|f| f.media_types().iter())
        .any(|m| contains_ignore_ascii_case(accept, m));
    if !names_jsv {
        return None;
    }
    parse_accept(accept).into_iter().find_map(|e| {
        let f = formats.by_media_type(e.media)?;
        (f.name() == "jsv").then(|| e.media.to_ascii_lowercase())
    })
}

fn contains_ignore_ascii_case(haystack: &str, needle: &str) -> bool {
    needle.is_empty()
        || haystack
            .as_bytes()
            .windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

/// Picks the response format for a request.
///
/// Returns `None` only when the host has no JSON format at all.
pub fn negotiate(formats: &Formats, input: &NegotiationInput<'_>) -> Option<Negotiated> {
    let by_name = |n: &str| formats.get(n).cloned();
    let mut chosen: Option<(Arc<dyn Format>, Source<'_>)> = None;
    if let Some(f) = input.suffix.and_then(by_name) {
        chosen = Some((f, Source::Url));
    }
    if chosen.is_none()
        && let Some(f) = input.query_format.map(query_format_name).and_then(by_name)
    {
        chosen = Some((f, Source::Url));
    }
    // `?callback=` asks for JSON unless the URL named a format explicitly.
    let callback = input.callback.filter(|c| valid_callback(c));
    if chosen.is_none() && callback.is_some() {
        chosen = by_name("json").map(|f| (f, Source::Url));
    }
    if chosen.is_none()
        && let Some(f) = input.route_format.and_then(by_name)
    {
        chosen = Some((f, Source::Route));
    }
    if chosen.is_none()
        && let Some((f, media)) = input.accept.and_then(|a| from_accept(formats, a))
    {
        chosen = Some((f, Source::Accept(media)));
    }
    let (format, source) = match chosen {
        Some(c) => c,
        None => (by_name("json")?, Source::Default),
    };
    let is_jsv = format.name() == "jsv";
    let pretty = is_jsv && input.debug.is_some_and(|d| !d.is_empty());
    let jsonp = if format.name() == "json" {
        callback.map(str::to_string)
    } else {
        None
    };
    let owned = |text: String| {
        let header = HeaderValue::try_from(text.as_str()).ok();
        (Cow::Owned(text), header)
    };
    let (content_type, content_type_header) = if jsonp.is_some() {
        (
            Cow::Borrowed(JSONP_CONTENT_TYPE),
            Some(JSONP_HEADER.clone()),
        )
    } else if pretty {
        (
            Cow::Borrowed(PRETTY_JSV_CONTENT_TYPE),
            Some(PRETTY_JSV_HEADER.clone()),
        )
    } else if is_jsv {
        let url = || {
            (
                Cow::Borrowed(JSV_URL_CONTENT_TYPE),
                Some(JSV_URL_HEADER.clone()),
            )
        };
        match source {
            Source::Accept(media) => {
                owned(format!("{}; charset=utf-8", media.to_ascii_lowercase()))
            }
            // `/jsv/reply` answers with the JSV type the client asked for (C#'s JsvServiceClient
            // names `application/jsv`), else the documented `text/jsv`.
            Source::Route => match input.accept.and_then(|a| jsv_media_in(formats, a)) {
                Some(media) => owned(format!("{media}; charset=utf-8")),
                None => url(),
            },
            Source::Url | Source::Default => url(),
        }
    } else {
        (
            Cow::Borrowed(format.content_type()),
            format.content_type_header(),
        )
    };
    Some(Negotiated {
        format,
        content_type,
        content_type_header,
        pretty,
        jsonp,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn pick(input: NegotiationInput<'_>) -> (String, String) {
        let n = negotiate(&Formats::standard(), &input).unwrap();
        (n.format.name().to_string(), n.content_type.into_owned())
    }

    #[test]
    fn precedence_suffix_query_route_accept() {
        let all = NegotiationInput {
            suffix: Some("csv"),
            query_format: Some("xml"),
            route_format: Some("jsv"),
            accept: Some("text/html"),
            ..Default::default()
        };
        assert_eq!(pick(all).0, "csv");
        assert_eq!(
            pick(NegotiationInput {
                suffix: None,
                ..all
            })
            .0,
            "xml"
        );
        assert_eq!(
            pick(NegotiationInput {
                suffix: None,
                query_format: None,
                ..all
            })
            .0,
            "jsv"
        );
        assert_eq!(
            pick(NegotiationInput {
                suffix: None,
                query_format: None,
                route_format: None,
                ..all
            })
            .0,
            "html"
        );
        assert_eq!(pick(NegotiationInput::default()).0, "json");
    }

    #[test]
    fn accept_honours_q_values_and_order() {
        let a = |s| {
            pick(NegotiationInput {
                accept: Some(s),
                ..Default::default()
            })
            .0
        };
        assert_eq!(a("*/*"), "json");
        assert_eq!(a("text/plain, */*"), "json");
        assert_eq!(
            a("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
            "html"
        );
        assert_eq!(a("application/xml;q=0.5, text/csv"), "csv");
        assert_eq!(a("text/html;q=0.1, application/json"), "json");
        assert_eq!(a("application/xml, text/html"), "xml");
        assert_eq!(a("text/jsv"), "jsv");
        assert_eq!(a("text/html;q=0"), "json");
    }

    #[test]
    fn jsv_labels() {
        let by_accept = pick(NegotiationInput {
            accept: Some("application/jsv"),
            ..Default::default()
        });
        assert_eq!(by_accept.1, "application/jsv; charset=utf-8");
        let by_accept = pick(NegotiationInput {
            accept: Some("text/jsv"),
            ..Default::default()
        });
        assert_eq!(by_accept.1, "text/jsv; charset=utf-8");
        let by_query = pick(NegotiationInput {
            query_format: Some("JSV"),
            ..Default::default()
        });
        assert_eq!(by_query.1, "text/jsv; charset=utf-8");
        let debug = pick(NegotiationInput {
            suffix: Some("jsv"),
            debug: Some("1"),
            ..Default::default()
        });
        assert_eq!(debug.1, "text/plain; charset=utf-8");
        let route = pick(NegotiationInput {
            route_format: Some("jsv"),
            ..Default::default()
        });
        assert_eq!(route.1, "text/jsv; charset=utf-8");
        let route = pick(NegotiationInput {
            route_format: Some("jsv"),
            accept: Some("application/jsv"),
            ..Default::default()
        });
        assert_eq!(route.1, "application/jsv; charset=utf-8");
        let bare_debug = pick(NegotiationInput {
            suffix: Some("jsv"),
            debug: Some(""),
            ..Default::default()
        });
        assert_eq!(bare_debug.1, "text/jsv; charset=utf-8");
    }

    #[test]
    fn jsonp() {
        let n = negotiate(
            &Formats::standard(),
            &NegotiationInput {
                callback: Some("cb"),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(n.jsonp.as_deref(), Some("cb"));
        assert_eq!(n.content_type, "text/javascript; charset=utf-8");
        let bad = negotiate(
            &Formats::standard(),
            &NegotiationInput {
                callback: Some("<x>"),
                ..Default::default()
            },
        )
        .unwrap();
        assert!(bad.jsonp.is_none());
    }
}
