//! `/types/typescript`: classes for `@servicestack/client`.
//!
//! Request classes carry `getTypeName()`, `getMethod()` and `createResponse()`, which is what
//! `JsonServiceClient` calls; the output compiles with `tsc --strict` on its own (the marker
//! interfaces are declared in the file unless `AddServiceStackTypes` is off).

use crate::meta::{Primitive, TypeInfo, TypeRef};

use super::Ctx;
use super::model::{self, Scope, Selection};
use super::options::{Options, TYPESCRIPT};

/// Generates the TypeScript source for `scope`.
pub(crate) fn generate(ctx: &Ctx<'_>, scope: &Scope) -> String {
    let page = matches!(scope, Scope::Page(_));
    let opts = Options::new(ctx, TYPESCRIPT, page);
    let sel = model::select(ctx, scope, &opts);
    let mut out = String::new();
    if !page {
        out.push_str(&opts.header(false));
    }
    for import in model::list_option(&opts.value("DefaultImports")) {
        match import.split_once(':') {
            Some((names, module)) => {
                let names = names.replace(['/', ';'], ", ");
                out.push_str(&format!(
                    "import {{ {names} }} from \"{}\";\n",
                    module.trim_matches(['"', '\''])
                ));
            }
            None => out.push_str(&format!("import {import};\n")),
        }
    }
    let global = opts.value("GlobalNamespace");
    let global: String = global
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '.')
        .collect();
    let mut body = String::new();
    let response_status = opts.flag("AddResponseStatus");
    if opts.flag("AddServiceStackTypes") && !page {
        service_stack_types(&mut body, &sel, response_status);
    }
    for t in &sel.types {
        body.push('\n');
        class(&mut body, t, &sel, &opts);
    }
    if global.is_empty() {
        out.push_str(&body);
    } else {
        out.push_str(&format!("\nexport namespace {global}\n{{\n"));
        for line in body.lines() {
            if line.is_empty() {
                out.push('\n');
            } else {
                out.push_str(&format!("    {line}\n"));
            }
        }
        out.push_str("\n}\n");
    }
    out.push('\n');
    out
}

/// The ServiceStack interfaces and types the emitted classes use.
fn service_stack_types(s: &mut String, sel: &Selection, response_status: bool) {
    let ops: Vec<&&'static TypeInfo> = sel.types.iter().filter(|t| t.operation.is_some()).collect();
    if ops
        .iter()
        .any(|t| model::return_marker(t).is_some_and(|r| sel.covers(&r)))
    {
        s.push_str("\nexport interface IReturn<T>\n{\n    createResponse(): T;\n}\n");
    }
    for marker in ["IGet", "IPost", "IPut", "IDelete", "IPatch"] {
        if ops
            .iter()
            .any(|t| t.operation.as_ref().and_then(model::verb_marker) == Some(marker))
        {
            s.push_str(&format!("\nexport interface {marker}\n{{\n}}\n"));
        }
    }
    if response_status && sel.types.iter().any(|t| model::is_response_type(sel, t)) {
        s.push_str(
            "\nexport class ResponseError\n{\n    public errorCode?: string;\n    public fieldName?: string;\n    \
             public message?: string;\n    public meta?: { [index:string]: string; };\n\n    \
             public constructor(init?: Partial<ResponseError>) { (Object as any).assign(this, init); }\n}\n",
        );
        s.push_str(
            "\nexport class ResponseStatus\n{\n    public errorCode?: string;\n    public message?: string;\n    \
             public stackTrace?: string;\n    public errors?: ResponseError[];\n    \
             public meta?: { [index:string]: string; };\n\n    \
             public constructor(init?: Partial<ResponseStatus>) { (Object as any).assign(this, init); }\n}\n",
        );
    }
}

fn comment(s: &mut String, indent: &str, d: &str) {
    s.push_str(&format!("{indent}/**\n"));
    for l in model::desc_lines(d) {
        s.push_str(&format!("{indent}* {}\n", l.replace("*/", "* /")));
    }
    s.push_str(&format!("{indent}*/\n"));
}

fn class(s: &mut String, t: &'static TypeInfo, sel: &Selection, opts: &Options<'_>) {
    let comments = opts.flag("AddDescriptionAsComments");
    if let Some(d) = t.description
        && comments
    {
        comment(s, "", d);
    }
    if let (Some(op), false) = (&t.operation, opts.page) {
        for r in op.routes {
            s.push_str(&format!(
                "// @Route({})\n",
                model::route_args(r.path, r.verbs)
            ));
        }
    }
    if let Some(d) = t.description {
        s.push_str(&format!("// @Api(Description={})\n", model::quote(d)));
    }
    let mut implements = Vec::new();
    if let Some(r) = model::return_marker(t).filter(|r| sel.covers(r)) {
        implements.push(format!("IReturn<{}>", ts_type(&r)));
    }
    if let Some(m) = t.operation.as_ref().and_then(model::verb_marker) {
        implements.push(m.to_string());
    }
    let implements = if implements.is_empty() {
        String::new()
    } else {
        format!(" implements {}", implements.join(", "))
    };
    s.push_str(&format!("export class {}{implements}\n{{\n", t.name));

    let optional_all = opts.flag("MakePropertiesOptional");
    let mut had = false;
    for p in t.properties {
        if had {
            s.push('\n');
        }
        had = false;
        let ty = (p.ty)();
        if let Some(d) = p.description {
            if comments {
                comment(s, "    ", d);
            }
            had = true;
        }
        if p.description.is_some() || p.required {
            let mut args = Vec::new();
            if let Some(d) = p.description {
                args.push(format!("Description={}", model::quote(d)));
            }
            if p.required {
                args.push("IsRequired=true".to_string());
            }
            s.push_str(&format!("    // @ApiMember({})\n", args.join(", ")));
            had = true;
        }
        let ts = ts_type(&ty);
        let decl = if optional_all || !p.required {
            format!("public {}?: {ts};", p.wire_name)
        } else {
            match initializer(&ty) {
                Some(init) => format!("public {}: {ts} = {init};", p.wire_name),
                None => format!("public {}!: {ts};", p.wire_name),
            }
        };
        s.push_str(&format!("    {decl}\n"));
    }
    let mut extra = Vec::new();
    if opts.flag("AddResponseStatus")
        && opts.flag("AddServiceStackTypes")
        && model::is_response_type(sel, t)
        && !t.properties.iter().any(|p| p.name == "ResponseStatus")
    {
        extra.push("    public responseStatus?: ResponseStatus;".to_string());
    }
    if t.operation.is_some()
        && let Ok(v) = opts.value("AddImplicitVersion").parse::<i64>()
        && !t.properties.iter().any(|p| p.name == "Version")
    {
        extra.push(format!("    public version: number = {v};"));
    }
    if !extra.is_empty() {
        if !t.properties.is_empty() {
            s.push('\n');
        }
        for e in extra {
            s.push_str(&format!("{e}\n"));
        }
    }
    if !t.properties.is_empty() {
        s.push('\n');
    }
    s.push_str(&format!(
        "    public constructor(init?: Partial<{}>) {{ (Object as any).assign(this, init); }}\n",
        t.name
    ));
    if let Some(op) = &t.operation {
        s.push_str(&format!(
            "    public getTypeName() {{ return '{}'; }}\n",
            t.name
        ));
        s.push_str(&format!(
            "    public getMethod() {{ return '{}'; }}\n",
            model::method(op)
        ));
        match model::response_ref(t) {
            Some(r) if sel.covers(&r) || opts.page => {
                s.push_str(&format!(
                    "    public createResponse() {{ return {}; }}\n",
                    create(&r)
                ));
            }
            Some(_) => s.push_str("    public createResponse() { return {}; }\n"),
            None => s.push_str("    public createResponse() {}\n"),
        }
    }
    s.push_str("}\n");
}

fn ts_type(r: &TypeRef) -> String {
    match r {
        TypeRef::Primitive(p) => match p {
            Primitive::String | Primitive::Guid | Primitive::DateTime | Primitive::TimeSpan => {
                "string"
            }
            Primitive::Boolean => "boolean",
            Primitive::Object => "any",
            _ => "number",
        }
        .to_string(),
        TypeRef::Option(inner) => ts_type(inner),
        TypeRef::List(inner) => format!("{}[]", ts_type_elem(inner)),
        TypeRef::Map(k, v) => {
            let key = match k.non_null() {
                TypeRef::Primitive(p)
                    if !matches!(p, Primitive::String | Primitive::Guid | Primitive::Object) =>
                {
                    "number"
                }
                _ => "string",
            };
            format!("{{ [index:{key}]: {}; }}", ts_type(v))
        }
        TypeRef::Dto(f) => f().name.to_string(),
    }
}

/// An element type, parenthesised where `[]` would bind wrongly.
fn ts_type_elem(r: &TypeRef) -> String {
    let t = ts_type(r);
    if t.starts_with('{') {
        format!("Array<{t}>")
    } else {
        t
    }
}

/// A value that satisfies the type, for required properties under `--strict`.
fn initializer(r: &TypeRef) -> Option<String> {
    match r.non_null() {
        TypeRef::Primitive(Primitive::Boolean) => Some("false".into()),
        TypeRef::Primitive(
            Primitive::String | Primitive::Guid | Primitive::DateTime | Primitive::TimeSpan,
        ) => Some("''".into()),
        TypeRef::Primitive(Primitive::Object) => None,
        TypeRef::Primitive(_) => Some("0".into()),
        TypeRef::List(_) => Some("[]".into()),
        TypeRef::Map(_, _) => Some("{}".into()),
        _ => None,
    }
}

/// The expression `createResponse()` returns.
fn create(r: &TypeRef) -> String {
    match r.non_null() {
        TypeRef::List(inner) => format!("new Array<{}>()", ts_type(inner)),
        TypeRef::Dto(f) => format!("new {}()", f().name),
        TypeRef::Primitive(Primitive::Object) | TypeRef::Map(_, _) => "{}".to_string(),
        other => initializer(other).unwrap_or_else(|| "{}".to_string()),
    }
}
