//! The operation registry: each request DTO with its handler.
//!
//! Every operation is stored behind a type-erased entry that knows how to bind its request DTO,
//! run its handler and hand back a response the format layer can write, so the pipeline never
//! sees a concrete DTO type.

use std::collections::HashMap;
use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;

use futures_util::future::LocalBoxFuture;

use crate::bind::BindInput;
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::format::ResponseBody;
use crate::meta::{Operation, Primitive, ReturnType, TypeInfo, TypeMap, TypeRef};

/// The service behind an operation: any `Fn(Request, RequestContext) -> impl Future<Output =
/// Result<Response, ApiError>>`.
pub trait Handler<Op: Operation>: Send + Sync + 'static {
    /// What a call returns. Kept concrete so the registry boxes it once, together with turning
    /// the response into a [`Reply`], instead of boxing it twice per request.
    type Future: Future<Output = Result<Op::Response, ApiError>> + 'static;

    /// Serves one request.
    fn call(&self, req: Op, ctx: RequestContext) -> Self::Future;
}

impl<Op, F, Fut> Handler<Op> for F
where
    Op: Operation,
    F: Fn(Op, RequestContext) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Op::Response, ApiError>> + 'static,
{
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
                    value: Box::new(value),
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
                    Ok(v) => out.push(v),
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

/// Every operation a host serves.
#[derive(Default, Clone)]
pub struct Registry {
    ops: Vec<Arc<dyn ErasedOperation>>,
    /// Lower-cased operation name → index in `ops`; the first registration of a name wins.
    by_name: HashMap<String, usize>,
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
        self.by_name
            .entry(info.name.to_ascii_lowercase())
            .or_insert(index);
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
        // Every generic request looks its operation up here: a name that fits is lower-cased on
        // the stack rather than into a new `String`.
        let mut buf = [0u8; 64];
        if let Some(lower) = buf.get_mut(..name.len()) {
            lower.copy_from_slice(name.as_bytes());
            lower.make_ascii_lowercase();
            // ASCII lower-casing keeps UTF-8 valid, so this never falls through.
            if let Ok(lower) = std::str::from_utf8(lower) {
                return self.by_name.get(lower).copied();
            }
        }
        self.by_name.get(&name.to_ascii_lowercase()).copied()
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
