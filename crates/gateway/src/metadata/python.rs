//! `/types/python`: `dataclasses_json` classes for the `servicestack` Python package.
//!
//! Types come after the types they mention (Python evaluates annotations and base classes when
//! the class is defined).

use crate::meta::{Primitive, TypeInfo, TypeRef};

use super::Ctx;
use super::model::{self, Scope, Selection};
use super::options::{Options, PYTHON};

const KEYWORDS: &[&str] = &[
    "and", "as", "assert", "async", "await", "break", "class", "continue", "def", "del", "elif",
    "else", "except", "False", "finally", "for", "from", "global", "if", "import", "in", "is",
    "lambda", "None", "nonlocal", "not", "or", "pass", "raise", "return", "True", "try", "while",
    "with", "yield",
];

/// Generates the Python source for `scope`.
pub(crate) fn generate(ctx: &Ctx<'_>, scope: &Scope) -> String {
    let page = matches!(scope, Scope::Page(_));
    let opts = Options::new(ctx, PYTHON, page);
    let sel = model::select(ctx, scope, &opts);
    let mut s = String::new();
    if !page {
        s.push_str(&opts.header(true));
    }
    for import in model::list_option(&opts.value("DefaultImports")) {
        match import.split_once(':') {
            Some((module, names)) => {
                s.push_str(&format!(
                    "from {module} import {}\n",
                    names.replace('/', ", ")
                ));
            }
            None => s.push_str(&format!("import {import}\n")),
        }
    }
    let global = opts.value("GlobalNamespace");
    if !global.is_empty() {
        s.push_str(&format!(
            "\n# module {}\n",
            global.replace(['\n', '\r'], " ")
        ));
    }
    let data_class = match opts.value("DataClass") {
        v if v.is_empty() => "@dataclass".to_string(),
        v => format!("@dataclass({v})"),
    };
    let data_class_json = match opts.value("DataClassJson") {
        v if v.is_empty() => {
            "@dataclass_json(letter_case=LetterCase.CAMEL, undefined=Undefined.EXCLUDE)".to_string()
        }
        v => format!("@dataclass_json({v})"),
    };
    for t in &sel.types {
        s.push_str("\n\n");
        class(&mut s, t, &sel, &opts, &data_class, &data_class_json);
    }
    s
}

fn docstring(s: &mut String, indent: &str, d: &str) {
    s.push_str(&format!("{indent}\"\"\"\n"));
    for l in model::desc_lines(d) {
        s.push_str(&format!(
            "{indent}{}\n",
            l.replace("\"\"\"", "\\\"\\\"\\\"")
        ));
    }
    s.push_str(&format!("{indent}\"\"\"\n"));
}

fn class(
    s: &mut String,
    t: &'static TypeInfo,
    sel: &Selection,
    opts: &Options<'_>,
    dc: &str,
    dcj: &str,
) {
    let comments = opts.flag("AddDescriptionAsComments");
    if let (Some(op), false) = (&t.operation, opts.page) {
        for r in op.routes {
            s.push_str(&format!(
                "# @Route({})\n",
                model::route_args(r.path, r.verbs)
            ));
        }
    }
    if let Some(d) = t.description {
        s.push_str(&format!("# @Api(Description={})\n", model::quote(d)));
    }
    s.push_str(&format!("{dcj}\n{dc}\n"));
    let mut bases = Vec::new();
    if let Some(r) = model::return_marker(t).filter(|r| sel.covers(r)) {
        bases.push(format!("IReturn[{}]", py_type(&r)));
    }
    if let Some(m) = t.operation.as_ref().and_then(model::verb_marker) {
        bases.push(m.to_string());
    }
    if bases.is_empty() {
        s.push_str(&format!("class {}:\n", t.name));
    } else {
        s.push_str(&format!("class {}({}):\n", t.name, bases.join(", ")));
    }
    let mut empty = true;
    if let Some(d) = t.description
        && comments
    {
        docstring(s, "    ", d);
        s.push('\n');
        empty = false;
    }
    let mut fields: Vec<(String, Option<&'static str>, bool)> = Vec::new();
    for p in t.properties {
        let ty = (p.ty)();
        fields.push((field(p.wire_name, &ty), p.description, p.required));
    }
    if opts.flag("AddResponseStatus")
        && model::is_response_type(sel, t)
        && !t.properties.iter().any(|p| p.name == "ResponseStatus")
    {
        fields.push((
            "response_status: Optional[ResponseStatus] = None".to_string(),
            None,
            false,
        ));
    }
    if t.operation.is_some()
        && let Ok(v) = opts.value("AddImplicitVersion").parse::<i64>()
        && !t.properties.iter().any(|p| p.name == "Version")
    {
        fields.push((format!("version: int = {v}"), None, false));
    }
    let mut had_doc = false;
    for (decl, desc, required) in fields {
        if had_doc {
            s.push_str("\n\n");
        }
        had_doc = false;
        if desc.is_some() || required {
            let mut args = Vec::new();
            if let Some(d) = desc {
                args.push(format!("Description={}", model::quote(d)));
            }
            if required {
                args.push("IsRequired=true".to_string());
            }
            s.push_str(&format!("    # @ApiMember({})\n", args.join(", ")));
        }
        s.push_str(&format!("    {decl}\n"));
        if let (Some(d), true) = (desc, comments) {
            docstring(s, "    ", d);
            had_doc = true;
        }
        empty = false;
    }
    if empty {
        s.push_str("    pass\n");
    }
}

/// `snake_case` of a camelCase wire name.
fn snake(wire: &str) -> String {
    let mut out = String::new();
    for (i, c) in wire.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 && !out.ends_with('_') {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// camelCase of a snake_case name, as `LetterCase.CAMEL` does.
fn camel(snake: &str) -> String {
    let mut out = String::new();
    let mut up = false;
    for c in snake.chars() {
        if c == '_' {
            up = !out.is_empty();
        } else if up {
            out.push(c.to_ascii_uppercase());
            up = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// The declaration of one field.
fn field(wire: &str, ty: &TypeRef) -> String {
    let mut name: String = snake(wire)
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert(0, '_');
    }
    let renamed = KEYWORDS.contains(&name.as_str()) || camel(&name) != wire;
    if KEYWORDS.contains(&name.as_str()) {
        name.push('_');
    }
    let (annotation, default) = match ty {
        TypeRef::Primitive(p) if p.is_value_type() => (py_type(ty), value_default(*p)),
        TypeRef::Option(inner) => (format!("Optional[{}]", py_type(inner)), "None".to_string()),
        other => (format!("Optional[{}]", py_type(other)), "None".to_string()),
    };
    if renamed {
        format!(
            "{name}: {annotation} = field(metadata=config(field_name='{wire}'), default={default})"
        )
    } else {
        format!("{name}: {annotation} = {default}")
    }
}

fn value_default(p: Primitive) -> String {
    match p {
        Primitive::Boolean => "False",
        Primitive::Double | Primitive::Single => "0.0",
        Primitive::Decimal => "decimal.Decimal(0)",
        Primitive::DateTime => "datetime.datetime(1, 1, 1)",
        Primitive::TimeSpan => "datetime.timedelta()",
        Primitive::Guid => "''",
        _ => "0",
    }
    .to_string()
}

fn py_type(r: &TypeRef) -> String {
    match r {
        TypeRef::Primitive(p) => match p {
            Primitive::String | Primitive::Guid => "str",
            Primitive::Boolean => "bool",
            Primitive::Int32 | Primitive::Int64 | Primitive::UInt32 | Primitive::UInt64 => "int",
            Primitive::Double | Primitive::Single => "float",
            Primitive::Decimal => "Decimal",
            Primitive::DateTime => "datetime.datetime",
            Primitive::TimeSpan => "datetime.timedelta",
            Primitive::Object => "Any",
        }
        .to_string(),
        TypeRef::Option(inner) => py_type(inner),
        TypeRef::List(inner) => format!("List[{}]", py_type(inner)),
        TypeRef::Map(k, v) => format!("Dict[{}, {}]", py_type(k), py_type(v)),
        TypeRef::Dto(f) => f().name.to_string(),
    }
}
