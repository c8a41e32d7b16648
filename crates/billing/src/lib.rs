//! Evo Voice billing: the DTOs, the services and the SQLite store behind `NewBillable`,
//! `ListUsageRecords` and the small operator API (domain.md section 4, decisions.md 26-28).
//!
//! Wiring: open a [`store::SqliteStore`], wrap it in a [`BillingService`], and [`register`] the
//! operations with the gateway.

pub mod dto;
pub mod money;
pub mod rating;
pub mod service;
pub mod store;
pub mod usage_cache;

use std::sync::Arc;

use gateway::{ApiError, Registry, RequestContext, Session};

pub use money::Money;
pub use service::BillingService;
pub use store::{BillingStore, SqliteStore, StoreError};

use dto::*;

/// The caller of a request, or 401. Taken out of the context before the service runs because
/// the context is not `Send`.
fn caller(ctx: &RequestContext) -> Result<Session, ApiError> {
    ctx.require_session().cloned()
}

/// Adds every billing operation to `registry`, served by `service`.
pub fn register(registry: &mut Registry, service: Arc<BillingService>) {
    let s = service.clone();
    registry.add(move |req: NewBillable, ctx: RequestContext| {
        let s = s.clone();
        async move { s.new_billable(req, caller(&ctx)?).await }
    });
    let s = service.clone();
    registry.add(move |req: ListUsageRecords, ctx: RequestContext| {
        let s = s.clone();
        async move {
            // A cached answer is served right here, without copying the session.
            let session = ctx.require_session()?;
            match s.cached_usage_records(&req, session)? {
                Some(hit) => Ok(hit),
                None => s.list_usage_records_uncached(req, session.clone()).await,
            }
        }
    });
    let s = service.clone();
    registry.add(move |req: NewAccount, ctx: RequestContext| {
        let s = s.clone();
        async move { s.new_account(req, caller(&ctx)?).await }
    });
    let s = service.clone();
    registry.add(move |req: GetAccount, ctx: RequestContext| {
        let s = s.clone();
        async move { s.get_account(req, caller(&ctx)?).await }
    });
    let s = service.clone();
    registry.add(move |req: NewCustomer, ctx: RequestContext| {
        let s = s.clone();
        async move { s.new_customer(req, caller(&ctx)?).await }
    });
    let s = service.clone();
    registry.add(move |req: ListCustomers, ctx: RequestContext| {
        let s = s.clone();
        async move { s.list_customers(req, caller(&ctx)?).await }
    });
    let s = service.clone();
    registry.add(move |req: NewUser, ctx: RequestContext| {
        let s = s.clone();
        async move { s.new_user(req, caller(&ctx)?).await }
    });
    let s = service.clone();
    registry.add(move |req: GetAuthStatus, ctx: RequestContext| {
        let s = s.clone();
        async move { s.get_auth_status(req, caller(&ctx)?).await }
    });
    let s = service.clone();
    registry.add(move |req: ImportCalls, ctx: RequestContext| {
        let s = s.clone();
        async move { s.import_calls(req, caller(&ctx)?).await }
    });
    let s = service.clone();
    registry.add(move |req: NewSession, ctx: RequestContext| {
        let s = s.clone();
        async move { s.new_session(req, caller(&ctx)?).await }
    });
    let s = service.clone();
    registry.add(move |req: SetRate, ctx: RequestContext| {
        let s = s.clone();
        async move { s.set_rate(req, caller(&ctx)?).await }
    });
    let s = service.clone();
    registry.add(move |req: ListRates, ctx: RequestContext| {
        let s = s.clone();
        async move { s.list_rates(req, caller(&ctx)?).await }
    });
    let s = service;
    registry.add(move |req: ListBillables, ctx: RequestContext| {
        let s = s.clone();
        async move { s.list_billables(req, caller(&ctx)?).await }
    });
}
