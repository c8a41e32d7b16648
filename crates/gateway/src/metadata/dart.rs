//! `/types/dart`: classes for the `servicestack` Dart package (`IConvertible`, `fromMap`,
//! `toJson`, a `TypeContext` listing every type).

use crate::meta::{Primitive, PropertyInfo, TypeInfo, TypeRef};

use super::Ctx;
use super::model::{self, Scope, Selection};
use super::options::{DART, Options};

/// Generates the Dart source for `scope`.
pub(crate) fn generate(ctx: &Ctx<'_>, scope: &Scope) -> String {
    let page = matches!(scope, Scope::Page(_));
    let opts = Options::new(ctx, DART, page);
    let sel = model::select(ctx, scope, &opts);
    let mut s = String::new();
    if !page {
        s.push_str(&opts.header(false));
    }
    let global = opts.value("GlobalNamespace");
    if !global.is_empty() {
        let lib: String = global
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '.')
            .collect();
        if !lib.is_empty() {
            s.push_str(&format!("library {lib};\n"));
        }
    }
    for import in model::list_option(&opts.value("DefaultImports")) {
        s.push_str(&format!("import '{}';\n", import.trim_matches('\'')));
    }
    let mut registry = TypeContext::default();
    for t in &sel.types {
        s.push('\n');
        class(&mut s, t, &sel, &opts, &mut registry);
    }
    s.push('\n');
    s.push_str(&format!(
        "TypeContext _ctx = TypeContext(library: '{}', types: <String, TypeInfo> {{\n",
        ctx.req.host.replace(['\'', '\\'], "")
    ));
    for line in registry.lines {
        s.push_str(&format!("    {line}\n"));
    }
    s.push_str("});\n");
    s
}

/// The entries of the `TypeContext` block, each once.
#[derive(Default)]
struct TypeContext {
    lines: Vec<String>,
}

impl TypeContext {
    fn add(&mut self, line: String) {
        if !self.lines.contains(&line) {
            self.lines.push(line);
        }
    }

    /// Adds entries for the generic types a reference needs at run time (`List<Dto>`...);
    /// the Dart package knows `List<String>`, `List<int>` and `List<double>` already.
    fn add_generics(&mut self, r: &TypeRef) {
        match r.non_null() {
            TypeRef::List(inner) => {
                self.add_generics(inner);
                let e = dart_type(inner);
                if !matches!(e.as_str(), "String" | "int" | "double") {
                    self.add(format!(
                        "'List<{e}>': TypeInfo(TypeOf.Class, create:() => <{e}>[]),"
                    ));
                }
            }
            TypeRef::Map(k, v) => {
                self.add_generics(v);
                let (k, v) = (dart_type(k), dart_type(v));
                self.add(format!(
                    "'Map<{k},{v}?>': TypeInfo(TypeOf.Class, create:() => Map<{k},{v}?>()),"
                ));
            }
            _ => {}
        }
    }
}

fn class(
    s: &mut String,
    t: &'static TypeInfo,
    sel: &Selection,
    opts: &Options<'_>,
    reg: &mut TypeContext,
) {
    let comments = opts.flag("AddDescriptionAsComments");
    if let Some(d) = t.description {
        if comments {
            s.push_str("/**\n");
            for l in model::desc_lines(d) {
                s.push_str(&format!("* {}\n", l.replace("*/", "* /")));
            }
            s.push_str("*/\n");
        }
        s.push_str(&format!("// @Api(Description={})\n", model::quote(d)));
    }
    let mut implements = Vec::new();
    let response = model::return_marker(t).filter(|r| sel.covers(r));
    if let Some(r) = &response {
        implements.push(format!("IReturn<{}>", dart_type(r)));
    }
    if let Some(m) = t.operation.as_ref().and_then(model::verb_marker) {
        implements.push(m.to_string());
    }
    implements.push("IConvertible".to_string());
    s.push_str(&format!(
        "class {} implements {}\n{{\n",
        t.name,
        implements.join(", ")
    ));

    let mut props: Vec<Prop> = t.properties.iter().map(Prop::from_info).collect();
    if opts.flag("AddResponseStatus")
        && model::is_response_type(sel, t)
        && !t.properties.iter().any(|p| p.name == "ResponseStatus")
    {
        props.push(Prop::response_status());
    }
    if t.operation.is_some() {
        let version = opts.value("AddImplicitVersion");
        if version.parse::<i64>().is_ok() && !t.properties.iter().any(|p| p.name == "Version") {
            props.push(Prop::version());
        }
    }

    let mut had_comments = false;
    for p in &props {
        if had_comments {
            s.push('\n');
        }
        had_comments = false;
        if let Some(d) = p.description {
            if comments {
                s.push_str("    /**\n");
                for l in model::desc_lines(d) {
                    s.push_str(&format!("    * {}\n", l.replace("*/", "* /")));
                }
                s.push_str("    */\n");
            }
            had_comments = true;
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
            had_comments = true;
        }
        s.push_str(&format!("    {}? {};\n", p.dart(), p.wire));
        reg.add_generics(&p.ty);
    }
    if !props.is_empty() {
        s.push('\n');
    }

    let name = t.name;
    let fields: Vec<String> = props.iter().map(|p| format!("this.{}", p.wire)).collect();
    if props.is_empty() {
        s.push_str(&format!("    {name}();\n"));
    } else {
        s.push_str(&format!("    {name}({{{}}});\n", fields.join(",")));
    }
    s.push_str(&format!(
        "    {name}.fromJson(Map<String, dynamic> json) {{ fromMap(json); }}\n\n"
    ));
    s.push_str("    fromMap(Map<String, dynamic> json) {\n");
    for p in &props {
        s.push_str(&format!("        {} = {};\n", p.wire, p.read_expr()));
    }
    s.push_str("        return this;\n    }\n\n");
    if props.is_empty() {
        s.push_str("    Map<String, dynamic> toJson() => {};\n\n");
    } else {
        s.push_str("    Map<String, dynamic> toJson() => {\n");
        let entries: Vec<String> = props
            .iter()
            .map(|p| format!("        '{}': {}", p.wire, p.write_expr()))
            .collect();
        s.push_str(&entries.join(",\n"));
        s.push_str("\n    };\n\n");
    }
    if let Some(r) = &response {
        s.push_str(&format!("    createResponse() => {};\n", create(r)));
        s.push_str(&format!(
            "    getResponseTypeName() => \"{}\";\n",
            dart_type(r)
        ));
        reg.add_generics(r);
    }
    s.push_str(&format!("    getTypeName() => \"{name}\";\n"));
    s.push_str("    TypeContext? context = _ctx;\n}\n");
    reg.add(format!(
        "'{name}': TypeInfo(TypeOf.Class, create:() => {name}()),"
    ));
}

/// A property to emit: a declared one or one an option adds.
struct Prop {
    wire: &'static str,
    ty: TypeRef,
    description: Option<&'static str>,
    required: bool,
    /// A ServiceStack type from the Dart package (`ResponseStatus`) instead of `ty`.
    named: Option<&'static str>,
}

impl Prop {
    fn from_info(p: &PropertyInfo) -> Self {
        Prop {
            wire: p.wire_name,
            ty: (p.ty)(),
            description: p.description,
            required: p.required,
            named: None,
        }
    }

    fn response_status() -> Self {
        Prop {
            wire: "responseStatus",
            ty: TypeRef::Primitive(Primitive::Object),
            description: None,
            required: false,
            named: Some("ResponseStatus"),
        }
    }

    fn version() -> Self {
        Prop {
            wire: "version",
            ty: TypeRef::Primitive(Primitive::Int32),
            description: None,
            required: false,
            named: None,
        }
    }

    fn dart(&self) -> String {
        self.named
            .map(str::to_string)
            .unwrap_or_else(|| dart_type(&self.ty))
    }

    fn read_expr(&self) -> String {
        match self.named {
            Some(n) => format!(
                "JsonConverters.fromJson(json['{}'],'{n}',context!)",
                self.wire
            ),
            None => from_json(&self.ty, self.wire),
        }
    }

    fn write_expr(&self) -> String {
        match self.named {
            Some(n) => format!("JsonConverters.toJson({},'{n}',context!)", self.wire),
            None => to_json(&self.ty, self.wire),
        }
    }
}

/// The Dart type of a reference, without the trailing `?`.
fn dart_type(r: &TypeRef) -> String {
    match r {
        TypeRef::Primitive(p) => match p {
            Primitive::String | Primitive::Guid => "String",
            Primitive::Boolean => "bool",
            Primitive::Int32 | Primitive::Int64 | Primitive::UInt32 | Primitive::UInt64 => "int",
            Primitive::Double | Primitive::Single | Primitive::Decimal => "double",
            Primitive::DateTime => "DateTime",
            Primitive::TimeSpan => "Duration",
            Primitive::Object => "dynamic",
        }
        .to_string(),
        TypeRef::Option(inner) => dart_type(inner),
        TypeRef::List(inner) => format!("List<{}>", dart_type(inner)),
        TypeRef::Map(k, v) => format!("Map<{},{}?>", dart_type(k), dart_type(v)),
        TypeRef::Dto(f) => f().name.to_string(),
    }
}

fn is_plain(r: &TypeRef) -> bool {
    matches!(
        r.non_null(),
        TypeRef::Primitive(
            Primitive::String
                | Primitive::Guid
                | Primitive::Boolean
                | Primitive::Int32
                | Primitive::Int64
                | Primitive::UInt32
                | Primitive::UInt64
                | Primitive::Object
        )
    )
}

fn is_double(r: &TypeRef) -> bool {
    matches!(
        r.non_null(),
        TypeRef::Primitive(Primitive::Double | Primitive::Single | Primitive::Decimal)
    )
}

fn from_json(r: &TypeRef, wire: &str) -> String {
    if is_plain(r) {
        format!("json['{wire}']")
    } else if is_double(r) {
        format!("JsonConverters.toDouble(json['{wire}'])")
    } else {
        format!(
            "JsonConverters.fromJson(json['{wire}'],'{}',context!)",
            type_name(r)
        )
    }
}

fn to_json(r: &TypeRef, wire: &str) -> String {
    if is_plain(r) || is_double(r) {
        wire.to_string()
    } else {
        format!("JsonConverters.toJson({wire},'{}',context!)", type_name(r))
    }
}

/// The name `JsonConverters` looks a type up by.
fn type_name(r: &TypeRef) -> String {
    dart_type(r.non_null())
}

fn create(r: &TypeRef) -> String {
    match r.non_null() {
        TypeRef::List(inner) => format!("<{}>[]", dart_type(inner)),
        TypeRef::Map(k, v) => format!("Map<{},{}?>()", dart_type(k), dart_type(v)),
        TypeRef::Dto(f) => format!("{}()", f().name),
        TypeRef::Primitive(Primitive::String | Primitive::Guid) => "\"\"".to_string(),
        TypeRef::Primitive(Primitive::Boolean) => "false".to_string(),
        TypeRef::Primitive(Primitive::Double | Primitive::Single | Primitive::Decimal) => {
            "0.0".to_string()
        }
        TypeRef::Primitive(
            Primitive::Int32 | Primitive::Int64 | Primitive::UInt32 | Primitive::UInt64,
        ) => "0".to_string(),
        TypeRef::Primitive(_) | TypeRef::Option(_) => "null".to_string(),
    }
}
