//! `/types/csharp`: DTO classes for `ServiceStack.Client`, with `[Route]` attributes so the
//! C# clients call the REST routes.

use crate::meta::{TypeInfo, TypeRef};

use super::Ctx;
use super::model::{self, Scope, Selection};
use super::options::{CSHARP, Options};

const USINGS: [&str; 6] = [
    "System",
    "System.Collections",
    "System.Collections.Generic",
    "System.Runtime.Serialization",
    "ServiceStack",
    "ServiceStack.DataAnnotations",
];

/// Generates the C# source for `scope`.
pub(crate) fn generate(ctx: &Ctx<'_>, scope: &Scope) -> String {
    let page = matches!(scope, Scope::Page(_));
    let opts = Options::new(ctx, CSHARP, page);
    let sel = model::select(ctx, scope, &opts);
    let mut s = String::new();
    if !page {
        s.push_str(&opts.header(false));
    }
    let global = opts.value("GlobalNamespace");
    let global: String = global
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '.')
        .collect();
    let mut namespaces = model::namespaces(&sel.types);
    namespaces.sort_unstable();
    let mut usings: Vec<String> = USINGS.iter().map(|u| u.to_string()).collect();
    if opts.flag("AddGeneratedCodeAttributes") {
        usings.push("System.CodeDom.Compiler".to_string());
    }
    usings.extend(model::list_option(&opts.value("AddNamespaces")));
    if global.is_empty() {
        usings.extend(
            namespaces
                .iter()
                .filter(|n| !n.is_empty())
                .map(|n| n.to_string()),
        );
    }
    let mut seen = Vec::new();
    for u in usings {
        if !seen.contains(&u) {
            s.push_str(&format!("using {u};\n"));
            seen.push(u);
        }
    }
    s.push('\n');
    let groups: Vec<(String, Vec<&'static TypeInfo>)> = if global.is_empty() {
        namespaces
            .iter()
            .map(|ns| {
                (
                    ns.to_string(),
                    sel.types
                        .iter()
                        .copied()
                        .filter(|t| t.namespace == *ns)
                        .collect(),
                )
            })
            .collect()
    } else {
        vec![(global, sel.types.clone())]
    };
    for (ns, types) in groups {
        let ns = if ns.is_empty() {
            "ServiceModel".to_string()
        } else {
            ns
        };
        s.push_str(&format!("namespace {ns}\n{{\n"));
        for (i, t) in types.iter().enumerate() {
            if i > 0 {
                s.push('\n');
            }
            class(&mut s, t, &sel, &opts);
        }
        s.push_str("\n}\n\n");
    }
    s
}

fn summary(s: &mut String, indent: &str, d: &str) {
    s.push_str(&format!("{indent}///<summary>\n"));
    for l in model::desc_lines(d) {
        s.push_str(&format!(
            "{indent}///{}\n",
            l.replace('<', "&lt;").replace('>', "&gt;")
        ));
    }
    s.push_str(&format!("{indent}///</summary>\n"));
}

fn class(s: &mut String, t: &'static TypeInfo, sel: &Selection, opts: &Options<'_>) {
    let comments = opts.flag("AddDescriptionAsComments");
    let data_contract = opts.flag("AddDataContractAttributes");
    let indexes = opts.flag("AddIndexesToDataMembers");
    let nullable = opts.flag("AddNullableAnnotations");
    let virt = if opts.flag("MakeVirtual") {
        "virtual "
    } else {
        ""
    };
    if let Some(d) = t.description
        && comments
    {
        summary(s, "    ", d);
    }
    if data_contract {
        s.push_str("    [DataContract]\n");
    }
    if let (Some(op), false) = (&t.operation, opts.page) {
        for r in op.routes {
            s.push_str(&format!(
                "    [Route({})]\n",
                model::route_args(r.path, r.verbs)
            ));
        }
    }
    if let Some(d) = t.description {
        s.push_str(&format!("    [Api(Description={})]\n", model::quote(d)));
    }
    if opts.flag("AddGeneratedCodeAttributes") {
        s.push_str(&format!(
            "    [GeneratedCode(\"AddServiceStackReference\", {})]\n",
            model::quote(&opts.version())
        ));
    }
    let access = if opts.flag("MakeInternal") {
        "internal"
    } else {
        "public"
    };
    let partial = if opts.flag("MakePartial") {
        "partial "
    } else {
        ""
    };
    s.push_str(&format!("    {access} {partial}class {}\n", t.name));
    let mut implements = Vec::new();
    if let Some(r) = model::return_marker(t).filter(|r| sel.covers(r))
        && opts.flag("AddReturnMarker")
    {
        implements.push(format!("IReturn<{}>", model::csharp_type(&r)));
    }
    if let Some(m) = t.operation.as_ref().and_then(model::verb_marker) {
        implements.push(m.to_string());
    }
    if opts.flag("MakeDataContractsExtensible") {
        implements.push("IExtensibleDataObject".to_string());
    }
    if !implements.is_empty() {
        s.push_str(&format!("        : {}\n", implements.join(", ")));
    }
    s.push_str("    {\n");

    let version = if t.operation.is_some() {
        opts.value("AddImplicitVersion")
            .parse::<i64>()
            .ok()
            .filter(|_| !t.properties.iter().any(|p| p.name == "Version"))
    } else {
        None
    };
    let mut inits = Vec::new();
    if opts.flag("InitializeCollections") {
        for p in t.properties {
            let ty = (p.ty)();
            if matches!(ty.non_null(), TypeRef::List(_) | TypeRef::Map(_, _)) {
                inits.push(format!(
                    "{} = new {}{{}};",
                    p.name,
                    model::csharp_type(ty.non_null())
                ));
            }
        }
    }
    if let Some(v) = version {
        inits.push(format!("Version = {v};"));
    }
    let mut wrote = false;
    if !inits.is_empty() {
        s.push_str(&format!("        public {}()\n        {{\n", t.name));
        for i in inits {
            s.push_str(&format!("            {i}\n"));
        }
        s.push_str("        }\n");
        wrote = true;
    }

    let mut had = wrote;
    for (i, p) in t.properties.iter().enumerate() {
        if had {
            s.push('\n');
        }
        had = false;
        if let Some(d) = p.description {
            if comments {
                summary(s, "        ", d);
            }
            had = true;
        }
        if data_contract {
            if indexes {
                s.push_str(&format!("        [DataMember(Order={})]\n", i + 1));
            } else {
                s.push_str("        [DataMember]\n");
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
            s.push_str(&format!("        [ApiMember({})]\n", args.join(", ")));
            had = true;
        }
        let ty = (p.ty)();
        let mut cs = model::csharp_type(&ty);
        if nullable && ty.is_option() && !cs.ends_with('?') {
            cs.push('?');
        }
        s.push_str(&format!(
            "        public {virt}{cs} {} {{ get; set; }}\n",
            p.name
        ));
    }
    let mut extra = Vec::new();
    if version.is_some() {
        extra.push(format!("        public {virt}int Version {{ get; set; }}"));
    }
    if opts.flag("AddResponseStatus")
        && model::is_response_type(sel, t)
        && !t.properties.iter().any(|p| p.name == "ResponseStatus")
    {
        extra.push(format!(
            "        public {virt}ResponseStatus ResponseStatus {{ get; set; }}"
        ));
    }
    if opts.flag("MakeDataContractsExtensible") {
        extra.push(format!(
            "        public {virt}ExtensionDataObject ExtensionData {{ get; set; }}"
        ));
    }
    for e in extra {
        if had {
            s.push('\n');
        }
        had = false;
        s.push_str(&format!("{e}\n"));
    }
    s.push_str("    }\n");
}
