//! Shared fixtures: a real SQLite store in a temporary directory and the worked example of
//! domain.md 4.7.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::sync::Arc;

use billing::dto::*;
use billing::store::{NewUserRecord, User};
use billing::{BillingService, BillingStore, SqliteStore};
use chrono::{TimeZone, Utc};
use gateway::{ApiError, Session};
use tempfile::TempDir;

pub const ACCOUNT_SID: &str = "AC0123456789abcdef0123456789abcdef";
pub const OTHER_SID: &str = "ACfedcba9876543210fedcba9876543210";

pub fn call_sid(n: u32) -> String {
    format!("CA{:032x}", n)
}

pub struct Fixture {
    pub dir: TempDir,
    pub store: Arc<SqliteStore>,
    pub svc: BillingService,
}

impl Fixture {
    pub fn db_path(&self) -> std::path::PathBuf {
        self.dir.path().join("billing.db")
    }

    pub fn raw(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(self.db_path()).unwrap()
    }
}

/// A store whose "today" is 2024-05-20 12:00 UTC.
pub fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(dir.path().join("billing.db")).unwrap());
    let dynstore: Arc<dyn BillingStore> = store.clone();
    let clock = Arc::new(|| Utc.with_ymd_and_hms(2024, 5, 20, 12, 0, 0).unwrap());
    let svc = BillingService::with_clock(dynstore, clock);
    Fixture { dir, store, svc }
}

pub fn admin() -> Session {
    Session {
        user_id: "sysadmin".into(),
        user_name: "admin@example.com".into(),
        roles: vec!["SystemAdministrator".into()],
        auth_provider: "credentials".into(),
        ..Default::default()
    }
}

/// A user stored with the given roles and accounts (hash is a placeholder: these tests never
/// sign in), and its session.
pub fn user(store: &dyn BillingStore, name: &str, roles: &[&str], accounts: &[&str]) -> Session {
    let id = format!("user-{name}");
    store
        .create_user(&NewUserRecord {
            user: User {
                id: id.clone(),
                user_name: name.to_string(),
                email: Some(name.to_string()),
                first_name: None,
                last_name: None,
                display_name: None,
                password_hash: "$argon2id$placeholder".into(),
                created_at: Utc::now(),
            },
            roles: roles.iter().map(|r| r.to_string()).collect(),
            permissions: vec![],
            account_ids: accounts.iter().map(|a| a.to_string()).collect(),
        })
        .unwrap();
    Session {
        user_id: id,
        user_name: name.into(),
        roles: roles.iter().map(|r| r.to_string()).collect(),
        ..Default::default()
    }
}

pub async fn account(f: &Fixture, name: &str, sid: &str) -> AccountInfo {
    f.svc
        .new_account(
            NewAccount {
                name: Some(name.into()),
                twilio_account_sid: Some(sid.into()),
                price_unit: None,
            },
            admin(),
        )
        .await
        .unwrap()
}

pub async fn customer(
    f: &Fixture,
    account_id: &str,
    name: &str,
    parent: Option<&str>,
) -> CustomerInfo {
    f.svc
        .new_customer(
            NewCustomer {
                account_id: Some(account_id.into()),
                parent_customer_id: parent.map(str::to_string),
                name: Some(name.into()),
                reference_id: None,
            },
            admin(),
        )
        .await
        .unwrap()
}

#[allow(
    clippy::too_many_arguments,
    reason = "one argument per Twilio field a test varies"
)]
pub fn twilio_call(
    sid: &str,
    account_sid: &str,
    from: &str,
    to: &str,
    direction: &str,
    status: &str,
    start: &str,
    duration: Option<&str>,
) -> TwilioCall {
    TwilioCall {
        sid: Some(sid.into()),
        account_sid: Some(account_sid.into()),
        from: Some(from.into()),
        to: Some(to.into()),
        direction: Some(direction.into()),
        status: Some(status.into()),
        start_time: Some(start.into()),
        duration: duration.map(str::to_string),
        price: Some("-0.01700".into()),
        price_unit: Some("USD".into()),
        ..Default::default()
    }
}

pub async fn import(f: &Fixture, calls: Vec<TwilioCall>) -> Result<ImportCallsResponse, ApiError> {
    f.svc.import_calls(ImportCalls { calls }, admin()).await
}

pub fn bill(account_id: &str, customer_id: &str, sid: &str) -> NewBillable {
    NewBillable {
        account_id: Some(account_id.into()),
        customer_id: Some(customer_id.into()),
        session_id: None,
        call_sid: Some(sid.into()),
    }
}

pub struct Example {
    pub account: AccountInfo,
    pub customer: CustomerInfo,
}

/// domain.md 4.7: three billed calls and one busy call in May 2024, default rates.
pub async fn worked_example(f: &Fixture) -> Example {
    let account = account(f, "Acme", ACCOUNT_SID).await;
    let customer = customer(f, &account.id, "Acme Retail", None).await;
    let calls = vec![
        twilio_call(
            &call_sid(1),
            ACCOUNT_SID,
            "+15551230001",
            "+15557654321",
            "inbound",
            "completed",
            "Wed, 01 May 2024 10:00:00 +0000",
            Some("75"),
        ),
        twilio_call(
            &call_sid(2),
            ACCOUNT_SID,
            "+15551230002",
            "+18005550100",
            "inbound",
            "completed",
            "2024-05-10T23:59:59Z",
            Some("130"),
        ),
        twilio_call(
            &call_sid(3),
            ACCOUNT_SID,
            "+15557654321",
            "+15550000003",
            "outbound-api",
            "completed",
            "Fri, 31 May 2024 23:00:00 +0000",
            Some("30"),
        ),
        twilio_call(
            &call_sid(4),
            ACCOUNT_SID,
            "+15551230004",
            "+15557654321",
            "inbound",
            "busy",
            "2024-05-15T08:00:00Z",
            Some("0"),
        ),
    ];
    let imported = import(f, calls).await.unwrap();
    assert_eq!((imported.imported, imported.updated), (4, 0));
    for n in 1..=4 {
        f.svc
            .new_billable(bill(&account.id, &customer.id, &call_sid(n)), admin())
            .await
            .unwrap();
    }
    Example { account, customer }
}

pub fn assert_err(
    r: Result<impl std::fmt::Debug, ApiError>,
    status: u16,
    code: &str,
    field: Option<&str>,
) -> ApiError {
    let e = r.expect_err("expected an error");
    assert_eq!(e.status(), status, "{e}");
    assert_eq!(e.error_code(), code, "{e}");
    if let Some(f) = field {
        assert_eq!(
            e.errors().first().map(|x| x.field_name.as_str()),
            Some(f),
            "{e}"
        );
    }
    e
}
