//! Reading XML request bodies into [`jsv::Value`] trees.
//!
//! Namespaces and prefixes are ignored and members are matched by local name in any order
//! (decisions.md 11): DCS is strict about both, but a body from any client, or written by hand,
//! should bind. The document type is never processed: a `<!DOCTYPE` is refused outright, so
//! neither external entities (XXE) nor entity expansion (billion laughs) can happen; quick-xml
//! itself only knows the five predefined entities and character references.

use jsv::Value;
use quick_xml::events::{BytesStart, Event};

use crate::format::{FormatError, ReadContext};
use crate::meta::{Primitive, TypeInfo, TypeRef};

/// One parsed element.
#[derive(Debug, Default)]
struct Elem {
    /// Local name, prefix stripped.
    name: String,
    /// `i:nil="true"`.
    nil: bool,
    /// Text and CDATA content.
    text: String,
    children: Vec<Elem>,
}

/// Parses `body` and shapes it for `ctx.target`.
pub(crate) fn read_document(body: &[u8], ctx: &ReadContext<'_>) -> Result<Value, FormatError> {
    let root = parse(body, ctx)?;
    if root.nil {
        return Ok(Value::Null);
    }
    let shaper = Shaper { ctx };
    Ok(shaper.object(&root, Some(ctx.target)))
}

fn position(body: &[u8], pos: usize) -> (usize, usize) {
    let upto = &body[..pos.min(body.len())];
    let line = upto.iter().filter(|b| **b == b'\n').count() + 1;
    let line_start = upto.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    let column = String::from_utf8_lossy(&upto[line_start..]).chars().count() + 1;
    (line, column)
}

fn error_at(body: &[u8], pos: usize, message: impl Into<String>) -> FormatError {
    let (line, column) = position(body, pos);
    let message = message.into();
    FormatError {
        message: format!("{message} at line {line}, column {column}"),
        line,
        column,
        field: None,
        value: None,
    }
}

fn start_elem(body: &[u8], pos: usize, e: &BytesStart<'_>) -> Result<Elem, FormatError> {
    let name = std::str::from_utf8(e.local_name().into_inner())
        .map_err(|_| error_at(body, pos, "element name is not valid UTF-8"))?
        .to_string();
    let mut nil = false;
    for attr in e.attributes().with_checks(true) {
        let attr =
            attr.map_err(|err| error_at(body, pos, format!("malformed attribute: {err}")))?;
        if attr.key.local_name().into_inner() == b"nil" {
            let v = attr
                .unescape_value()
                .map_err(|err| error_at(body, pos, format!("malformed attribute: {err}")))?;
            nil = matches!(v.trim(), "true" | "1");
        }
    }
    Ok(Elem {
        name,
        nil,
        text: String::new(),
        children: Vec::new(),
    })
}

/// Builds the element tree, enforcing the depth and item limits as it goes.
fn parse(body: &[u8], ctx: &ReadContext<'_>) -> Result<Elem, FormatError> {
    let offset = if body.starts_with(&[0xEF, 0xBB, 0xBF]) {
        3
    } else {
        0
    };
    let text = std::str::from_utf8(&body[offset..]).map_err(|e| {
        let pos = offset + e.valid_up_to();
        error_at(body, pos, "the body is not valid UTF-8")
    })?;
    let mut reader = quick_xml::Reader::from_str(text);
    {
        let cfg = reader.config_mut();
        cfg.trim_text(false);
        cfg.check_end_names = true;
        cfg.expand_empty_elements = false;
    }
    let mut stack: Vec<Elem> = Vec::new();
    let mut root: Option<Elem> = None;
    loop {
        let pos = offset + usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
        let event = match reader.read_event() {
            Ok(ev) => ev,
            Err(e) => {
                let at = offset + usize::try_from(reader.error_position()).unwrap_or(0);
                return Err(error_at(body, at, format!("malformed XML: {e}")));
            }
        };
        match event {
            Event::DocType(_) => {
                return Err(error_at(
                    body,
                    pos,
                    "a DOCTYPE is not allowed in a request body",
                ));
            }
            Event::Start(e) => {
                if root.is_some() {
                    return Err(error_at(body, pos, "text after the root element"));
                }
                if stack.len() >= ctx.max_depth {
                    return Err(error_at(
                        body,
                        pos,
                        format!(
                            "the document is nested deeper than {} levels",
                            ctx.max_depth
                        ),
                    ));
                }
                stack.push(start_elem(body, pos, &e)?);
            }
            Event::Empty(e) => {
                if root.is_some() {
                    return Err(error_at(body, pos, "text after the root element"));
                }
                if stack.len() >= ctx.max_depth {
                    return Err(error_at(
                        body,
                        pos,
                        format!(
                            "the document is nested deeper than {} levels",
                            ctx.max_depth
                        ),
                    ));
                }
                let el = start_elem(body, pos, &e)?;
                attach(body, pos, ctx, &mut stack, &mut root, el)?;
            }
            Event::End(_) => {
                let Some(el) = stack.pop() else {
                    return Err(error_at(body, pos, "unexpected end tag"));
                };
                attach(body, pos, ctx, &mut stack, &mut root, el)?;
            }
            Event::Text(t) => {
                let s = t
                    .unescape()
                    .map_err(|e| error_at(body, pos, format!("malformed text: {e}")))?;
                match stack.last_mut() {
                    Some(top) => top.text.push_str(&s),
                    None if s.trim().is_empty() => {}
                    None => return Err(error_at(body, pos, "text outside the root element")),
                }
            }
            Event::CData(c) => {
                let s = std::str::from_utf8(&c)
                    .map_err(|_| error_at(body, pos, "CDATA is not valid UTF-8"))?;
                match stack.last_mut() {
                    Some(top) => top.text.push_str(s),
                    None => return Err(error_at(body, pos, "CDATA outside the root element")),
                }
            }
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            Event::Eof => {
                if !stack.is_empty() {
                    return Err(error_at(
                        body,
                        body.len(),
                        "unexpected end of the document: an element is not closed",
                    ));
                }
                return root
                    .ok_or_else(|| error_at(body, body.len(), "the document has no root element"));
            }
        }
    }
}

fn attach(
    body: &[u8],
    pos: usize,
    ctx: &ReadContext<'_>,
    stack: &mut [Elem],
    root: &mut Option<Elem>,
    el: Elem,
) -> Result<(), FormatError> {
    match stack.last_mut() {
        Some(parent) => {
            if parent.children.len() >= ctx.max_items {
                return Err(error_at(
                    body,
                    pos,
                    format!("an element has more than {} children", ctx.max_items),
                ));
            }
            parent.children.push(el);
        }
        None => *root = Some(el),
    }
    Ok(())
}

/// Turns elements into values, guided by the declared types where they are known.
struct Shaper<'c, 'a> {
    ctx: &'c ReadContext<'a>,
}

impl Shaper<'_, '_> {
    fn value(&self, e: &Elem, ty: Option<&TypeRef>) -> Value {
        if e.nil {
            return Value::Null;
        }
        match ty.map(TypeRef::non_null) {
            Some(TypeRef::Dto(f)) => self.object(e, Some(f())),
            Some(TypeRef::List(inner)) => {
                if e.children.is_empty() && !e.text.trim().is_empty() {
                    // Not DCS, but a JSV-style list in the text (`1,2,3`) is left to the binder.
                    return Value::String(e.text.clone());
                }
                Value::List(
                    e.children
                        .iter()
                        .map(|c| self.value(c, Some(inner)))
                        .collect(),
                )
            }
            Some(TypeRef::Map(_, v)) => self.dict(e, Some(v)),
            Some(TypeRef::Primitive(p)) if *p != Primitive::Object && e.children.is_empty() => {
                Value::String(e.text.clone())
            }
            _ => self.generic(e),
        }
    }

    /// A DTO: children by local name, matched to properties ignoring case, any order.
    fn object(&self, e: &Elem, info: Option<&'static TypeInfo>) -> Value {
        let mut map: Vec<(String, Value)> = Vec::new();
        for c in &e.children {
            let prop = info.and_then(|i| i.property(&c.name));
            let key = prop.map_or_else(|| c.name.clone(), |p| p.wire_name.to_string());
            let ty = prop.map(|p| (p.ty)());
            let v = match &ty {
                Some(t) => self.value(c, Some(t)),
                None => self.generic(c),
            };
            push_entry(&mut map, key, v);
        }
        Value::Map(map)
    }

    /// A dictionary: DCS `KeyValueOf..` entries with `Key`/`Value`, or plain named children.
    fn dict(&self, e: &Elem, value_ty: Option<&TypeRef>) -> Value {
        let mut map = Vec::new();
        for c in &e.children {
            let key = c
                .children
                .iter()
                .find(|k| k.name.eq_ignore_ascii_case("Key"));
            let val = c
                .children
                .iter()
                .find(|k| k.name.eq_ignore_ascii_case("Value"));
            match key {
                Some(k) if c.name.starts_with("KeyValueOf") || val.is_some() => {
                    let v = val.map_or(Value::Null, |v| self.value(v, value_ty));
                    map.push((k.text.clone(), v));
                }
                _ => map.push((c.name.clone(), self.value(c, value_ty))),
            }
        }
        Value::Map(map)
    }

    /// An element nothing declares: text, a list when its children are items, else a map.
    fn generic(&self, e: &Elem) -> Value {
        if e.nil {
            return Value::Null;
        }
        let Some(first) = e.children.first() else {
            return Value::String(e.text.clone());
        };
        let same = e.children.iter().all(|c| c.name == first.name);
        if same && (e.children.len() > 1 || self.is_item_name(&first.name)) {
            return Value::List(e.children.iter().map(|c| self.generic(c)).collect());
        }
        let mut map = Vec::new();
        for c in &e.children {
            push_entry(&mut map, c.name.clone(), self.generic(c));
        }
        Value::Map(map)
    }

    /// Names DCS gives collection items: primitives, `ArrayOf..`, `KeyValueOf..`, known DTOs.
    fn is_item_name(&self, name: &str) -> bool {
        const PRIMITIVES: &[&str] = &[
            "string",
            "int",
            "long",
            "boolean",
            "double",
            "float",
            "decimal",
            "dateTime",
            "duration",
            "guid",
            "anyType",
            "unsignedInt",
            "unsignedLong",
            "short",
            "unsignedShort",
            "byte",
            "unsignedByte",
            "char",
        ];
        PRIMITIVES.contains(&name)
            || name.starts_with("ArrayOf")
            || name.starts_with("KeyValueOf")
            || self.ctx.types.get(name).is_some()
    }
}

/// Adds an entry; a repeated key turns its value into a list of every occurrence.
fn push_entry(map: &mut Vec<(String, Value)>, key: String, v: Value) {
    match map.iter_mut().find(|(k, _)| *k == key) {
        Some((_, existing)) => {
            let prev = std::mem::replace(existing, Value::Null);
            *existing = match prev {
                Value::List(mut items) => {
                    items.push(v);
                    Value::List(items)
                }
                other => Value::List(vec![other, v]),
            };
        }
        None => map.push((key, v)),
    }
}
