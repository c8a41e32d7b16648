//! The view of the registry the generators share: which types to emit, in which order, and
//! the facts about each operation (method, marker interfaces, response).

use crate::meta::{OperationMeta, Primitive, ReturnType, TypeInfo, TypeRef};

use super::Ctx;
use super::options::Options;

/// What a generator is producing.
pub(crate) enum Scope {
    /// `/types/{lang}`: the types the options select, with the options header.
    Types,
    /// The DTO source shown on an operation page: that operation's types, no header.
    Page(&'static TypeInfo),
}

/// The types and operations to emit, dependencies first.
pub(crate) struct Selection {
    /// Every type, each once, each after the types it mentions.
    pub(crate) types: Vec<&'static TypeInfo>,
}

impl Selection {
    /// Whether `t` is emitted.
    pub(crate) fn contains(&self, t: &TypeInfo) -> bool {
        self.types.iter().any(|x| std::ptr::eq(*x, t))
    }

    /// Whether every DTO `r` mentions is emitted.
    pub(crate) fn covers(&self, r: &TypeRef) -> bool {
        let mut found = Vec::new();
        r.dtos(&mut found);
        found.iter().all(|t| self.contains(t))
    }
}

fn push_unique(out: &mut Vec<&'static TypeInfo>, t: &'static TypeInfo) -> bool {
    if out.iter().any(|x| std::ptr::eq(*x, t)) {
        false
    } else {
        out.push(t);
        true
    }
}

/// `root` and the DTOs its properties reach (and its response, when `response` is set).
pub(crate) fn reach(root: &'static TypeInfo, response: bool, out: &mut Vec<&'static TypeInfo>) {
    if !push_unique(out, root) {
        return;
    }
    let mut refs = Vec::new();
    for p in root.properties {
        (p.ty)().dtos(&mut refs);
    }
    if response && let Some(r) = response_ref(root) {
        r.dtos(&mut refs);
    }
    for t in refs {
        reach(t, true, out);
    }
}

/// The response type of a request DTO, when it has one.
pub(crate) fn response_ref(t: &TypeInfo) -> Option<TypeRef> {
    match (t.operation.as_ref()?.returns)() {
        ReturnType::Void => None,
        ReturnType::Type(r) => Some(r),
    }
}

/// The list-valued option `name`: comma separated, `[a,b]` accepted.
pub(crate) fn list_option(value: &str) -> Vec<String> {
    value
        .trim()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .split(',')
        .map(|s| s.trim().trim_matches('"').to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

fn find_type(ctx: &Ctx<'_>, name: &str) -> Option<&'static TypeInfo> {
    let types = ctx.registry.types();
    types
        .get(name)
        .or_else(|| types.iter().find(|t| t.name.eq_ignore_ascii_case(name)))
}

/// The types to emit for `scope`, honouring `IncludeTypes` and `ExcludeTypes`.
pub(crate) fn select(ctx: &Ctx<'_>, scope: &Scope, opts: &Options) -> Selection {
    let mut picked: Vec<&'static TypeInfo> = Vec::new();
    match scope {
        Scope::Page(op) => {
            let marker = op.operation.as_ref().is_some_and(|o| o.return_marker);
            reach(op, marker, &mut picked);
        }
        Scope::Types => {
            let include = list_option(&opts.value("IncludeTypes"));
            if include.is_empty() {
                picked.extend(ctx.registry.types().iter());
            } else {
                for name in include {
                    if let Some(base) = name.strip_suffix(".*") {
                        if let Some(t) = find_type(ctx, base) {
                            reach(t, true, &mut picked);
                        }
                    } else if let Some(t) = find_type(ctx, &name) {
                        push_unique(&mut picked, t);
                    }
                }
            }
            let exclude = list_option(&opts.value("ExcludeTypes"));
            picked.retain(|t| !exclude.iter().any(|x| x.eq_ignore_ascii_case(t.name)));
        }
    }
    Selection {
        types: order_by_deps(&picked),
    }
}

/// Orders `types` so that each comes after the types it mentions (cycles broken arbitrarily).
fn order_by_deps(types: &[&'static TypeInfo]) -> Vec<&'static TypeInfo> {
    fn visit(
        t: &'static TypeInfo,
        set: &[&'static TypeInfo],
        stack: &mut Vec<&'static TypeInfo>,
        out: &mut Vec<&'static TypeInfo>,
    ) {
        if out.iter().any(|x| std::ptr::eq(*x, t)) || stack.iter().any(|x| std::ptr::eq(*x, t)) {
            return;
        }
        stack.push(t);
        let mut refs = Vec::new();
        for p in t.properties {
            (p.ty)().dtos(&mut refs);
        }
        if let Some(r) = response_ref(t) {
            r.dtos(&mut refs);
        }
        for d in refs {
            if set.iter().any(|x| std::ptr::eq(*x, d)) {
                visit(d, set, stack, out);
            }
        }
        stack.pop();
        out.push(t);
    }
    let mut out = Vec::new();
    let mut stack = Vec::new();
    for t in types {
        visit(t, types, &mut stack, &mut out);
    }
    out
}

/// The marker interface of a verb (`GET` → `IGet`).
pub(crate) fn verb_marker(op: &OperationMeta) -> Option<&'static str> {
    Some(match op.verb?.to_ascii_uppercase().as_str() {
        "GET" => "IGet",
        "POST" => "IPost",
        "PUT" => "IPut",
        "DELETE" => "IDelete",
        "PATCH" => "IPatch",
        _ => return None,
    })
}

/// The HTTP method clients use for the operation: its verb marker, else the one verb all its
/// routes share, else `POST`.
pub(crate) fn method(op: &OperationMeta) -> String {
    if let Some(v) = op.verb {
        return v.to_ascii_uppercase();
    }
    let mut verbs: Vec<String> = Vec::new();
    for r in op.routes {
        match r.verbs {
            None => return "POST".to_string(),
            Some(v) => {
                for x in v.split([',', ' ']).map(str::trim).filter(|x| !x.is_empty()) {
                    let x = x.to_ascii_uppercase();
                    if !verbs.contains(&x) {
                        verbs.push(x);
                    }
                }
            }
        }
    }
    if verbs.len() == 1 {
        verbs.remove(0)
    } else {
        "POST".to_string()
    }
}

/// Whether generated code carries `IReturn<T>`: the operation declares the marker and returns
/// a body. Void operations carry no marker: Evo Voice publishes none on them.
pub(crate) fn return_marker(t: &TypeInfo) -> Option<TypeRef> {
    let op = t.operation.as_ref()?;
    if !op.return_marker {
        return None;
    }
    response_ref(t)
}

/// The C# spelling of a type (`string`, `int?`, `List<UsageRecordInfo>`), as the Parameters
/// table and `/api` show it.
pub(crate) fn csharp_type(r: &TypeRef) -> String {
    match r {
        TypeRef::Primitive(p) => csharp_primitive(*p).to_string(),
        TypeRef::Option(inner) => match inner.non_null() {
            TypeRef::Primitive(p) if p.is_value_type() => format!("{}?", csharp_primitive(*p)),
            other => csharp_type(other),
        },
        TypeRef::List(inner) => format!("List<{}>", csharp_type(inner)),
        TypeRef::Map(k, v) => format!("Dictionary<{}, {}>", csharp_type(k), csharp_type(v)),
        TypeRef::Dto(f) => f().name.to_string(),
    }
}

/// The C# keyword or type name of a primitive.
pub(crate) fn csharp_primitive(p: Primitive) -> &'static str {
    match p {
        Primitive::String => "string",
        Primitive::Boolean => "bool",
        Primitive::Int32 => "int",
        Primitive::Int64 => "long",
        Primitive::UInt32 => "uint",
        Primitive::UInt64 => "ulong",
        Primitive::Double => "double",
        Primitive::Single => "float",
        Primitive::Decimal => "decimal",
        Primitive::DateTime => "DateTime",
        Primitive::TimeSpan => "TimeSpan",
        Primitive::Guid => "Guid",
        Primitive::Object => "Object",
    }
}

/// Splits a description into lines, trimmed at the end.
pub(crate) fn desc_lines(d: &str) -> Vec<&str> {
    d.lines().map(str::trim_end).collect()
}

/// Escapes a string for a C-like double-quoted literal.
pub(crate) fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The `@Route(...)`/`[Route(...)]` arguments: `"/path", "VERBS"` or `"/path"`.
pub(crate) fn route_args(path: &str, verbs: Option<&str>) -> String {
    match verbs {
        Some(v) => format!("{}, {}", quote(path), quote(v)),
        None => quote(path),
    }
}

/// The namespaces of `types`, in order of first appearance.
pub(crate) fn namespaces(types: &[&'static TypeInfo]) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for t in types {
        if !out.contains(&t.namespace) {
            out.push(t.namespace);
        }
    }
    out
}

/// Types that are the response of some emitted operation.
pub(crate) fn is_response_type(sel: &Selection, t: &TypeInfo) -> bool {
    sel.types.iter().any(|op| {
        response_ref(op).is_some_and(|r| {
            let mut v = Vec::new();
            r.dtos(&mut v);
            v.iter().any(|x| std::ptr::eq(*x, t))
        })
    })
}
