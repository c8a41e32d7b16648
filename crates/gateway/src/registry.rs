//! The operation registry: each request DTO with its handler.

use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;

use futures_util::future::LocalBoxFuture;

use crate::context::RequestContext;
use crate::error::ApiError;
use crate::meta::{Operation, TypeInfo, TypeMap};

/// The service behind an operation: any `Fn(Request, RequestContext) -> impl Future<Output =
/// Result<Response, ApiError>>`.
pub trait Handler<Op: Operation>: Send + Sync + 'static {
    /// Serves one request.
    fn call(&self, req: Op, ctx: RequestContext) -> LocalBoxFuture<'static, Result<Op::Response, ApiError>>;
}

impl<Op, F, Fut> Handler<Op> for F
where
    Op: Operation,
    F: Fn(Op, RequestContext) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Op::Response, ApiError>> + 'static,
{
    fn call(&self, req: Op, ctx: RequestContext) -> LocalBoxFuture<'static, Result<Op::Response, ApiError>> {
        Box::pin((self)(req, ctx))
    }
}

/// An operation with its handler, its types erased.
pub(crate) trait ErasedOperation: Send + Sync {
    fn info(&self) -> &'static TypeInfo;
}

struct Typed<Op, H> {
    handler: H,
    _op: PhantomData<fn() -> Op>,
}

impl<Op: Operation, H: Handler<Op>> ErasedOperation for Typed<Op, H> {
    fn info(&self) -> &'static TypeInfo {
        Op::type_info()
    }
}

/// Every operation a host serves.
#[derive(Default, Clone)]
pub struct Registry {
    ops: Vec<Arc<dyn ErasedOperation>>,
    types: TypeMap,
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
        self.ops.push(Arc::new(Typed::<Op, H> { handler, _op: PhantomData }));
        self
    }

    /// The request DTOs of every operation, in registration order.
    pub fn operations(&self) -> impl Iterator<Item = &'static TypeInfo> + '_ {
        self.ops.iter().map(|o| o.info())
    }

    /// Every DTO reachable from the operations.
    pub fn types(&self) -> &TypeMap {
        &self.types
    }
}
