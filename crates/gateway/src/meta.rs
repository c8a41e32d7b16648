//! The one declaration of every DTO, as data.
//!
//! The `#[dto]` attribute (from `gateway-macros`) turns a Rust struct into a [`TypeInfo`]:
//! its ServiceStack name and C# namespace, its description (the doc comment), its properties
//! (C# name, wire name, type, description) and, for request DTOs, the [`OperationMeta`]
//! (routes, verb marker, response type, authentication and roles). Routing, binding, the XML
//! and CSV writers, the `/metadata` pages and every `/types/*` generator read this model and
//! nothing else, so a property is never listed twice.

use serde::Serialize;
use serde::de::DeserializeOwned;

/// A DTO: a type whose shape is described by a static [`TypeInfo`].
pub trait Dto {
    /// The description of this type, built at compile time by `#[dto]`.
    fn type_info() -> &'static TypeInfo;
}

/// A type that can appear as a DTO property, described as a [`TypeRef`].
///
/// Implemented here for the primitive types, `Option`, `Vec`, maps and boxes, and by `#[dto]`
/// for every DTO.
pub trait DtoType {
    /// The type as the metadata model names it.
    fn type_ref() -> TypeRef;
}

/// A request DTO: a [`Dto`] that names an operation and the type it answers with.
pub trait Operation: Dto + DeserializeOwned + Default + Send + 'static {
    /// What a successful call returns; `()` for operations that answer `204 No Content`.
    type Response: Serialize + Send + 'static;
}

/// How the XML writer orders the members of a type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberOrder {
    /// Ordinal (byte-wise) order of the C# names, as `DataContractSerializer` does for members
    /// without an explicit `Order`: evogate's own DTOs.
    Ordinal,
    /// Declaration order: ServiceStack's own types, whose members carry explicit orders
    /// (`ResponseStatus`: ErrorCode, Message, StackTrace, Errors, Meta).
    Declared,
}

/// The static description of one DTO.
#[derive(Debug)]
pub struct TypeInfo {
    /// The type name as clients see it (`NewBillable`).
    pub name: &'static str,
    /// The C# namespace the type is published in (`Voice.Api.Billing`).
    pub namespace: &'static str,
    /// The XML namespace; empty means `http://schemas.datacontract.org/2004/07/{namespace}`.
    pub xml_namespace: &'static str,
    /// The doc comment of the struct, if any.
    pub description: Option<&'static str>,
    /// Properties in declaration order.
    pub properties: &'static [PropertyInfo],
    /// Member order for XML.
    pub member_order: MemberOrder,
    /// Present when the type is a request DTO.
    pub operation: Option<OperationMeta>,
}

impl TypeInfo {
    /// The XML namespace this type's elements are written in.
    pub fn xml_namespace(&self) -> String {
        if self.xml_namespace.is_empty() {
            format!("http://schemas.datacontract.org/2004/07/{}", self.namespace)
        } else {
            self.xml_namespace.to_string()
        }
    }

    /// Finds a property by its wire name or its C# name, ignoring ASCII case.
    pub fn property(&self, name: &str) -> Option<&'static PropertyInfo> {
        let name = name.trim();
        self.properties
            .iter()
            .find(|p| p.wire_name.eq_ignore_ascii_case(name) || p.name.eq_ignore_ascii_case(name))
    }
}

/// One property of a DTO.
#[derive(Debug)]
pub struct PropertyInfo {
    /// The C# property name (`AccountId`): XML elements, CSV headers, `fieldName` in errors.
    pub name: &'static str,
    /// The name on the wire in JSON and JSV (`accountId`): the serde field name.
    pub wire_name: &'static str,
    /// The property's type.
    pub ty: fn() -> TypeRef,
    /// The doc comment of the field, if any.
    pub description: Option<&'static str>,
    /// Declared as required (`#[dto(required)]`); shown in metadata, not enforced by binding.
    pub required: bool,
}

/// A primitive (system) type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Primitive {
    /// `string`
    String,
    /// `bool`
    Boolean,
    /// 32-bit signed integer.
    Int32,
    /// 64-bit signed integer.
    Int64,
    /// 32-bit unsigned integer.
    UInt32,
    /// 64-bit unsigned integer.
    UInt64,
    /// 64-bit float.
    Double,
    /// 32-bit float.
    Single,
    /// Exact decimal.
    Decimal,
    /// Date and time.
    DateTime,
    /// Duration.
    TimeSpan,
    /// GUID.
    Guid,
    /// Untyped object.
    Object,
}

impl Primitive {
    /// The .NET type name (`String`, `Int32`, ...), as `/types/metadata` writes it.
    pub fn dotnet_name(self) -> &'static str {
        match self {
            Primitive::String => "String",
            Primitive::Boolean => "Boolean",
            Primitive::Int32 => "Int32",
            Primitive::Int64 => "Int64",
            Primitive::UInt32 => "UInt32",
            Primitive::UInt64 => "UInt64",
            Primitive::Double => "Double",
            Primitive::Single => "Single",
            Primitive::Decimal => "Decimal",
            Primitive::DateTime => "DateTime",
            Primitive::TimeSpan => "TimeSpan",
            Primitive::Guid => "Guid",
            Primitive::Object => "Object",
        }
    }

    /// Whether .NET treats the type as a value type (`int`, `bool`...), as opposed to a reference.
    pub fn is_value_type(self) -> bool {
        !matches!(self, Primitive::String | Primitive::Object)
    }
}

/// A reference to a type, as a property or a response sees it.
#[derive(Debug, Clone)]
pub enum TypeRef {
    /// A primitive.
    Primitive(Primitive),
    /// `Option<T>`: nullable.
    Option(Box<TypeRef>),
    /// `Vec<T>` and other sequences: `List<T>`.
    List(Box<TypeRef>),
    /// A map with string-like keys: `Dictionary<K, V>`.
    Map(Box<TypeRef>, Box<TypeRef>),
    /// Another DTO.
    Dto(fn() -> &'static TypeInfo),
}

impl TypeRef {
    /// The type without its outer `Option`.
    pub fn non_null(&self) -> &TypeRef {
        match self {
            TypeRef::Option(inner) => inner.non_null(),
            other => other,
        }
    }

    /// Whether the reference is an `Option`.
    pub fn is_option(&self) -> bool {
        matches!(self, TypeRef::Option(_))
    }

    /// The DTO this reference names, looking through `Option` (not through lists).
    pub fn dto(&self) -> Option<&'static TypeInfo> {
        match self.non_null() {
            TypeRef::Dto(f) => Some(f()),
            _ => None,
        }
    }

    /// Whether the type is a string (through `Option`).
    pub fn is_string(&self) -> bool {
        matches!(self.non_null(), TypeRef::Primitive(Primitive::String))
    }

    /// Every DTO this reference mentions, directly or inside lists and maps.
    pub fn dtos(&self, out: &mut Vec<&'static TypeInfo>) {
        match self {
            TypeRef::Primitive(_) => {}
            TypeRef::Option(inner) | TypeRef::List(inner) => inner.dtos(out),
            TypeRef::Map(k, v) => {
                k.dtos(out);
                v.dtos(out);
            }
            TypeRef::Dto(f) => out.push(f()),
        }
    }
}

/// A REST route of an operation.
#[derive(Debug, Clone, Copy)]
pub struct RouteInfo {
    /// The path template, `{var}` segments bind properties (`/accounts/{accountId}`).
    pub path: &'static str,
    /// Comma-separated verbs (`GET`, `POST,PUT`); `None` means every verb.
    pub verbs: Option<&'static str>,
}

impl RouteInfo {
    /// Whether the route accepts `method` (already upper case).
    pub fn allows(&self, method: &str) -> bool {
        match self.verbs {
            None => true,
            Some(v) => v
                .split([',', ' '])
                .any(|x| x.trim().eq_ignore_ascii_case(method)),
        }
    }
}

/// What an operation answers with.
#[derive(Debug, Clone)]
pub enum ReturnType {
    /// No body: `204 No Content`.
    Void,
    /// A body of this type.
    Type(TypeRef),
}

/// The operation half of a request DTO.
#[derive(Debug)]
pub struct OperationMeta {
    /// REST routes, in declaration order.
    pub routes: &'static [RouteInfo],
    /// The verb marker interface (`GET` → `IGet`), if declared.
    pub verb: Option<&'static str>,
    /// The response type.
    pub returns: fn() -> ReturnType,
    /// Whether generated code carries `IReturn<T>` / `IReturnVoid` (Evo Voice omits it on some
    /// operations, and generated code must match what it published).
    pub return_marker: bool,
    /// Whether a signed-in user is required.
    pub requires_auth: bool,
    /// Every one of these roles is required.
    pub required_roles: &'static [&'static str],
    /// At least one of these roles is required.
    pub any_roles: &'static [&'static str],
    /// Free-form tags, used to group operations in `/api` and `/metadata`.
    pub tags: &'static [&'static str],
}

macro_rules! primitive {
    ($($t:ty => $p:ident),* $(,)?) => {$(
        impl DtoType for $t {
            fn type_ref() -> TypeRef {
                TypeRef::Primitive(Primitive::$p)
            }
        }
    )*};
}

primitive! {
    String => String, &str => String, char => String, bool => Boolean, i8 => Int32, i16 => Int32, i32 => Int32,
    i64 => Int64, u8 => Int32, u16 => Int32, u32 => UInt32, u64 => UInt64, f64 => Double,
    f32 => Single, rust_decimal::Decimal => Decimal, chrono::DateTime<chrono::Utc> => DateTime,
    chrono::NaiveDate => DateTime, chrono::NaiveDateTime => DateTime,
    std::time::Duration => TimeSpan, serde_json::Value => Object,
}

impl<T: DtoType> DtoType for Option<T> {
    fn type_ref() -> TypeRef {
        TypeRef::Option(Box::new(T::type_ref()))
    }
}

impl<T: DtoType> DtoType for Vec<T> {
    fn type_ref() -> TypeRef {
        TypeRef::List(Box::new(T::type_ref()))
    }
}

impl<T: DtoType> DtoType for Box<T> {
    fn type_ref() -> TypeRef {
        T::type_ref()
    }
}

impl<K: DtoType, V: DtoType, S> DtoType for std::collections::HashMap<K, V, S> {
    fn type_ref() -> TypeRef {
        TypeRef::Map(Box::new(K::type_ref()), Box::new(V::type_ref()))
    }
}

impl<K: DtoType, V: DtoType> DtoType for std::collections::BTreeMap<K, V> {
    fn type_ref() -> TypeRef {
        TypeRef::Map(Box::new(K::type_ref()), Box::new(V::type_ref()))
    }
}

/// The return type of an operation whose response is `R`, used by `#[dto]`.
pub fn returns<R: DtoType>() -> ReturnType {
    ReturnType::Type(R::type_ref())
}

/// The return type of a void operation, used by `#[dto]`.
pub fn returns_void() -> ReturnType {
    ReturnType::Void
}

/// Collects `root` and every DTO reachable from it, each once, in discovery order.
pub fn reachable(root: &'static TypeInfo, out: &mut Vec<&'static TypeInfo>) {
    if out.iter().any(|t| std::ptr::eq(*t, root)) {
        return;
    }
    out.push(root);
    let mut refs = Vec::new();
    for p in root.properties {
        (p.ty)().dtos(&mut refs);
    }
    if let Some(op) = &root.operation
        && let ReturnType::Type(t) = (op.returns)()
    {
        t.dtos(&mut refs);
    }
    for t in refs {
        reachable(t, out);
    }
}

/// Every DTO a host knows, by type name.
#[derive(Debug, Default, Clone)]
pub struct TypeMap {
    by_name: std::collections::HashMap<&'static str, &'static TypeInfo>,
    order: Vec<&'static TypeInfo>,
}

impl TypeMap {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `root` and every DTO reachable from it.
    pub fn add(&mut self, root: &'static TypeInfo) {
        let mut found = Vec::new();
        reachable(root, &mut found);
        for t in found {
            if self.by_name.insert(t.name, t).is_none() {
                self.order.push(t);
            }
        }
    }

    /// Adds every DTO a type reference mentions.
    pub fn add_ref(&mut self, r: &TypeRef) {
        let mut roots = Vec::new();
        r.dtos(&mut roots);
        for t in roots {
            self.add(t);
        }
    }

    /// Looks a type up by its name.
    pub fn get(&self, name: &str) -> Option<&'static TypeInfo> {
        self.by_name.get(name).copied()
    }

    /// Every type, in the order they were added.
    pub fn iter(&self) -> impl Iterator<Item = &'static TypeInfo> + '_ {
        self.order.iter().copied()
    }
}
