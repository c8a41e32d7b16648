//! The JSON resources: `/types` (language links), `/types/metadata` (`MetadataTypes`) and the
//! `/api` index.

use serde_json::{Map, Value, json};

use crate::meta::{PropertyInfo, ReturnType, TypeInfo, TypeRef};

use super::Ctx;
use super::model::{self, Scope};
use super::options::{CSHARP, Options};

const LANGS: [&str; 4] = ["csharp", "typescript", "dart", "python"];

fn to_string(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "{}".to_string())
}

/// `/types`: every generator by language, as absolute URLs.
pub(crate) fn type_links(ctx: &Ctx<'_>) -> String {
    let base = ctx.base_url();
    let mut m = Map::new();
    m.insert(
        "metadata".into(),
        Value::String(format!("{base}/types/metadata")),
    );
    for l in LANGS {
        m.insert(l.into(), Value::String(format!("{base}/types/{l}")));
    }
    to_string(&Value::Object(m))
}

/// A type reference as `MetadataTypes` names it: `{name, genericArgs?}` flattened into
/// `(type name, generic args)`, e.g. `("List`1", ["UsageRecordInfo"])`.
fn dotnet(r: &TypeRef) -> (String, Vec<String>) {
    match r {
        TypeRef::Primitive(p) => (p.dotnet_name().to_string(), vec![]),
        TypeRef::Option(inner) => match inner.non_null() {
            TypeRef::Primitive(p) if p.is_value_type() => {
                ("Nullable`1".to_string(), vec![p.dotnet_name().to_string()])
            }
            other => dotnet(other),
        },
        TypeRef::List(inner) => ("List`1".to_string(), vec![display(inner)]),
        TypeRef::Map(k, v) => ("Dictionary`2".to_string(), vec![display(k), display(v)]),
        TypeRef::Dto(f) => (f().name.to_string(), vec![]),
    }
}

/// The .NET display form of a type (`List<UsageRecordInfo>`, `Int32?`).
fn display(r: &TypeRef) -> String {
    match r {
        TypeRef::Primitive(p) => p.dotnet_name().to_string(),
        TypeRef::Option(inner) => match inner.non_null() {
            TypeRef::Primitive(p) if p.is_value_type() => format!("{}?", p.dotnet_name()),
            other => display(other),
        },
        TypeRef::List(inner) => format!("List<{}>", display(inner)),
        TypeRef::Map(k, v) => format!("Dictionary<{},{}>", display(k), display(v)),
        TypeRef::Dto(f) => f().name.to_string(),
    }
}

fn type_namespace(r: &TypeRef) -> &'static str {
    match r.non_null() {
        TypeRef::Dto(f) => f().namespace,
        TypeRef::List(_) | TypeRef::Map(_, _) => "System.Collections.Generic",
        _ => "System",
    }
}

fn property(p: &PropertyInfo) -> Value {
    let ty = (p.ty)();
    let (name, args) = dotnet(&ty);
    let mut m = Map::new();
    m.insert("name".into(), json!(p.name));
    m.insert("type".into(), json!(name));
    m.insert("namespace".into(), json!(type_namespace(&ty)));
    if !args.is_empty() {
        m.insert("genericArgs".into(), json!(args));
    }
    if let TypeRef::Primitive(prim) = ty.non_null()
        && prim.is_value_type()
    {
        m.insert("isValueType".into(), json!(true));
    }
    if ty.is_option() {
        m.insert("isNullable".into(), json!(true));
    }
    if p.required {
        m.insert("isRequired".into(), json!(true));
    }
    if let Some(d) = p.description {
        m.insert("description".into(), json!(d));
    }
    m.insert("dataMember".into(), json!({ "name": p.wire_name }));
    Value::Object(m)
}

fn type_value(t: &TypeInfo) -> Value {
    let mut m = Map::new();
    m.insert("name".into(), json!(t.name));
    m.insert("namespace".into(), json!(t.namespace));
    if let Some(marker) = t.operation.as_ref().and_then(model::verb_marker) {
        m.insert(
            "implements".into(),
            json!([{ "name": marker, "namespace": "ServiceStack" }]),
        );
    }
    if let Some(d) = t.description {
        m.insert("description".into(), json!(d));
    }
    m.insert(
        "properties".into(),
        Value::Array(t.properties.iter().map(property).collect()),
    );
    Value::Object(m)
}

fn type_name_value(r: &TypeRef) -> Value {
    let (name, args) = dotnet(r);
    let mut m = Map::new();
    m.insert("name".into(), json!(name));
    m.insert("namespace".into(), json!(type_namespace(r)));
    if !args.is_empty() {
        m.insert("genericArgs".into(), json!(args));
    }
    Value::Object(m)
}

fn operation_value(t: &TypeInfo) -> Option<Value> {
    let op = t.operation.as_ref()?;
    let mut m = Map::new();
    m.insert("request".into(), type_value(t));
    match (op.returns)() {
        ReturnType::Void => {
            m.insert("returnsVoid".into(), json!(true));
        }
        ReturnType::Type(r) => {
            if let Some(d) = r.dto() {
                m.insert("response".into(), type_value(d));
            }
            m.insert("returnType".into(), type_name_value(&r));
        }
    }
    let method = model::method(op);
    let mut actions: Vec<String> = Vec::new();
    for r in op.routes {
        match r.verbs {
            None => actions.push("ANY".into()),
            Some(v) => actions.extend(
                v.split([',', ' '])
                    .map(str::trim)
                    .filter(|x| !x.is_empty())
                    .map(str::to_ascii_uppercase),
            ),
        }
    }
    if actions.is_empty() {
        actions.push("ANY".into());
    }
    actions.dedup();
    m.insert("actions".into(), json!(actions));
    m.insert("method".into(), json!(method));
    let routes: Vec<Value> = op
        .routes
        .iter()
        .map(|r| match r.verbs {
            Some(v) => json!({ "path": r.path, "verbs": v }),
            None => json!({ "path": r.path }),
        })
        .collect();
    m.insert("routes".into(), Value::Array(routes));
    m.insert("requiresAuth".into(), json!(op.requires_auth));
    if !op.any_roles.is_empty() {
        m.insert("requiresAnyRole".into(), json!(op.any_roles));
    }
    if !op.required_roles.is_empty() {
        m.insert("requiredRoles".into(), json!(op.required_roles));
    }
    if !op.tags.is_empty() {
        m.insert("tags".into(), json!(op.tags));
    }
    Some(Value::Object(m))
}

/// `/types/metadata`: the `MetadataTypes` document the types come from, honouring
/// `IncludeTypes` and `ExcludeTypes`.
pub(crate) fn metadata_types(ctx: &Ctx<'_>) -> String {
    to_string(&metadata_types_value(ctx, true))
}

/// `/metadata/app`: `AppMetadata`, whose `api` is the `MetadataTypes` document without
/// `config`. The date is a WCF date with escaped slashes, as ServiceStack writes it.
pub(crate) fn app_metadata(ctx: &Ctx<'_>) -> String {
    let ms = chrono::Utc::now().timestamp_millis();
    let formats = json!({
        "json": "application/json",
        "xml": "application/xml",
        "jsv": "text/jsv",
        "csv": "text/csv",
    });
    let doc = json!({
        "date": format!("/Date({ms})/"),
        "app": {
            "baseUrl": ctx.base_url(),
            "serviceStackVersion": ctx.site.version,
            "serviceName": ctx.site.service_name,
            "apiVersion": "1.0",
            "jsTextCase": "CamelCase",
        },
        "ui": {},
        "config": { "debugMode": false },
        "contentTypeFormats": formats,
        "httpHandlers": { "ApiHandlers.Json": "/api/{Request}" },
        "plugins": { "loaded": ["metadata", "nativeTypes"] },
        "customPlugins": {},
        "api": metadata_types_value(ctx, false),
    });
    to_string(&doc).replacen(
        &format!("\"/Date({ms})/\""),
        &format!("\"\\/Date({ms})\\/\""),
        1,
    )
}

fn metadata_types_value(ctx: &Ctx<'_>, with_config: bool) -> Value {
    let opts = Options::new(ctx, CSHARP, false);
    let sel = model::select(ctx, &Scope::Types, &opts);
    let requests: Vec<&&'static TypeInfo> =
        sel.types.iter().filter(|t| t.operation.is_some()).collect();
    let types: Vec<Value> = sel
        .types
        .iter()
        .filter(|t| t.operation.is_none())
        .map(|t| type_value(t))
        .collect();
    let operations: Vec<Value> = requests.iter().filter_map(|t| operation_value(t)).collect();
    let mut namespaces: Vec<&str> = model::namespaces(&sel.types);
    for n in [
        "System",
        "System.Collections",
        "System.Collections.Generic",
        "ServiceStack",
    ] {
        if !namespaces.contains(&n) {
            namespaces.push(n);
        }
    }
    namespaces.sort_unstable();
    let config = json!({
        "baseUrl": ctx.base_url(),
        "makePartial": true,
        "makeVirtual": true,
        "addReturnMarker": true,
        "addDescriptionAsComments": true,
        "addResponseStatus": false,
        "addServiceStackTypes": true,
        "includeTypes": model::list_option(&opts.value("IncludeTypes")),
        "excludeTypes": model::list_option(&opts.value("ExcludeTypes")),
        "defaultNamespaces": ["System", "System.Collections", "System.Collections.Generic", "System.Runtime.Serialization", "ServiceStack", "ServiceStack.DataAnnotations"],
        "serviceName": ctx.site.service_name,
        "version": ctx.site.version,
    });
    let mut doc = Map::new();
    if with_config {
        doc.insert("config".into(), config);
    }
    doc.insert("namespaces".into(), json!(namespaces));
    doc.insert("types".into(), json!(types));
    doc.insert("operations".into(), json!(operations));
    Value::Object(doc)
}

/// `/api`: the operations grouped by tag (`default` for untagged ones), each with its links.
pub(crate) fn api_index(ctx: &Ctx<'_>) -> String {
    let mut groups: Vec<(String, Vec<Value>)> = Vec::new();
    let mut ops: Vec<&'static TypeInfo> = ctx.registry.operations().collect();
    ops.sort_by(|a, b| {
        a.name
            .to_ascii_lowercase()
            .cmp(&b.name.to_ascii_lowercase())
    });
    ops.dedup_by(|a, b| std::ptr::eq(*a, *b));
    for t in ops {
        let Some(op) = &t.operation else { continue };
        let mut m = Map::new();
        m.insert("name".into(), json!(t.name));
        if let ReturnType::Type(r) = (op.returns)() {
            m.insert("returns".into(), json!(display(&r)));
        }
        m.insert("description".into(), json!(t.description.unwrap_or("")));
        m.insert(
            "links".into(),
            json!({ "api": format!("/api/{}", t.name), "ui": format!("/ui/{}", t.name) }),
        );
        let entry = Value::Object(m);
        let tags: Vec<String> = if op.tags.is_empty() {
            vec!["default".to_string()]
        } else {
            op.tags.iter().map(|s| s.to_string()).collect()
        };
        for tag in tags {
            match groups.iter_mut().find(|(g, _)| *g == tag) {
                Some((_, list)) => list.push(entry.clone()),
                None => groups.push((tag, vec![entry.clone()])),
            }
        }
    }
    let mut m = Map::new();
    for (tag, list) in groups {
        m.insert(tag, Value::Array(list));
    }
    to_string(&Value::Object(m))
}
