//! The `DataContractSerializer` layout (jsv.md §8, decisions.md 11).
//!
//! Namespaces follow DCS: a member element is in its declaring type's namespace; when a
//! member's type puts its children in a namespace that is not bound yet, the member element
//! declares `xmlns:d{depth}p1` (depth counted from the root, which is 1), even when the member
//! is nil, because DCS declares from the member's type before it looks at the value.

use std::borrow::Cow;

use super::tree::{Node, dcs_name, dotnet_f32, dotnet_f64, duration_text, xml_date};
use crate::format::{FormatError, WriteContext};
use crate::meta::{MemberOrder, Primitive, TypeInfo, TypeMap, TypeRef};

/// `xmlns:i`, the prefix of `i:nil`.
pub(crate) const XSI_NS: &str = "http://www.w3.org/2001/XMLSchema-instance";
/// Where DCS puts collections and dictionaries of primitives.
pub(crate) const ARRAYS_NS: &str = "http://schemas.microsoft.com/2003/10/Serialization/Arrays";
/// The namespace of a primitive written at the root (`<string xmlns=...>`).
const SERIALIZATION_NS: &str = "http://schemas.microsoft.com/2003/10/Serialization/";
/// The namespace of a root struct nobody declared (a value outside the `TypeMap`).
const FALLBACK_NS: &str = "http://schemas.servicestack.net/types";

/// Writes `node` as a document.
pub(crate) fn write_document(
    node: &Node,
    ctx: &WriteContext<'_>,
    out: &mut Vec<u8>,
) -> Result<(), FormatError> {
    let mut w = Writer {
        types: ctx.types,
        pretty: ctx.pretty,
        out: String::new(),
        default_ns: String::new(),
        prefixes: Vec::new(),
    };
    if !ctx.pretty {
        w.out.push_str(r#"<?xml version="1.0" encoding="utf-8"?>"#);
    }
    w.root(node, ctx.root);
    out.extend_from_slice(w.out.as_bytes());
    Ok(())
}

/// What a value is, once its declared type and its captured shape are put together.
enum Shape<'n> {
    /// A DTO with its description, or a struct nobody declared (fields by serde name).
    Object(Option<&'static TypeInfo>),
    /// A collection, with the declared item type if known.
    List(Option<TypeRef>, &'n [Node]),
    /// A dictionary, with the declared key and value types if known.
    Dict(Option<TypeRef>, Option<TypeRef>),
    /// Text content.
    Scalar(Option<Primitive>),
}

struct Writer<'a> {
    types: &'a TypeMap,
    pretty: bool,
    out: String,
    /// The root's default namespace.
    default_ns: String,
    /// Prefix declarations in scope, innermost last.
    prefixes: Vec<(String, String)>,
}

/// A member about to be written: C# name, value (nil when serde skipped it), declared type.
struct Member<'n> {
    name: String,
    value: Option<Cow<'n, Node>>,
    ty: Option<TypeRef>,
}

impl Writer<'_> {
    fn shape<'n>(&self, ty: Option<&TypeRef>, node: &'n Node) -> Shape<'n> {
        let items: &'n [Node] = match node {
            Node::Seq(items) => items,
            _ => &[],
        };
        // A value whose serde form disagrees with its declared type (a custom `Serialize`)
        // is written as text rather than forced into the declared shape.
        let text = !matches!(node, Node::Null | Node::Unit) && node.is_scalar();
        match ty.map(TypeRef::non_null) {
            Some(TypeRef::Dto(f)) if !text => Shape::Object(Some(f())),
            Some(TypeRef::List(inner)) if !text => Shape::List(Some((**inner).clone()), items),
            Some(TypeRef::Map(k, v)) if !text => {
                Shape::Dict(Some((**k).clone()), Some((**v).clone()))
            }
            Some(TypeRef::Primitive(Primitive::TimeSpan)) => {
                Shape::Scalar(Some(Primitive::TimeSpan))
            }
            Some(TypeRef::Primitive(p)) if *p != Primitive::Object => Shape::Scalar(Some(*p)),
            _ => match node {
                Node::Struct {
                    name: "Duration", ..
                } if duration_text(node).is_some() => Shape::Scalar(Some(Primitive::TimeSpan)),
                Node::Struct { name, .. } => Shape::Object(self.types.get(name)),
                Node::Variant { .. } => Shape::Object(None),
                Node::Seq(items) => Shape::List(None, items),
                Node::Map(_) => Shape::Dict(None, None),
                _ => Shape::Scalar(None),
            },
        }
    }

    /// The contract name and namespace of a value of this type (`UsageRecordInfo`,
    /// `ArrayOfstring`); a namespace of `None` means "the same as the surrounding element".
    fn contract(&self, ty: Option<&TypeRef>, node: Option<&Node>) -> (String, Option<String>) {
        let null = Node::Null;
        let node = node.unwrap_or(&null);
        match self.shape(ty, node) {
            Shape::Object(Some(info)) => (info.name.to_string(), Some(info.xml_namespace())),
            Shape::Object(None) => match node {
                Node::Struct { name, .. } => ((*name).to_string(), None),
                Node::Variant { variant, .. } => ((*variant).to_string(), None),
                _ => ("anyType".to_string(), None),
            },
            Shape::List(inner, items) => {
                let (item, ns) = self.contract(inner.as_ref(), items.first());
                let ns = match ns {
                    Some(ns) if ns != SERIALIZATION_NS => ns,
                    _ => ARRAYS_NS.to_string(),
                };
                (format!("ArrayOf{item}"), Some(ns))
            }
            Shape::Dict(k, v) => {
                let (key, value) = self.dict_names(k.as_ref(), v.as_ref(), node);
                (
                    format!("ArrayOfKeyValueOf{key}{value}"),
                    Some(ARRAYS_NS.to_string()),
                )
            }
            Shape::Scalar(p) => (
                scalar_name(p, node).to_string(),
                Some(SERIALIZATION_NS.to_string()),
            ),
        }
    }

    fn dict_names(
        &self,
        k: Option<&TypeRef>,
        v: Option<&TypeRef>,
        node: &Node,
    ) -> (String, String) {
        let first = match node {
            Node::Map(entries) => entries.first(),
            _ => None,
        };
        let key = self.contract(k, first.map(|e| &e.0)).0;
        let value = self.contract(v, first.map(|e| &e.1)).0;
        (key, value)
    }

    /// The namespace children of this value are written in: `None` for text, `Some(None)`
    /// for "the same as the element's own".
    fn children_ns(
        &self,
        shape: &Shape<'_>,
        ty: Option<&TypeRef>,
        node: &Node,
    ) -> Option<Option<String>> {
        match shape {
            Shape::Scalar(_) => None,
            Shape::Object(Some(info)) => Some(Some(info.xml_namespace())),
            Shape::Object(None) => Some(None),
            Shape::List(..) | Shape::Dict(..) => Some(self.contract(ty, Some(node)).1),
        }
    }

    /// `Some(None)` when `ns` is the default namespace, `Some(Some(prefix))` when a prefix in
    /// scope is bound to it, `None` when it is not bound at all.
    fn bound_prefix(&self, ns: &str) -> Option<Option<&str>> {
        if ns == self.default_ns {
            return Some(None);
        }
        self.prefixes
            .iter()
            .rev()
            .find(|(_, n)| n == ns)
            .map(|(p, _)| Some(p.as_str()))
    }

    fn qualify(&self, ns: &str, local: &str) -> String {
        match self.bound_prefix(ns).flatten() {
            Some(p) => format!("{p}:{local}"),
            None => local.to_string(),
        }
    }

    /// Starts a line at `depth` in pretty mode (XmlTextWriter's 2-space indentation).
    fn newline(&mut self, depth: usize) {
        if self.pretty && !self.out.is_empty() {
            self.out.push('\n');
            for _ in 1..depth {
                self.out.push_str("  ");
            }
        }
    }

    fn root(&mut self, node: &Node, ty: Option<&TypeRef>) {
        let (name, ns) = self.contract(ty, Some(node));
        let ns = ns.unwrap_or_else(|| FALLBACK_NS.to_string());
        self.default_ns = ns.clone();
        self.out.push('<');
        self.out.push_str(&name);
        // Evo Voice's responses and its metadata samples both put `xmlns:i` first.
        push_attr(&mut self.out, "xmlns:i", XSI_NS);
        push_attr(&mut self.out, "xmlns", &ns);
        self.content(&name, &ns, node, ty, 1);
    }

    /// Writes a member or item element, declaring a prefix for its children if needed.
    fn element(
        &mut self,
        qname: &str,
        own_ns: &str,
        node: Option<&Node>,
        ty: Option<&TypeRef>,
        depth: usize,
    ) {
        let null = Node::Null;
        let node = node.unwrap_or(&null);
        self.newline(depth);
        self.out.push('<');
        self.out.push_str(qname);
        let mut declared = false;
        // DCS decides from the declared type, so a nil member still carries its declaration.
        let probe = if matches!(node, Node::Null) && ty.is_some() {
            &Node::Unit
        } else {
            node
        };
        let shape = self.shape(ty, probe);
        if let Some(Some(ns)) = self.children_ns(&shape, ty, probe)
            && ns != own_ns
            && self.bound_prefix(&ns).is_none()
        {
            let prefix = format!("d{depth}p1");
            push_attr(&mut self.out, &format!("xmlns:{prefix}"), &ns);
            self.prefixes.push((prefix, ns));
            declared = true;
        }
        self.content(qname, own_ns, node, ty, depth);
        if declared {
            self.prefixes.pop();
        }
    }

    /// Writes the rest of an element whose start tag (`<qname` and its declarations) is out.
    fn content(
        &mut self,
        qname: &str,
        own_ns: &str,
        node: &Node,
        ty: Option<&TypeRef>,
        depth: usize,
    ) {
        if matches!(node, Node::Null) {
            self.out.push_str(r#" i:nil="true" />"#);
            return;
        }
        let shape = self.shape(ty, node);
        let children_ns = match self.children_ns(&shape, ty, node) {
            Some(Some(ns)) => ns,
            _ => own_ns.to_string(),
        };
        let before = self.out.len();
        self.out.push('>');
        let opened = self.out.len();
        let mut had_children = false;
        match shape {
            Shape::Scalar(p) => escape_text(&mut self.out, &scalar_text(node, p)),
            Shape::Object(info) => {
                for m in members(info, node) {
                    let q = self.qualify(&children_ns, &m.name);
                    self.element(
                        &q,
                        &children_ns,
                        m.value.as_deref(),
                        m.ty.as_ref(),
                        depth + 1,
                    );
                    had_children = true;
                }
            }
            Shape::List(inner, items) => {
                for item in items {
                    let (name, _) = self.contract(inner.as_ref(), Some(item));
                    let q = self.qualify(&children_ns, &name);
                    self.element(&q, &children_ns, Some(item), inner.as_ref(), depth + 1);
                    had_children = true;
                }
            }
            Shape::Dict(k, v) => {
                let (key_name, value_name) = self.dict_names(k.as_ref(), v.as_ref(), node);
                let entry =
                    self.qualify(&children_ns, &format!("KeyValueOf{key_name}{value_name}"));
                let kq = self.qualify(&children_ns, "Key");
                let vq = self.qualify(&children_ns, "Value");
                if let Node::Map(entries) = node {
                    for (key, value) in entries {
                        self.newline(depth + 1);
                        self.out.push('<');
                        self.out.push_str(&entry);
                        self.out.push('>');
                        self.element(&kq, &children_ns, Some(key), k.as_ref(), depth + 2);
                        self.element(&vq, &children_ns, Some(value), v.as_ref(), depth + 2);
                        self.newline(depth + 1);
                        self.out.push_str("</");
                        self.out.push_str(&entry);
                        self.out.push('>');
                        had_children = true;
                    }
                }
            }
        }
        if self.out.len() == opened && !matches!(node, Node::Str(_)) {
            // Nothing inside: XmlWriter closes the start tag as an empty element. An empty
            // string keeps `<x></x>`, as DCS writes it.
            self.out.truncate(before);
            self.out.push_str(" />");
            return;
        }
        if had_children {
            self.newline(depth);
        }
        self.out.push_str("</");
        self.out.push_str(qname);
        self.out.push('>');
    }
}

/// The members of an object in XML order, including the declared ones serde skipped (DCS
/// writes every member; a skipped `None` becomes `i:nil`).
fn members<'n>(info: Option<&'static TypeInfo>, node: &'n Node) -> Vec<Member<'n>> {
    // A DTO normally arrives as a struct; a map with the same keys (a hand-written
    // `Serialize`, a `serde_json::Value`) is accepted the same way.
    let fields: Vec<(String, &'n Node)> = match node {
        Node::Struct { fields, .. } => fields.iter().map(|(k, v)| ((*k).to_string(), v)).collect(),
        Node::Map(entries) => entries
            .iter()
            .filter_map(|(k, v)| Some((k.key_text()?, v)))
            .collect(),
        Node::Variant { variant, value } => {
            return vec![Member {
                name: (*variant).to_string(),
                value: Some(Cow::Borrowed(&**value)),
                ty: None,
            }];
        }
        _ => Vec::new(),
    };
    let Some(info) = info else {
        return fields
            .into_iter()
            .map(|(k, v)| Member {
                name: upper_first(&k),
                value: Some(Cow::Borrowed(v)),
                ty: None,
            })
            .collect();
    };
    let mut out: Vec<Member<'n>> = info
        .properties
        .iter()
        .map(|p| {
            let ty = (p.ty)();
            let value = fields
                .iter()
                .find(|(k, _)| k == p.wire_name)
                .map(|(_, v)| Cow::Borrowed(*v));
            Member {
                name: p.name.to_string(),
                value: value.or_else(|| value_type_default(&ty).map(Cow::Owned)),
                ty: Some(ty),
            }
        })
        .collect();
    for (key, value) in &fields {
        if !info.properties.iter().any(|p| p.wire_name == key) {
            out.push(Member {
                name: upper_first(key),
                value: Some(Cow::Borrowed(*value)),
                ty: None,
            });
        }
    }
    if info.member_order == MemberOrder::Ordinal {
        // String.CompareOrdinal: upper case sorts before lower case (`ResponseStatus` < `id`).
        out.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
    }
    out
}

/// What DCS writes for a member the value does not carry (an error body written as the
/// operation's response type): a .NET value type has its default, never `i:nil`, because a
/// C# client cannot read nil into an `int` or a `bool`. Reference types stay nil.
fn value_type_default(ty: &TypeRef) -> Option<Node> {
    let TypeRef::Primitive(p) = ty else {
        return None;
    };
    Some(match p {
        Primitive::Boolean => Node::Bool(false),
        Primitive::Int32 | Primitive::Int64 | Primitive::UInt32 | Primitive::UInt64 => Node::Int(0),
        Primitive::Double | Primitive::Single => Node::F64(0.0),
        Primitive::Decimal => Node::Str("0".into()),
        Primitive::DateTime => Node::Str("0001-01-01T00:00:00".into()),
        Primitive::TimeSpan => Node::Str("PT0S".into()),
        Primitive::Guid => Node::Str("00000000-0000-0000-0000-000000000000".into()),
        Primitive::String | Primitive::Object => return None,
    })
}

/// The DCS name of a scalar, from its declared type or else from its value.
fn scalar_name(p: Option<Primitive>, node: &Node) -> &'static str {
    match p {
        Some(p) => dcs_name(p),
        None => match node {
            Node::Bool(_) => "boolean",
            Node::Int(_) => "long",
            Node::UInt(_) => "unsignedLong",
            Node::F32(_) => "float",
            Node::F64(_) => "double",
            Node::Char(_) => "char",
            Node::Bytes(_) => "base64Binary",
            Node::Str(_) => "string",
            _ => "anyType",
        },
    }
}

/// A C#-style name for a key nobody declared.
pub(crate) fn upper_first(key: &str) -> String {
    let mut c = key.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

fn push_attr(out: &mut String, name: &str, value: &str) {
    out.push(' ');
    out.push_str(name);
    out.push_str("=\"");
    for ch in value.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// The text of a scalar the way DCS writes it.
fn scalar_text(node: &Node, p: Option<Primitive>) -> String {
    match node {
        Node::Bool(b) => if *b { "true" } else { "false" }.to_string(),
        Node::Int(i) => i.to_string(),
        Node::UInt(u) => u.to_string(),
        Node::F64(v) => dotnet_f64(*v, true),
        Node::F32(v) => dotnet_f32(*v, true),
        // DCS writes a `char` as its UTF-16 code.
        Node::Char(c) => u32::from(*c).to_string(),
        Node::Str(s) if p == Some(Primitive::DateTime) => xml_date(s),
        Node::Str(s) => s.clone(),
        Node::Bytes(b) => {
            use base64::Engine as _;
            base64::engine::general_purpose::STANDARD.encode(b)
        }
        Node::Struct { .. } => duration_text(node).unwrap_or_default(),
        _ => String::new(),
    }
}

/// Escapes element text: `&`, `<`, `>`. CR and the other control characters become character
/// references, so a value survives the reader's line-end normalisation unchanged.
fn escape_text(out: &mut String, text: &str) {
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\n' | '\t' => out.push(ch),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {
                out.push_str(&format!("&#x{:X};", c as u32));
            }
            c => out.push(c),
        }
    }
}
