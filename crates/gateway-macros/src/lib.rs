//! `#[dto]`: declare a ServiceStack DTO once.
//!
//! The attribute adds the serde derives with the wire conventions of a modern ServiceStack
//! host (camelCase keys, nulls omitted, missing or `null` members taken as defaults) and
//! implements `gateway::meta::Dto` and `gateway::meta::DtoType` (and `Operation` for request
//! DTOs) from the struct itself: the doc comments become descriptions, the field types become
//! the property types. Nothing about a DTO is written anywhere else.
//!
//! Container options: `namespace = "Voice.Api.Billing"`, `xml_namespace = "..."`,
//! `member_order = "declared"`, `name = "WireTypeName"`, `wire_case = "snake_case"`;
//! operation options: `route = "/path"` or `route("/path", "GET,POST")` (repeatable),
//! `verb = "GET"`, `response = Type`, `implicit_response`, `authenticate`,
//! `roles("A", "B")` (all required), `roles_any("A", "B")` (any one), `tag("x")`,
//! `operation` (a void operation without routes). Field options: `required`,
//! `name = "CSharpName"`, `wire = "wireName"`.

use proc_macro::TokenStream;
use proc_macro2::{Span, TokenStream as TokenStream2};
use quote::{quote, quote_spanned};
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Attribute, Fields, Ident, ItemStruct, LitStr, Token, Type};

/// Declares a DTO; see the crate documentation for the options.
#[proc_macro_attribute]
pub fn dto(args: TokenStream, input: TokenStream) -> TokenStream {
    let args = match syn::parse::<ContainerArgs>(args) {
        Ok(a) => a,
        Err(e) => return e.to_compile_error().into(),
    };
    let item = match syn::parse::<ItemStruct>(input) {
        Ok(i) => i,
        Err(e) => return e.to_compile_error().into(),
    };
    match expand(args, item) {
        Ok(ts) => ts.into(),
        Err(e) => e.to_compile_error().into(),
    }
}

#[derive(Default)]
struct ContainerArgs {
    namespace: Option<LitStr>,
    xml_namespace: Option<LitStr>,
    member_order_declared: bool,
    name: Option<LitStr>,
    snake_case: bool,
    routes: Vec<(LitStr, Option<LitStr>)>,
    verb: Option<LitStr>,
    response: Option<Type>,
    implicit_response: bool,
    authenticate: bool,
    roles: Vec<LitStr>,
    roles_any: Vec<LitStr>,
    tags: Vec<LitStr>,
    operation: bool,
}

fn lit_list(input: ParseStream) -> syn::Result<Vec<LitStr>> {
    let content;
    syn::parenthesized!(content in input);
    let list = Punctuated::<LitStr, Token![,]>::parse_terminated(&content)?;
    Ok(list.into_iter().collect())
}

impl Parse for ContainerArgs {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let mut a = ContainerArgs::default();
        while !input.is_empty() {
            let key: Ident = input.parse()?;
            match key.to_string().as_str() {
                "namespace" => {
                    input.parse::<Token![=]>()?;
                    a.namespace = Some(input.parse()?);
                }
                "xml_namespace" => {
                    input.parse::<Token![=]>()?;
                    a.xml_namespace = Some(input.parse()?);
                }
                "member_order" => {
                    input.parse::<Token![=]>()?;
                    let v: LitStr = input.parse()?;
                    match v.value().as_str() {
                        "declared" => a.member_order_declared = true,
                        "ordinal" => a.member_order_declared = false,
                        _ => {
                            return Err(syn::Error::new(
                                v.span(),
                                "expected \"declared\" or \"ordinal\"",
                            ));
                        }
                    }
                }
                "name" => {
                    input.parse::<Token![=]>()?;
                    a.name = Some(input.parse()?);
                }
                "wire_case" => {
                    input.parse::<Token![=]>()?;
                    let v: LitStr = input.parse()?;
                    match v.value().as_str() {
                        "snake_case" => a.snake_case = true,
                        "camelCase" => a.snake_case = false,
                        _ => {
                            return Err(syn::Error::new(
                                v.span(),
                                "expected \"snake_case\" or \"camelCase\"",
                            ));
                        }
                    }
                }
                "route" => {
                    if input.peek(Token![=]) {
                        input.parse::<Token![=]>()?;
                        a.routes.push((input.parse()?, None));
                    } else {
                        let lits = lit_list(input)?;
                        match lits.as_slice() {
                            [p] => a.routes.push((p.clone(), None)),
                            [p, v] => a.routes.push((p.clone(), Some(v.clone()))),
                            _ => {
                                return Err(syn::Error::new(
                                    key.span(),
                                    "route(\"/path\", \"VERBS\")",
                                ));
                            }
                        }
                    }
                }
                "verb" => {
                    input.parse::<Token![=]>()?;
                    a.verb = Some(input.parse()?);
                }
                "response" => {
                    input.parse::<Token![=]>()?;
                    a.response = Some(input.parse()?);
                }
                "implicit_response" => a.implicit_response = true,
                "authenticate" => a.authenticate = true,
                "operation" => a.operation = true,
                "roles" => a.roles.extend(lit_list(input)?),
                "roles_any" => a.roles_any.extend(lit_list(input)?),
                "tag" => a.tags.extend(lit_list(input)?),
                other => {
                    return Err(syn::Error::new(
                        key.span(),
                        format!("unknown dto option `{other}`"),
                    ));
                }
            }
            if input.is_empty() {
                break;
            }
            input.parse::<Token![,]>()?;
        }
        Ok(a)
    }
}

#[derive(Default)]
struct FieldArgs {
    required: bool,
    name: Option<LitStr>,
    wire: Option<LitStr>,
}

fn field_args(attrs: &mut Vec<Attribute>) -> syn::Result<FieldArgs> {
    let mut out = FieldArgs::default();
    let mut err = None;
    attrs.retain(|attr| {
        if !attr.path().is_ident("dto") {
            return true;
        }
        let r = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("required") {
                out.required = true;
            } else if meta.path.is_ident("name") {
                out.name = Some(meta.value()?.parse()?);
            } else if meta.path.is_ident("wire") {
                out.wire = Some(meta.value()?.parse()?);
            } else {
                return Err(meta.error("unknown dto field option"));
            }
            Ok(())
        });
        if let Err(e) = r {
            err = Some(e);
        }
        false
    });
    match err {
        Some(e) => Err(e),
        None => Ok(out),
    }
}

/// The doc comment as one string: lines joined by `\n`, the one leading space of `/// x` dropped.
fn doc_of(attrs: &[Attribute]) -> Option<String> {
    let mut lines = Vec::new();
    for attr in attrs {
        if !attr.path().is_ident("doc") {
            continue;
        }
        if let syn::Meta::NameValue(nv) = &attr.meta
            && let syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) = &nv.value
        {
            let v = s.value();
            lines.push(v.strip_prefix(' ').unwrap_or(&v).trim_end().to_string());
        }
    }
    let text = lines.join("\n").trim().to_string();
    if text.is_empty() { None } else { Some(text) }
}

fn pascal(snake: &str) -> String {
    snake
        .split('_')
        .filter(|s| !s.is_empty())
        .map(|s| {
            let mut c = s.chars();
            match c.next() {
                Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

fn camel(snake: &str) -> String {
    let p = pascal(snake);
    let mut c = p.chars();
    match c.next() {
        Some(f) => f.to_lowercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

fn is_option(ty: &Type) -> bool {
    if let Type::Path(tp) = ty
        && let Some(seg) = tp.path.segments.last()
    {
        return seg.ident == "Option";
    }
    false
}

fn has_serde_with(attrs: &[Attribute]) -> bool {
    attrs
        .iter()
        .filter(|a| a.path().is_ident("serde"))
        .any(|a| {
            let s = a.meta.to_token_stream_string();
            s.contains("with") || s.contains("skip")
        })
}

trait MetaString {
    fn to_token_stream_string(&self) -> String;
}

impl MetaString for syn::Meta {
    fn to_token_stream_string(&self) -> String {
        quote!(#self).to_string()
    }
}

fn opt_str(v: &Option<String>) -> TokenStream2 {
    match v {
        Some(s) => quote!(::core::option::Option::Some(#s)),
        None => quote!(::core::option::Option::None),
    }
}

fn expand(args: ContainerArgs, mut item: ItemStruct) -> syn::Result<TokenStream2> {
    if !item.generics.params.is_empty() {
        return Err(syn::Error::new(
            item.generics.span(),
            "#[dto] types cannot be generic",
        ));
    }
    let ident = item.ident.clone();
    let type_name = args
        .name
        .as_ref()
        .map(|n| n.value())
        .unwrap_or_else(|| ident.to_string());
    let description = opt_str(&doc_of(&item.attrs));
    let namespace = args
        .namespace
        .as_ref()
        .map(|n| n.value())
        .unwrap_or_default();
    let xml_namespace = args
        .xml_namespace
        .as_ref()
        .map(|n| n.value())
        .unwrap_or_default();
    let member_order = if args.member_order_declared {
        quote!(::gateway::meta::MemberOrder::Declared)
    } else {
        quote!(::gateway::meta::MemberOrder::Ordinal)
    };

    let Fields::Named(fields) = &mut item.fields else {
        return Err(syn::Error::new(
            item.span(),
            "#[dto] needs a struct with named fields",
        ));
    };
    let mut props = Vec::new();
    for field in fields.named.iter_mut() {
        let fa = field_args(&mut field.attrs)?;
        let Some(fident) = field.ident.as_ref() else {
            continue;
        };
        let raw = fident.to_string();
        let raw = raw.strip_prefix("r#").unwrap_or(&raw).to_string();
        let cs_name = fa
            .name
            .as_ref()
            .map(|n| n.value())
            .unwrap_or_else(|| pascal(&raw));
        let wire = match &fa.wire {
            Some(w) => w.value(),
            None if args.snake_case => raw.clone(),
            None => camel(&raw),
        };
        let desc = opt_str(&doc_of(&field.attrs));
        let required = fa.required;
        let ty = &field.ty;
        let span = ty.span();
        props.push(quote_spanned! {span=>
            ::gateway::meta::PropertyInfo {
                name: #cs_name,
                wire_name: #wire,
                ty: <#ty as ::gateway::meta::DtoType>::type_ref,
                description: #desc,
                required: #required,
            }
        });
        let custom = has_serde_with(&field.attrs);
        field
            .attrs
            .push(syn::parse_quote!(#[serde(rename = #wire)]));
        if is_option(ty) {
            field.attrs.push(
                syn::parse_quote!(#[serde(default, skip_serializing_if = "Option::is_none")]),
            );
        } else if !custom {
            field
                .attrs
                .push(syn::parse_quote!(#[serde(default, deserialize_with = "::gateway::serde_util::null_as_default")]));
        }
    }

    let is_op = args.operation
        || !args.routes.is_empty()
        || args.verb.is_some()
        || args.response.is_some()
        || args.authenticate
        || !args.roles.is_empty()
        || !args.roles_any.is_empty();

    let operation = if is_op {
        let routes = args.routes.iter().map(|(p, v)| {
            let verbs = match v {
                Some(v) => {
                    let up = v.value().to_uppercase();
                    quote!(::core::option::Option::Some(#up))
                }
                None => quote!(::core::option::Option::None),
            };
            quote!(::gateway::meta::RouteInfo { path: #p, verbs: #verbs })
        });
        let verb = match &args.verb {
            Some(v) => {
                let up = v.value().to_uppercase();
                quote!(::core::option::Option::Some(#up))
            }
            None => quote!(::core::option::Option::None),
        };
        let returns = match &args.response {
            Some(t) => quote!(::gateway::meta::returns::<#t>),
            None => quote!(::gateway::meta::returns_void),
        };
        let marker = !args.implicit_response;
        let auth = args.authenticate || !args.roles.is_empty() || !args.roles_any.is_empty();
        let roles = &args.roles;
        let roles_any = &args.roles_any;
        let tags = &args.tags;
        quote! {
            ::core::option::Option::Some(::gateway::meta::OperationMeta {
                routes: &[#(#routes),*],
                verb: #verb,
                returns: #returns,
                return_marker: #marker,
                requires_auth: #auth,
                required_roles: &[#(#roles),*],
                any_roles: &[#(#roles_any),*],
                tags: &[#(#tags),*],
            })
        }
    } else {
        quote!(::core::option::Option::None)
    };

    let op_impl = if is_op {
        let resp = match &args.response {
            Some(t) => quote!(#t),
            None => quote!(()),
        };
        quote! {
            impl ::gateway::meta::Operation for #ident {
                type Response = #resp;
            }
        }
    } else {
        quote!()
    };

    item.attrs
        .push(syn::parse_quote!(#[derive(::serde::Serialize, ::serde::Deserialize)]));
    item.attrs.push(syn::parse_quote!(#[serde(default)]));

    let span = Span::call_site();
    Ok(quote_spanned! {span=>
        #item

        impl ::gateway::meta::Dto for #ident {
            fn type_info() -> &'static ::gateway::meta::TypeInfo {
                static INFO: ::gateway::meta::TypeInfo = ::gateway::meta::TypeInfo {
                    name: #type_name,
                    namespace: #namespace,
                    xml_namespace: #xml_namespace,
                    description: #description,
                    properties: &[#(#props),*],
                    member_order: #member_order,
                    operation: #operation,
                };
                &INFO
            }
        }

        impl ::gateway::meta::DtoType for #ident {
            fn type_ref() -> ::gateway::meta::TypeRef {
                ::gateway::meta::TypeRef::Dto(<#ident as ::gateway::meta::Dto>::type_info)
            }
        }

        #op_impl
    })
}
