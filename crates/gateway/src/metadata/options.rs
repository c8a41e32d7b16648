//! The `Options:` header of `/types/*` and the options it lists.
//!
//! Each language lists its options with their defaults, commented out; an option passed in the
//! query string is printed without the comment prefix and with the passed value, so the DTO
//! tools (`x`, `get-dtos`, `@servicestack/cli`) send it back when they update the file. Query
//! options a language does not know are echoed the same way and otherwise ignored.

use super::Ctx;

/// One option with its default.
pub(crate) struct Opt {
    pub(crate) name: &'static str,
    pub(crate) default: Default,
}

/// The default of an option.
pub(crate) enum Default {
    /// A boolean, printed `True`/`False`.
    Bool(bool),
    /// Text (empty for none).
    Text(&'static str),
}

const fn b(name: &'static str, v: bool) -> Opt {
    Opt {
        name,
        default: Default::Bool(v),
    }
}

const fn t(name: &'static str, v: &'static str) -> Opt {
    Opt {
        name,
        default: Default::Text(v),
    }
}

/// C# options, in the order upstream prints them.
pub(crate) const CSHARP: &[Opt] = &[
    t("GlobalNamespace", ""),
    b("MakePartial", true),
    b("MakeVirtual", true),
    b("MakeInternal", false),
    b("MakeDataContractsExtensible", false),
    b("AddNullableAnnotations", false),
    b("AddReturnMarker", true),
    b("AddDescriptionAsComments", true),
    b("AddDataContractAttributes", false),
    b("AddIndexesToDataMembers", false),
    b("AddGeneratedCodeAttributes", false),
    b("AddResponseStatus", false),
    t("AddImplicitVersion", ""),
    b("InitializeCollections", true),
    b("ExportValueTypes", false),
    t("IncludeTypes", ""),
    t("ExcludeTypes", ""),
    t("AddNamespaces", ""),
    t(
        "AddDefaultXmlNamespace",
        "http://schemas.servicestack.net/types",
    ),
];

/// Dart options.
pub(crate) const DART: &[Opt] = &[
    t("GlobalNamespace", ""),
    b("AddServiceStackTypes", true),
    b("AddResponseStatus", false),
    t("AddImplicitVersion", ""),
    b("AddDescriptionAsComments", true),
    t("IncludeTypes", ""),
    t("ExcludeTypes", ""),
    t("DefaultImports", "package:servicestack/servicestack.dart"),
];

/// TypeScript options.
pub(crate) const TYPESCRIPT: &[Opt] = &[
    t("GlobalNamespace", ""),
    b("MakePropertiesOptional", false),
    b("AddServiceStackTypes", true),
    b("AddResponseStatus", false),
    t("AddImplicitVersion", ""),
    b("AddDescriptionAsComments", true),
    t("IncludeTypes", ""),
    t("ExcludeTypes", ""),
    t("DefaultImports", ""),
];

/// Python options.
pub(crate) const PYTHON: &[Opt] = &[
    t("GlobalNamespace", ""),
    b("AddServiceStackTypes", true),
    b("AddResponseStatus", false),
    t("AddImplicitVersion", ""),
    b("AddDescriptionAsComments", true),
    t("IncludeTypes", ""),
    t("ExcludeTypes", ""),
    t(
        "DefaultImports",
        "datetime,decimal,marshmallow.fields:*,servicestack:*,typing:*,dataclasses:dataclass/field,dataclasses_json:dataclass_json/LetterCase/Undefined/config,enum:Enum/IntEnum",
    ),
    t("DataClass", ""),
    t("DataClassJson", ""),
];

/// Query keys that are never options.
const NOT_OPTIONS: &[&str] = &["BaseUrl", "WithoutOptions", "format", "op", "lang"];

/// The options of one generation: the language's list, overridden by the query string.
pub(crate) struct Options<'a> {
    list: &'static [Opt],
    ctx: &'a Ctx<'a>,
    /// Whether the source is for an operation page (no header, no routes).
    pub(crate) page: bool,
}

impl<'a> Options<'a> {
    /// The options of `list`, read from the request (none when `page`).
    pub(crate) fn new(ctx: &'a Ctx<'a>, list: &'static [Opt], page: bool) -> Self {
        Options { list, ctx, page }
    }

    fn passed(&self, name: &str) -> Option<&str> {
        if self.page {
            return None;
        }
        self.ctx.query.get(name).filter(|v| !v.trim().is_empty())
    }

    /// The ServiceStack version the host reports.
    pub(crate) fn version(&self) -> String {
        self.ctx.site.version.clone()
    }

    /// The option's value as text: the passed value, else the default.
    pub(crate) fn value(&self, name: &str) -> String {
        if let Some(v) = self.passed(name) {
            return v.trim().to_string();
        }
        match self
            .list
            .iter()
            .find(|o| o.name.eq_ignore_ascii_case(name))
            .map(|o| &o.default)
        {
            Some(Default::Text(s)) => (*s).to_string(),
            Some(Default::Bool(v)) => bool_text(*v).to_string(),
            None => String::new(),
        }
    }

    /// The option's value as a boolean (unparsable values keep the default).
    pub(crate) fn flag(&self, name: &str) -> bool {
        let default = match self
            .list
            .iter()
            .find(|o| o.name.eq_ignore_ascii_case(name))
            .map(|o| &o.default)
        {
            Some(Default::Bool(v)) => *v,
            _ => false,
        };
        match self.passed(name) {
            Some(v) => parse_bool(v).unwrap_or(default),
            None => default,
        }
    }

    /// The `Options:` header: `/* ... */` with `//` comments, or Python's `""" ... """` with `#`.
    pub(crate) fn header(&self, python: bool) -> String {
        if self.ctx.query.get("WithoutOptions").is_some() {
            return String::new();
        }
        let c = if python { "#" } else { "//" };
        let mut s = String::new();
        s.push_str(if python {
            "\"\"\" Options:\n"
        } else {
            "/* Options:\n"
        });
        s.push_str(&format!(
            "Date: {}\n",
            chrono::Local::now().format("%Y-%m-%d %H:%M:%S")
        ));
        s.push_str(&format!("Version: {}\n", self.ctx.site.version));
        s.push_str(&format!(
            "Tip: To override a DTO option, remove \"{c}\" prefix before updating\n"
        ));
        s.push_str(&format!("BaseUrl: {}\n", self.ctx.base_url()));
        s.push('\n');
        for o in self.list {
            let passed = self.passed(o.name).is_some();
            let prefix = if passed { "" } else { c };
            let value = match o.default {
                Default::Bool(_) => bool_text(self.flag(o.name)).to_string(),
                Default::Text(_) => one_line(&self.value(o.name)),
            };
            s.push_str(&format!("{prefix}{}: {value}\n", o.name));
        }
        for (k, v) in self.ctx.query.pairs() {
            let known = self.list.iter().any(|o| o.name.eq_ignore_ascii_case(k))
                || NOT_OPTIONS.iter().any(|n| n.eq_ignore_ascii_case(k));
            let valid = k.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '_');
            if !known && valid && !v.trim().is_empty() {
                s.push_str(&format!("{k}: {}\n", one_line(v)));
            }
        }
        s.push_str(if python { "\"\"\"\n\n" } else { "*/\n\n" });
        s
    }
}

fn one_line(v: &str) -> String {
    v.replace(['\r', '\n'], " ")
        .replace("*/", "* /")
        .replace("\"\"\"", "\"\" \"")
        .trim()
        .to_string()
}

fn bool_text(v: bool) -> &'static str {
    if v { "True" } else { "False" }
}

fn parse_bool(v: &str) -> Option<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Some(true),
        "false" | "0" | "no" | "off" => Some(false),
        _ => None,
    }
}
