//! CSV as ServiceStack's `CsvSerializer` writes and reads it (jsv.md §7, decisions.md 10).
//!
//! Writing: a list of objects, or a response whose one list-of-objects property holds the rows
//! (the `{items, totalCount, ...}` envelope), is a header row of C# property names followed by
//! one row per item; a single object is a header and one row; a list of scalars is one row.
//! Every row ends in CRLF, the last one too. Columns come from `TypeInfo`, so a member serde
//! skipped (`None`) is still an empty cell. Nested lists and objects are compact JSV in a cell.
//!
//! Both directions scan the text by hand rather than through the `csv` crate: ServiceStack
//! quotes a cell that starts with `[` or `{` (no `QuoteStyle` does that) and reads an unquoted
//! `{a:1,b:2}` as one cell by counting brackets, which a plain CSV reader splits at the comma.

use actix_web::http::header::HeaderValue;
use jsv::Value;

use super::xml::tree::{self, Node, dotnet_f32, dotnet_f64, duration_text, jsv_date};
use super::xml::upper_first;
use super::{Format, FormatError, ReadContext, WriteContext};
use crate::meta::{Primitive, TypeInfo, TypeMap, TypeRef};

/// The Content-Type of CSV responses.
const CONTENT_TYPE: &str = "text/csv";
/// [`CONTENT_TYPE`] as a header value, built at compile time.
static CONTENT_TYPE_HEADER: HeaderValue = HeaderValue::from_static(CONTENT_TYPE);

/// The CSV format.
#[derive(Debug, Clone, Copy, Default)]
pub struct Csv;

impl Format for Csv {
    fn name(&self) -> &'static str {
        "csv"
    }

    fn content_type(&self) -> &'static str {
        CONTENT_TYPE
    }

    fn content_type_header(&self) -> Option<HeaderValue> {
        Some(CONTENT_TYPE_HEADER.clone())
    }

    fn media_types(&self) -> &'static [&'static str] {
        &["text/csv"]
    }

    fn write(
        &self,
        value: &dyn erased_serde::Serialize,
        ctx: &WriteContext<'_>,
        out: &mut Vec<u8>,
    ) -> Result<(), FormatError> {
        let node =
            tree::capture(value).map_err(|e| FormatError::msg(format!("cannot write CSV: {e}")))?;
        let mut w = CsvWriter {
            types: ctx.types,
            out: String::new(),
        };
        w.root(&node, ctx.root)?;
        out.extend_from_slice(w.out.as_bytes());
        Ok(())
    }

    fn read(&self, body: &[u8], ctx: &ReadContext<'_>) -> Option<Result<Value, FormatError>> {
        Some(read_body(body, ctx))
    }
}

const ROW_END: &str = "\r\n";

/// One column: its header, the wire key its values are found under, its declared type.
struct Column {
    header: String,
    key: String,
    ty: Option<TypeRef>,
}

struct CsvWriter<'a> {
    types: &'a TypeMap,
    out: String,
}

/// The one list-of-objects property of a type (decisions.md 10), `ResponseStatus` aside.
fn row_property(info: &'static TypeInfo) -> Option<(&'static str, TypeRef)> {
    let mut found = None;
    let mut count = 0;
    for p in info.properties {
        if p.name.eq_ignore_ascii_case("ResponseStatus") {
            continue;
        }
        if let TypeRef::List(inner) = (p.ty)().non_null()
            && matches!(inner.non_null(), TypeRef::Dto(_))
        {
            count += 1;
            found = Some((p.wire_name, (**inner).clone()));
        }
    }
    if count == 1 { found } else { None }
}

fn is_object(node: &Node) -> bool {
    matches!(node, Node::Struct { .. } | Node::Map(_))
}

impl CsvWriter<'_> {
    fn info_of(&self, ty: Option<&TypeRef>, node: Option<&Node>) -> Option<&'static TypeInfo> {
        if let Some(info) = ty.and_then(TypeRef::dto) {
            return Some(info);
        }
        match node {
            Some(Node::Struct { name, .. }) => self.types.get(name),
            _ => None,
        }
    }

    fn root(&mut self, node: &Node, ty: Option<&TypeRef>) -> Result<(), FormatError> {
        let ty = ty.map(TypeRef::non_null);
        match node {
            Node::Null | Node::Unit => Ok(()),
            Node::Seq(items) => {
                let inner = match ty {
                    Some(TypeRef::List(inner)) => Some(inner.non_null().clone()),
                    _ => None,
                };
                let objects = items.iter().any(is_object)
                    || (items.is_empty()
                        && matches!(&inner, Some(TypeRef::Dto(_) | TypeRef::Map(..))));
                if objects {
                    self.rows(items, inner.as_ref())
                } else {
                    self.scalar_row(items, inner.as_ref())
                }
            }
            Node::Struct { fields, .. } => {
                if let Some(info) = self.info_of(ty, Some(node)) {
                    if let Some((key, item_ty)) = row_property(info) {
                        match node.field(key) {
                            Some(Node::Seq(items)) => return self.rows(items, Some(&item_ty)),
                            Some(_) => return self.rows(&[], Some(&item_ty)),
                            // The value is not this envelope (an error body written for the
                            // operation's response type): write what it is, as one row.
                            None => return self.rows(std::slice::from_ref(node), None),
                        }
                    }
                } else {
                    let lists: Vec<&Vec<Node>> = fields
                        .iter()
                        .filter_map(|(_, v)| match v {
                            Node::Seq(items) if items.iter().any(is_object) => Some(items),
                            _ => None,
                        })
                        .collect();
                    if let [items] = lists.as_slice() {
                        return self.rows(items, None);
                    }
                }
                self.rows(std::slice::from_ref(node), ty)
            }
            Node::Map(_) => self.rows(std::slice::from_ref(node), ty),
            other => {
                let cell = self.cell(other, ty)?;
                self.out.push_str(&cell);
                self.out.push_str(ROW_END);
                Ok(())
            }
        }
    }

    fn scalar_row(&mut self, items: &[Node], inner: Option<&TypeRef>) -> Result<(), FormatError> {
        if items.is_empty() {
            return Ok(());
        }
        let cells = items
            .iter()
            .map(|i| self.cell(i, inner))
            .collect::<Result<Vec<_>, _>>()?;
        self.out.push_str(&cells.join(","));
        self.out.push_str(ROW_END);
        Ok(())
    }

    fn columns(&self, items: &[Node], item_ty: Option<&TypeRef>) -> Vec<Column> {
        if let Some(info) = self.info_of(item_ty, items.first()) {
            return info
                .properties
                .iter()
                .map(|p| Column {
                    header: p.name.to_string(),
                    key: p.wire_name.to_string(),
                    ty: Some((p.ty)()),
                })
                .collect();
        }
        let mut cols: Vec<Column> = Vec::new();
        let mut add = |header: String, key: String| {
            if !cols.iter().any(|c| c.key == key) {
                cols.push(Column {
                    header,
                    key,
                    ty: None,
                });
            }
        };
        for item in items {
            match item {
                Node::Struct { fields, .. } => {
                    for (k, _) in fields {
                        add(upper_first(k), (*k).to_string());
                    }
                }
                Node::Map(entries) => {
                    for (k, _) in entries {
                        if let Some(k) = k.key_text() {
                            add(k.clone(), k);
                        }
                    }
                }
                _ => {}
            }
        }
        // ServiceStack sorts the header of string dictionaries ordinally; other maps keep
        // the first record's insertion order.
        if let Some(TypeRef::Map(_, v)) = item_ty.map(TypeRef::non_null)
            && v.is_string()
        {
            cols.sort_by(|a, b| a.header.as_bytes().cmp(b.header.as_bytes()));
        }
        cols
    }

    fn rows(&mut self, items: &[Node], item_ty: Option<&TypeRef>) -> Result<(), FormatError> {
        let cols = self.columns(items, item_ty);
        let header: Vec<String> = cols.iter().map(|c| escape(&c.header)).collect();
        self.out.push_str(&header.join(","));
        self.out.push_str(ROW_END);
        for item in items {
            let mut cells = Vec::with_capacity(cols.len());
            for c in &cols {
                let cell = match item.field(&c.key) {
                    Some(v) => self.cell(v, c.ty.as_ref())?,
                    None => String::new(),
                };
                cells.push(cell);
            }
            self.out.push_str(&cells.join(","));
            self.out.push_str(ROW_END);
        }
        Ok(())
    }

    /// One cell, escaped (jsv.md §7.2).
    fn cell(&self, node: &Node, ty: Option<&TypeRef>) -> Result<String, FormatError> {
        let prim = match ty.map(TypeRef::non_null) {
            Some(TypeRef::Primitive(p)) => Some(*p),
            _ => None,
        };
        let text = match node {
            Node::Null | Node::Unit => String::new(),
            Node::Bool(b) => if *b { "True" } else { "False" }.to_string(),
            Node::Int(i) => i.to_string(),
            Node::UInt(u) => u.to_string(),
            Node::F64(v) => dotnet_f64(*v, false),
            Node::F32(v) => dotnet_f32(*v, false),
            Node::Char(c) => c.to_string(),
            Node::Str(s) if prim == Some(Primitive::DateTime) => jsv_date(s),
            Node::Str(s) => s.clone(),
            Node::Bytes(b) => {
                use base64::Engine as _;
                base64::engine::general_purpose::STANDARD.encode(b)
            }
            Node::Struct { .. }
                if duration_text(node).is_some() && prim == Some(Primitive::TimeSpan) =>
            {
                duration_text(node).unwrap_or_default()
            }
            nested => {
                let jsv = jsv::to_string(nested)
                    .map_err(|e| FormatError::msg(format!("cannot write a CSV cell: {e}")))?;
                // JSV quotes a value that needs it; the cell carries the text, quoted the CSV way.
                unquote_jsv(&jsv)
            }
        };
        Ok(escape(&text))
    }
}

/// Strips the JSV quotes of a quoted scalar (`"a,b"` → `a,b`), as ServiceStack does before
/// CSV-escaping a nested value.
fn unquote_jsv(s: &str) -> String {
    match s.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
        Some(inner) if s.len() >= 2 => inner.replace("\"\"", "\""),
        _ => s.to_string(),
    }
}

/// `ToCsvField`: quoted iff the text holds `"`, `,`, CR or LF, or starts with `[` or `{`.
fn escape(s: &str) -> String {
    let needs = s.starts_with(['[', '{']) || s.contains(['"', ',', '\r', '\n']);
    if needs {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

// ---- reading ----

fn read_body(body: &[u8], ctx: &ReadContext<'_>) -> Result<Value, FormatError> {
    let offset = if body.starts_with(&[0xEF, 0xBB, 0xBF]) {
        3
    } else {
        0
    };
    let text = std::str::from_utf8(&body[offset..]).map_err(|e| {
        let (line, column) = position(&body[offset..], e.valid_up_to());
        located("the body is not valid UTF-8", line, column)
    })?;
    let mut records = parse_records(text, ctx.max_items)?;
    if records.is_empty() {
        return Ok(Value::Map(Vec::new()));
    }
    let header: Vec<String> = records
        .remove(0)
        .into_iter()
        .map(|h| h.unwrap_or_default().trim().to_string())
        .collect();
    let target = ctx.target;
    let (item_info, wrap_key) = match row_property(target) {
        Some((key, TypeRef::Dto(f))) => (f(), Some(key)),
        _ => (target, None),
    };
    let keys: Vec<String> = header
        .iter()
        .map(|h| {
            item_info
                .property(h)
                .map_or_else(|| h.clone(), |p| p.wire_name.to_string())
        })
        .collect();
    let to_map = |row: Vec<Option<String>>| {
        Value::Map(
            keys.iter()
                .zip(row.into_iter().chain(std::iter::repeat(None)))
                .map(|(k, cell)| (k.clone(), cell.map_or(Value::Null, Value::String)))
                .collect(),
        )
    };
    match wrap_key {
        Some(key) => {
            let rows = records.into_iter().map(to_map).collect();
            Ok(Value::Map(vec![(key.to_string(), Value::List(rows))]))
        }
        None => Ok(records
            .into_iter()
            .next()
            .map_or(Value::Map(Vec::new()), to_map)),
    }
}

fn located(message: &str, line: usize, column: usize) -> FormatError {
    FormatError {
        message: format!("{message} at line {line}, column {column}"),
        line,
        column,
        field: None,
        value: None,
    }
}

fn position(text: &[u8], pos: usize) -> (usize, usize) {
    let upto = &text[..pos.min(text.len())];
    let line = upto.iter().filter(|b| **b == b'\n').count() + 1;
    let start = upto.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    (
        line,
        String::from_utf8_lossy(&upto[start..]).chars().count() + 1,
    )
}

/// Splits CSV text into records of cells (`None` for an empty unquoted cell), skipping empty
/// lines (jsv.md §7.4). At most a header and `max_items` rows, and `max_items` cells a row.
fn parse_records(text: &str, max_items: usize) -> Result<Vec<Vec<Option<String>>>, FormatError> {
    let b = text.as_bytes();
    let mut records = Vec::new();
    let mut record: Vec<Option<String>> = Vec::new();
    let mut i = 0;
    let too_many = |what: &str, at: usize| {
        let (line, column) = position(b, at);
        located(&format!("more than {max_items} {what}"), line, column)
    };
    loop {
        let start = i;
        let (cell, next) = scan_cell(text, i)?;
        i = next;
        if record.len() >= max_items {
            return Err(too_many("cells in a row", start));
        }
        record.push(cell);
        match b.get(i) {
            Some(b',') => i += 1,
            Some(b'\r') | Some(b'\n') | None => {
                if b.get(i) == Some(&b'\r') {
                    i += 1;
                }
                if b.get(i) == Some(&b'\n') {
                    i += 1;
                }
                let empty = record.len() == 1 && record[0].is_none();
                if !empty {
                    // The header is not an item: `max_items` data rows follow it.
                    if records.len() > max_items {
                        return Err(too_many("rows", start));
                    }
                    records.push(std::mem::take(&mut record));
                } else {
                    record.clear();
                }
                if i >= b.len() {
                    return Ok(records);
                }
            }
            Some(_) => i += 1,
        }
    }
}

/// Scans one cell starting at byte `i`; returns it and the index of the byte that ended it
/// (a `,`, CR, LF or the end).
fn scan_cell(text: &str, start: usize) -> Result<(Option<String>, usize), FormatError> {
    let b = text.as_bytes();
    let plain_end = |from: usize| {
        let mut j = from;
        while j < b.len() && !matches!(b[j], b',' | b'\r' | b'\n') {
            j += 1;
        }
        j
    };
    match b.get(start) {
        Some(b'"') => {
            let mut out = String::new();
            let mut j = start + 1;
            let mut seg = j;
            loop {
                match b.get(j) {
                    None => {
                        let (line, column) = position(b, start);
                        return Err(located("unterminated quoted CSV cell", line, column));
                    }
                    Some(b'"') if b.get(j + 1) == Some(&b'"') => {
                        out.push_str(&text[seg..=j]);
                        j += 2;
                        seg = j;
                    }
                    Some(b'"') => {
                        out.push_str(&text[seg..j]);
                        j += 1;
                        break;
                    }
                    Some(_) => j += 1,
                }
            }
            // Anything between the closing quote and the separator is kept, leniently.
            let end = plain_end(j);
            out.push_str(&text[j..end]);
            Ok((Some(out), end))
        }
        Some(b'{') | Some(b'[') => {
            // A JSV value: count brackets outside JSV quotes so its commas stay in the cell.
            let mut depth = 0usize;
            let mut j = start;
            let mut quoted = false;
            while j < b.len() {
                let c = b[j];
                if quoted {
                    if c == b'"' {
                        if b.get(j + 1) == Some(&b'"') {
                            j += 1;
                        } else {
                            quoted = false;
                        }
                    }
                } else {
                    match c {
                        b'"' => quoted = true,
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth = depth.saturating_sub(1);
                            if depth == 0 {
                                let end = plain_end(j + 1);
                                return Ok((Some(text[start..end].to_string()), end));
                            }
                        }
                        b'\r' | b'\n' => break,
                        _ => {}
                    }
                }
                j += 1;
            }
            // Unbalanced: read it as a plain cell.
            let end = plain_end(start);
            Ok((Some(text[start..end].to_string()), end))
        }
        _ => {
            let end = plain_end(start);
            let cell = &text[start..end];
            Ok((
                if cell.is_empty() {
                    None
                } else {
                    Some(cell.to_string())
                },
                end,
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_rules() {
        assert_eq!(escape("plain"), "plain");
        assert_eq!(escape(" spaced "), " spaced ");
        assert_eq!(escape("a,b"), "\"a,b\"");
        assert_eq!(escape("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(escape("[x"), "\"[x\"");
        assert_eq!(escape("{y}"), "\"{y}\"");
        assert_eq!(escape("a]"), "a]");
        assert_eq!(escape("http://x:1"), "http://x:1");
        assert_eq!(escape("line\nbreak"), "\"line\nbreak\"");
    }

    #[test]
    fn scanning_cells() {
        let r = parse_records(
            "a,\"b,\"\"c\"\"\",,{x:1,y:[2,3]},[a,\"b,c\"]\r\n\r\nz\n",
            100,
        )
        .unwrap();
        assert_eq!(
            r,
            vec![
                vec![
                    Some("a".to_string()),
                    Some("b,\"c\"".to_string()),
                    None,
                    Some("{x:1,y:[2,3]}".to_string()),
                    Some("[a,\"b,c\"]".to_string()),
                ],
                vec![Some("z".to_string())],
            ]
        );
        assert_eq!(
            parse_records("\"\"\n", 10).unwrap(),
            vec![vec![Some(String::new())]]
        );
        assert_eq!(
            parse_records("{open,x\n", 10).unwrap(),
            vec![vec![Some("{open".to_string()), Some("x".to_string())]]
        );
        let err = parse_records("a\n\"open", 10).unwrap_err();
        assert_eq!((err.line, err.column), (2, 1));
        assert!(parse_records("a,b,c\n", 2).is_err());
    }
}
