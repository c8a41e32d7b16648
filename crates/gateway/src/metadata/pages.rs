//! The HTML pages: the `/metadata` index and the operation pages.
//!
//! Plain HTML with inline CSS: nothing is fetched from elsewhere and nothing needs script.

use crate::meta::{ReturnType, TypeInfo, TypeRef};

use super::model::{self, Scope};
use super::sample::{self, Placeholder};
use super::{Ctx, HTML, MetadataResponse, PAGE_FORMATS, esc, url_enc};

const STYLE: &str = "body{font-family:-apple-system,BlinkMacSystemFont,'Segoe UI',Helvetica,Arial,sans-serif;\
margin:0;padding:1em 2em 3em;color:#222;line-height:1.4}\
h1{font-size:1.6em;margin:.2em 0 .6em}h2{font-size:1.3em;margin:.8em 0 .3em}\
h3{font-size:1.05em;font-weight:normal;margin:.4em 0 .8em}\
a{color:#0b5ed7;text-decoration:none}a:hover{text-decoration:underline}\
table{border-collapse:collapse;margin:.8em 0}caption{text-align:left;padding:.3em 0}\
th,td{text-align:left;padding:.3em .8em;border-bottom:1px solid #e5e7eb;vertical-align:top}\
table.routes th{font-family:monospace;font-weight:normal;background:#f3f4f6}\
pre{background:#f8f9fa;border:1px solid #e5e7eb;padding:.8em 1em;overflow:auto;tab-size:4}\
nav.types-nav a{display:inline-block;padding:.3em .7em;margin-right:.4em;border-radius:.3em;color:#555}\
nav.types-nav a.active{background:#e5e7eb;color:#111}\
.value{color:#b45309}.ops td.formats a{margin-right:.6em}.desc{color:#555}";

/// The languages offered on operation pages: query value and label.
const LANGS: [(&str, &str); 4] = [
    ("csharp", "C#"),
    ("typescript", "TypeScript"),
    ("dart", "Dart"),
    ("python", "Python"),
];

fn head(title: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        esc(title)
    )
}

const FOOT: &str = "</body>\n</html>\n";

/// Description text as HTML: escaped, line breaks kept.
fn desc_html(d: &str) -> String {
    esc(d).replace('\n', "<br />\n")
}

/// The `/metadata` index: every operation with its description and per-format links.
pub(crate) fn index(ctx: &Ctx<'_>) -> String {
    let name = &ctx.site.service_name;
    let mut s = head(name);
    s.push_str(&format!("<h1>{}</h1>\n", esc(name)));
    let mut ops: Vec<&'static TypeInfo> = ctx.registry.operations().collect();
    ops.sort_by(|a, b| {
        a.name
            .to_ascii_lowercase()
            .cmp(&b.name.to_ascii_lowercase())
    });
    ops.dedup_by(|a, b| std::ptr::eq(*a, *b));
    s.push_str("<p>The following operations are supported. For a formal definition, see the links for each format.</p>\n");
    s.push_str("<table class=\"ops\">\n<thead><tr><th>Operation</th><th>Formats</th><th>Description</th></tr></thead>\n<tbody>\n");
    for op in &ops {
        let q = url_enc(op.name);
        s.push_str(&format!(
            "<tr><th><a href=\"/json/metadata?op={q}\">{}</a></th><td class=\"formats\">",
            esc(op.name)
        ));
        for f in PAGE_FORMATS {
            s.push_str(&format!(
                "<a href=\"/{f}/metadata?op={q}\">{}</a>",
                f.to_ascii_uppercase()
            ));
        }
        s.push_str(&format!(
            "</td><td class=\"desc\">{}</td></tr>\n",
            op.description.map(desc_html).unwrap_or_default()
        ));
    }
    s.push_str("</tbody>\n</table>\n");
    s.push_str("<h2>Add ServiceStack Reference</h2>\n<p>Generate typed client DTOs for these operations:</p>\n<ul>\n");
    for (lang, label) in LANGS {
        s.push_str(&format!(
            "<li><a href=\"/types/{lang}\">{label}</a> <code>/types/{lang}</code></li>\n"
        ));
    }
    s.push_str("<li><a href=\"/types/metadata\">Metadata</a> <code>/types/metadata</code></li>\n");
    s.push_str("<li><a href=\"/types\">All languages</a> <code>/types</code></li>\n");
    s.push_str("<li><a href=\"/api\">API index</a> <code>/api</code></li>\n</ul>\n");
    s.push_str(FOOT);
    s
}

fn not_found(ctx: &Ctx<'_>, op: &str) -> MetadataResponse {
    let name = &ctx.site.service_name;
    let mut s = head(name);
    s.push_str(&format!("<h1>{}</h1>\n", esc(name)));
    s.push_str("<p><a href=\"/metadata\">&lt;back to all web services</a></p>\n");
    s.push_str(&format!(
        "<h2>Not Found</h2>\n<p>The operation '{}' does not exist for this service.</p>\n",
        esc(op)
    ));
    s.push_str(FOOT);
    MetadataResponse {
        status: 404,
        content_type: HTML,
        body: s,
    }
}

/// The verb and path of the sample request: the first route taking POST (or any verb), else
/// PUT, PATCH, GET, DELETE; `POST /{fmt}/reply/{Op}` when there is no route.
fn sample_route(t: &TypeInfo, fmt: &str) -> (&'static str, String) {
    let routes = t.operation.as_ref().map(|o| o.routes).unwrap_or(&[]);
    for verb in ["POST", "PUT", "PATCH", "GET", "DELETE"] {
        if let Some(r) = routes.iter().find(|r| r.allows(verb)) {
            return (verb, r.path.to_string());
        }
    }
    ("POST", format!("/{fmt}/reply/{}", t.name))
}

/// Where a property of `t` is sent: `path` when a route of the operation names it, else
/// `query` for the sample's GET or DELETE, else `body`.
fn param_kind(t: &TypeInfo, p: &crate::meta::PropertyInfo, verb: &str) -> &'static str {
    let routes = t.operation.as_ref().map(|o| o.routes).unwrap_or(&[]);
    for r in routes {
        let lower = r.path.to_ascii_lowercase();
        for name in [p.wire_name, p.name] {
            let var = format!("{{{}", name.to_ascii_lowercase());
            if lower.contains(&format!("{var}}}")) || lower.contains(&format!("{var}*}}")) {
                return "path";
            }
        }
    }
    if matches!(verb, "GET" | "DELETE") {
        "query"
    } else {
        "body"
    }
}

/// The page of one operation in one format (`/jsv/metadata?op=NewBillable&lang=dart`).
pub(crate) fn operation(ctx: &Ctx<'_>, fmt: &str, op_name: &str) -> MetadataResponse {
    let found = ctx
        .registry
        .operations()
        .find(|t| t.name == op_name)
        .or_else(|| {
            ctx.registry
                .operations()
                .find(|t| t.name.eq_ignore_ascii_case(op_name))
        });
    let Some(t) = found else {
        return not_found(ctx, op_name);
    };
    let Some(op) = t.operation.as_ref() else {
        return not_found(ctx, op_name);
    };
    let service = &ctx.site.service_name;
    let upper = fmt.to_ascii_uppercase();
    let mut s = head(&format!("{} | {}", t.name, service));
    s.push_str(&format!("<h1>{}</h1>\n", esc(service)));
    s.push_str("<p><a href=\"/metadata\">&lt;back to all web services</a></p>\n");
    s.push_str(&format!("<h2>{}</h2>\n", esc(t.name)));
    if let Some(d) = t.description {
        s.push_str(&format!("<h3 id=\"desc\">{}</h3>\n", desc_html(d)));
    }
    if !op.tags.is_empty() {
        s.push_str("<p class=\"tags\">");
        for tag in op.tags {
            s.push_str(&format!("<b>{}</b> ", esc(tag)));
        }
        s.push_str("</p>\n");
    }
    if op.requires_auth {
        s.push_str(
            "<table class=\"authentication\"><caption><b>Requires Authentication</b></caption>",
        );
        if !op.required_roles.is_empty() {
            let plural = if op.required_roles.len() > 1 { "s" } else { "" };
            s.push_str(&format!(
                "<tr><td>Required role{plural}:</td><td>{}</td></tr>",
                esc(&op.required_roles.join(", "))
            ));
        }
        if !op.any_roles.is_empty() {
            let label = if op.any_roles.len() > 1 {
                "Requires any of the roles"
            } else {
                "Requires the role"
            };
            s.push_str(&format!(
                "<tr><td>{label}:</td><td>{}</td></tr>",
                esc(&op.any_roles.join(", "))
            ));
        }
        s.push_str("</table>\n");
    }
    if !op.routes.is_empty() {
        s.push_str("<table class=\"routes\"><caption>The following routes are available for this service:</caption><tbody>");
        for r in op.routes {
            let verbs = r
                .verbs
                .map(|v| v.replace(',', ", "))
                .unwrap_or_else(|| "All Verbs".to_string());
            s.push_str(&format!(
                "<tr><th>{}</th><th>{}</th></tr>",
                esc(&verbs),
                esc(r.path)
            ));
        }
        s.push_str("</tbody></table>\n");
    }

    let lang = ctx
        .query
        .get("lang")
        .map(str::to_ascii_lowercase)
        .filter(|l| !l.is_empty());
    let q = url_enc(t.name);
    s.push_str("<nav class=\"types-nav\">");
    let active = |on: bool| if on { " class=\"active\"" } else { "" };
    s.push_str(&format!(
        "<a{} href=\"?op={q}\">Metadata</a>",
        active(lang.is_none())
    ));
    for (key, label) in LANGS {
        s.push_str(&format!(
            "<a{} href=\"?op={q}&amp;lang={key}\">{label}</a>",
            active(lang.as_deref() == Some(key))
        ));
    }
    s.push_str("</nav>\n");

    let (verb, path) = sample_route(t, fmt);
    match lang.as_deref() {
        None => {
            let mut types = Vec::new();
            model::reach(t, op.return_marker, &mut types);
            for ty in &types {
                params_table(&mut s, ty, verb);
            }
        }
        Some(l) => {
            let scope = Scope::Page(t);
            let (src, label) = match l {
                "csharp" => (super::csharp::generate(ctx, &scope), "C#"),
                "typescript" => (super::typescript::generate(ctx, &scope), "TypeScript"),
                "dart" => (super::dart::generate(ctx, &scope), "Dart"),
                "python" => (super::python::generate(ctx, &scope), "Python"),
                _ => (format!("No generator for '{l}'."), ""),
            };
            s.push_str(&format!(
                "<pre class=\"code\"><code class=\"language-{0}\" lang=\"{0}\">{1}</code></pre>\n",
                esc(l),
                esc(src.trim_end())
            ));
            if !label.is_empty() {
                s.push_str(&format!(
                    "<p><a href=\"/types/{l}?IncludeTypes={q}.*\">{label} {} DTOs</a></p>\n",
                    esc(t.name)
                ));
            }
        }
    }

    s.push_str(&format!(
        "<div class=\"call-info\"><p>To override the Content-type in your clients, use the HTTP <b>Accept</b> Header, \
         append the <b>.{fmt}</b> suffix or <b>?format={fmt}</b></p>"
    ));
    if fmt == "json" {
        s.push_str("<p>To embed the response in a <b>jsonp</b> callback, append <b>?callback=myCallback</b></p>");
    }
    s.push_str("</div>\n");
    s.push_str(&format!("<h3>HTTP + {upper}</h3>\n"));
    s.push_str(
        "<p>The following are sample HTTP requests and responses. The placeholders shown need to be replaced with actual values.</p>\n",
    );
    let media = sample::media_type(fmt);
    let types = ctx.registry.types();
    let host = esc(ctx.req.host);
    s.push_str(&format!(
        "<div class=\"request\"><pre>{verb} {} HTTP/1.1 \nHost: {host} \nAccept: {media}",
        esc(&path)
    ));
    if matches!(verb, "POST" | "PUT" | "PATCH") {
        let body = sample::write(fmt, &Placeholder::Dto(t, &[]), None, types, t.name);
        s.push_str(&format!(
            "\nContent-Type: {media}\nContent-Length: <span class=\"value\">length</span>\n\n{}",
            esc(&body)
        ));
    }
    s.push_str("</pre></div>\n");
    if let ReturnType::Type(r) = (op.returns)() {
        let root: &TypeRef = &r;
        let body = sample::write(fmt, &Placeholder::Ref(root, &[]), Some(root), types, t.name);
        s.push_str(&format!(
            "<div class=\"response\"><pre>HTTP/1.1 200 OK\nContent-Type: {media}\nContent-Length: length\n\n{}</pre></div>\n",
            esc(&body)
        ));
    }
    s.push_str(FOOT);
    MetadataResponse {
        status: 200,
        content_type: HTML,
        body: s,
    }
}

fn params_table(s: &mut String, t: &TypeInfo, verb: &str) {
    if t.properties.is_empty() {
        return;
    }
    s.push_str(&format!(
        "<table class=\"params\"><caption><b>{}</b> Parameters:</caption>\
         <thead><tr><th>Name</th><th>Parameter</th><th>Data Type</th><th>Required</th><th>Description</th></tr></thead><tbody>",
        esc(t.name)
    ));
    for p in t.properties {
        let ty = (p.ty)();
        s.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(p.name),
            param_kind(t, p, verb),
            esc(&model::csharp_type(&ty)),
            if p.required { "Yes" } else { "No" },
            p.description.map(desc_html).unwrap_or_default()
        ));
    }
    s.push_str("</tbody></table>\n");
}
