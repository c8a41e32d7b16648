//! The operation registry: each request DTO with its handler.
//!
//! Every operation is stored behind a type-erased entry that knows how to bind its request DTO,
//! run its handler and hand back a response the format layer can write, so the pipeline never
//! sees a concrete DTO type.

use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;

use futures_util::future::LocalBoxFuture;

use crate::bind::BindInput;
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::format::{IntoResponse, ResponseBody};
use crate::meta::{Operation, Primitive, ReturnType, TypeInfo, TypeMap, TypeRef};

/// The service behind an operation: any `Fn(Request, RequestContext) -> impl Future<Output =
/// Result<R, ApiError>>` where `R` is the declared response or a
/// [`Shared`](crate::format::Shared) one ([`IntoResponse`]).
pub trait Handler<Op: Operation>: Send + Sync + 'static {
    /// The answer: the declared response type, or a form of it the format layer can write
    /// faster.
    type Output: IntoResponse<Op::Response>;
    /// What a call returns. Kept concrete so the registry boxes it once, together with turning
    /// the response into a [`Reply`], instead of boxing it twice per request.
    type Future: Future<Output = Result<Self::Output, ApiError>> + 'static;

    /// Serves one request.
    fn call(&self, req: Op, ctx: RequestContext) -> Self::Future;
}

impl<Op, F, Fut, R> Handler<Op> for F
where
    Op: Operation,
    F: Fn(Op, RequestContext) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<R, ApiError>> + 'static,
    R: IntoResponse<Op::Response>,
{
    type Output = R;
    type Future = Fut;

    fn call(&self, req: Op, ctx: RequestContext) -> Fut {
        (self)(req, ctx)
    }
}

/// What a successful call answers with.
pub(crate) enum Reply {
    /// A body; its declared type is [`ErasedOperation::declared`] (XML roots and CSV rows depend
    /// on it), or a list of it for a batch.
    Body {
        /// The response value, still typed behind [`ResponseBody`] so JSON and JSV can write it
        /// without `erased_serde`.
        value: Box<dyn ResponseBody>,
        /// The answer of a batch: a list of the declared type.
        list: bool,
    },
    /// A void operation: `204 No Content`.
    Void,
}

/// The outcome of a batch: how many items completed, and the answer.
pub(crate) struct BatchOutcome {
    /// Items whose handler succeeded before the answer was decided.
    pub completed: usize,
    /// Whether the failure (if any) came from a handler, as opposed to binding the batch.
    pub failed_in_handler: bool,
    /// The array of responses, or the first error.
    pub result: Result<Reply, ApiError>,
}

/// An operation with its handler, its types erased.
pub(crate) trait ErasedOperation: Send + Sync {
    /// The request DTO's description.
    fn info(&self) -> &'static TypeInfo;

    /// The declared response type, `None` for a void operation; worked out once at registration
    /// (building it allocates).
    fn declared(&self) -> Option<&TypeRef>;

    /// Binds one request DTO from `input` and runs the handler.
    ///
    /// Binding happens before this returns, so the future borrows nothing from the request.
    fn call(
        self: Arc<Self>,
        input: &BindInput<'_>,
        ctx: RequestContext,
    ) -> LocalBoxFuture<'static, Result<Reply, ApiError>>;

    /// Binds an array of request DTOs and runs the handler once per item, in order, stopping at
    /// the first failure.
    fn call_batch(
        self: Arc<Self>,
        input: &BindInput<'_>,
        ctx: RequestContext,
    ) -> LocalBoxFuture<'static, BatchOutcome>;
}

struct Typed<Op, H> {
    handler: H,
    /// [`declared_response`] of `Op`.
    declared: Option<TypeRef>,
    _op: PhantomData<fn() -> Op>,
}

/// The declared response type of `Op`, `None` for a void operation.
fn declared_response<Op: Operation>() -> Option<TypeRef> {
    match Op::type_info().operation.as_ref().map(|o| (o.returns)()) {
        Some(ReturnType::Type(t)) => Some(t),
        Some(ReturnType::Void) => None,
        // `#[dto]` always declares the operation half; a hand-written `Operation` without it is
        // still served, as an untyped object.
        None => Some(TypeRef::Primitive(Primitive::Object)),
    }
}

impl<Op: Operation, H: Handler<Op>> ErasedOperation for Typed<Op, H> {
    fn info(&self) -> &'static TypeInfo {
        Op::type_info()
    }

    fn declared(&self) -> Option<&TypeRef> {
        self.declared.as_ref()
    }

    fn call(
        self: Arc<Self>,
        input: &BindInput<'_>,
        ctx: RequestContext,
    ) -> LocalBoxFuture<'static, Result<Reply, ApiError>> {
        let req = match crate::bind::bind::<Op>(input) {
            Ok(r) => r,
            Err(e) => return Box::pin(std::future::ready(Err(e))),
        };
        let fut = self.handler.call(req, ctx);
        Box::pin(async move {
            let value = fut.await?;
            Ok(match self.declared {
                Some(_) => Reply::Body {
                    value: value.into_body(),
                    list: false,
                },
                None => Reply::Void,
            })
        })
    }

    fn call_batch(
        self: Arc<Self>,
        input: &BindInput<'_>,
        ctx: RequestContext,
    ) -> LocalBoxFuture<'static, BatchOutcome> {
        let items = match crate::bind::bind_batch::<Op>(input) {
            Ok(items) => items,
            Err(e) => {
                return Box::pin(std::future::ready(BatchOutcome {
                    completed: 0,
                    failed_in_handler: false,
                    result: Err(e),
                }));
            }
        };
        Box::pin(async move {
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                match self.handler.call(item, ctx.clone()).await {
                    Ok(v) => out.push(v.into_item()),
                    Err(e) => {
                        return BatchOutcome {
                            completed: out.len(),
                            failed_in_handler: true,
                            result: Err(e),
                        };
                    }
                }
            }
            let completed = out.len();
            let result = Ok(match self.declared {
                Some(_) => Reply::Body {
                    value: Box::new(out),
                    list: true,
                },
                None => Reply::Void,
            });
            BatchOutcome {
                completed,
                failed_in_handler: false,
                result,
            }
        })
    }
}

/// Operation names to registry indices, looked up ignoring ASCII case.
///
/// Every generic request looks its operation up by the name in the URL. A hand-made
/// open-addressing table hashes that name case-folded as it reads it, so a lookup neither copies
/// it into a lower-cased buffer nor runs SipHash, whose resistance to chosen keys buys nothing
/// here: the table is filled once from the host's own operations and never grows from requests.
#[derive(Default, Clone)]
struct NameTable {
    /// Names as registered with their index; the length is zero or a power of two.
    slots: Vec<Option<(&'static str, usize)>>,
    len: usize,
}

impl NameTable {
    /// The length and the case-folded first and last two bytes: enough to spread a host's
    /// operation names, and a few instructions where hashing every byte would cost as much as
    /// the comparison that follows anyway.
    fn hash(name: &str) -> usize {
        let b = name.as_bytes();
        let at = |i: usize| usize::from(b.get(i).map_or(0, u8::to_ascii_lowercase));
        let n = b.len();
        let mixed = n
            ^ (at(0) << 8)
            ^ (at(1) << 16)
            ^ (at(n.wrapping_sub(1)) << 5)
            ^ (at(n.wrapping_sub(2)) << 13);
        // The product carries every input bit upwards; fold the high half onto the low bits,
        // which pick the slot.
        let h = mixed.wrapping_mul(0x9E37_79B9);
        h ^ (h >> 16)
    }

    /// The slot holding `name`, or the empty slot where it would go.
    fn slot(&self, name: &str) -> Option<usize> {
        let mask = self.slots.len().checked_sub(1)?;
        let mut i = Self::hash(name) & mask;
        // At most half full, so an empty slot always ends the probe.
        loop {
            match self.slots.get(i)? {
                // Clients nearly always spell a name as declared: an exact comparison (one
                // `memcmp`) settles most lookups before the byte-by-byte case-folding one.
                Some((k, _)) if *k != name && !k.eq_ignore_ascii_case(name) => {
                    i = (i + 1) & mask;
                }
                _ => return Some(i),
            }
        }
    }

    fn get(&self, name: &str) -> Option<usize> {
        let i = self.slot(name)?;
        self.slots.get(i)?.as_ref().map(|(_, index)| *index)
    }

    /// Adds `name`, unless it is already there (the first registration wins).
    fn insert(&mut self, name: &'static str, index: usize) {
        if (self.len + 1) * 2 > self.slots.len() {
            let old = std::mem::take(&mut self.slots);
            self.slots = vec![None; (old.len() * 2).max(16)];
            self.len = 0;
            for (k, v) in old.into_iter().flatten() {
                self.insert(k, v);
            }
        }
        if let Some(i) = self.slot(name)
            && let Some(slot @ None) = self.slots.get_mut(i)
        {
            *slot = Some((name, index));
            self.len += 1;
        }
    }
}

/// Every operation a host serves.
#[derive(Default, Clone)]
pub struct Registry {
    ops: Vec<Arc<dyn ErasedOperation>>,
    /// Operation name (matched ignoring ASCII case) → index in `ops`; the first registration of a
    /// name wins.
    by_name: NameTable,
    types: TypeMap,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.ops.iter().map(|o| o.info().name))
            .finish()
    }
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an operation served by `handler`.
    pub fn add<Op: Operation, H: Handler<Op>>(&mut self, handler: H) -> &mut Self {
        let info = Op::type_info();
        self.types.add(info);
        let index = self.ops.len();
        self.ops.push(Arc::new(Typed::<Op, H> {
            handler,
            declared: declared_response::<Op>(),
            _op: PhantomData,
        }));
        self.by_name.insert(info.name, index);
        self
    }

    /// The request DTOs of every operation, in registration order.
    pub fn operations(&self) -> impl Iterator<Item = &'static TypeInfo> + '_ {
        self.ops.iter().map(|o| o.info())
    }

    /// The request DTO of the operation named `name`, ignoring ASCII case.
    pub fn operation(&self, name: &str) -> Option<&'static TypeInfo> {
        self.find(name)
            .and_then(|i| self.ops.get(i))
            .map(|o| o.info())
    }

    /// Every DTO reachable from the operations.
    pub fn types(&self) -> &TypeMap {
        &self.types
    }

    /// The index of the operation named `name`, ignoring ASCII case.
    pub(crate) fn find(&self, name: &str) -> Option<usize> {
        self.by_name.get(name)
    }

    /// The entry at `index` (from [`Registry::find`] or the router).
    pub(crate) fn entry(&self, index: usize) -> Option<&Arc<dyn ErasedOperation>> {
        self.ops.get(index)
    }

    /// Every entry with its index, in registration order.
    pub(crate) fn entries(&self) -> impl Iterator<Item = (usize, &Arc<dyn ErasedOperation>)> + '_ {
        self.ops.iter().enumerate()
    }
}

#[cfg(test)]
mod tests {
    use super::NameTable;

    #[test]
    fn names_are_found_ignoring_case_and_the_first_registration_wins() {
        let mut t = NameTable::default();
        assert_eq!(t.get("Anything"), None);
        let names: Vec<&'static str> = (0..200)
            .map(|i| &*Box::leak(format!("Operation{i}").into_boxed_str()))
            .collect();
        for (i, n) in names.iter().enumerate() {
            t.insert(n, i);
        }
        t.insert("OPERATION7", 999);
        for (i, n) in names.iter().enumerate() {
            assert_eq!(t.get(n), Some(i));
            assert_eq!(t.get(&n.to_ascii_uppercase()), Some(i));
        }
        assert_eq!(t.get("Operation200"), None);
        assert_eq!(t.get(""), None);
        assert_eq!(t.get("Opération1"), None);
    }
}
