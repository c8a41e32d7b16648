//! The billing DTOs, each declared once with `#[dto]`.
//!
//! `NewBillable` and `ListUsageRecords` mirror Evo Voice's published metadata exactly (names,
//! namespaces, descriptions); the operator DTOs are evogate's own, in `Voice.Api.Billing`.

use gateway::dto;

use crate::money::Money;

// ---------------------------------------------------------------------------------------------
// Evo Voice operations
// ---------------------------------------------------------------------------------------------

/// Report/create a new billable
#[dto(
    namespace = "Voice.Api.Billing",
    route("/billables", "POST"),
    verb = "POST",
    authenticate
)]
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewBillable {
    /// The account to associate the billable with
    pub account_id: Option<String>,
    /// The customer to associate the billable with
    pub customer_id: Option<String>,
    /// The session ID to associate the billable with. You must specify either this or (AccountId + CustomerID)
    pub session_id: Option<String>,
    /// The call SID to report
    pub call_sid: Option<String>,
}

/// Gets all usage records for specified date range
#[dto(
    namespace = "Voice.Api.Dashboard",
    route("/billing/usage", "GET"),
    verb = "GET",
    response = Vec<UsageRecordInfo>,
    implicit_response,
    authenticate,
    roles_any("SystemAdministrator", "Manager")
)]
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListUsageRecords {
    /// The account ID you are listing for
    pub account_id: Option<String>,
    /// The start date to retrieve usage records for (YYYY-MM-DD)
    pub start_date: Option<String>,
    /// The end date to retrieve usage records for (YYYY-MM-DD)
    pub end_date: Option<String>,
}

/// A Twilio-shaped usage record of one category over the requested date range.
#[dto(namespace = "Voice.Api.Dashboard")]
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UsageRecordInfo {
    /// The Twilio account SID of the account
    pub account_sid: String,
    /// The usage category
    pub category: String,
    /// The number of usage events (calls)
    pub count: i64,
    /// The unit of count
    pub count_unit: String,
    /// A description of the category
    pub description: String,
    /// The last day of the range (YYYY-MM-DD)
    pub end_date: String,
    /// The total price of the usage
    pub price: Money,
    /// The currency of the price
    pub price_unit: String,
    /// The first day of the range (YYYY-MM-DD)
    pub start_date: String,
    /// The amount of usage
    pub usage: String,
    /// The unit of usage
    pub usage_unit: String,
    /// The Twilio URI of the usage record
    pub uri: String,
}

// ---------------------------------------------------------------------------------------------
// Accounts
// ---------------------------------------------------------------------------------------------

/// Creates a new account
#[dto(
    namespace = "Voice.Api.Billing",
    route("/accounts", "POST"),
    verb = "POST",
    response = AccountInfo,
    roles_any("SystemAdministrator")
)]
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewAccount {
    /// The name of the account
    pub name: Option<String>,
    /// The Twilio account SID (AC...); generated if not specified
    pub twilio_account_sid: Option<String>,
    /// The currency of prices (lowercase ISO 4217, default usd)
    pub price_unit: Option<String>,
}

/// Gets a specific account
#[dto(
    namespace = "Voice.Api.Billing",
    route("/accounts/{accountId}", "GET"),
    verb = "GET",
    response = AccountInfo,
    roles_any("SystemAdministrator")
)]
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GetAccount {
    /// The ID of the account
    pub account_id: Option<String>,
}

/// An account
#[dto(namespace = "Voice.Api.Billing")]
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountInfo {
    /// The ID of the account
    pub id: String,
    /// The name of the account
    pub name: String,
    /// The Twilio account SID
    pub twilio_account_sid: String,
    /// The currency of prices
    pub price_unit: String,
}

// ---------------------------------------------------------------------------------------------
// Customers
// ---------------------------------------------------------------------------------------------

/// Creates a new customer
#[dto(
    namespace = "Voice.Api.Billing",
    route("/customers", "POST"),
    verb = "POST",
    response = CustomerInfo,
    roles_any("SystemAdministrator", "Manager")
)]
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewCustomer {
    /// The account the customer belongs to
    pub account_id: Option<String>,
    /// The parent customer, in the same account
    pub parent_customer_id: Option<String>,
    /// The name of the customer
    pub name: Option<String>,
    /// The ID of the customer in a third-party system
    pub reference_id: Option<String>,
}

/// Lists the customers of an account
#[dto(
    namespace = "Voice.Api.Billing",
    route("/customers", "GET"),
    verb = "GET",
    response = ListCustomersResponse,
    roles_any("SystemAdministrator", "Manager")
)]
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListCustomers {
    /// The account ID you are listing for
    pub account_id: Option<String>,
    /// The page to return, from 1
    pub page: Option<i64>,
    /// The number of items per page (default 100, at most 1000)
    pub page_size: Option<i64>,
}

/// A customer
#[dto(namespace = "Voice.Api.Billing")]
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CustomerInfo {
    /// The ID of the customer
    pub id: String,
    /// The account the customer belongs to
    pub account_id: String,
    /// The parent customer
    pub parent_customer_id: Option<String>,
    /// The name of the customer
    pub name: String,
    /// The ID of the customer in a third-party system
    pub reference_id: Option<String>,
}

/// A page of customers
#[dto(namespace = "Voice.Api.Billing")]
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListCustomersResponse {
    /// The customers on this page
    pub items: Vec<CustomerInfo>,
    /// The number of customers in all pages
    pub total_count: i64,
    /// The number of pages
    pub total_pages: i64,
    /// Whether pages follow this one
    pub has_more_pages: bool,
}

// ---------------------------------------------------------------------------------------------
// Users
// ---------------------------------------------------------------------------------------------

/// Creates a new user
#[dto(
    namespace = "Voice.Api.Billing",
    route("/users", "POST"),
    verb = "POST",
    response = UserInfo,
    roles_any("SystemAdministrator", "Manager")
)]
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewUser {
    /// The email address of the user; any given email address can only exist once
    pub email_address: Option<String>,
    /// The password of the user
    pub password: Option<String>,
    /// The first name of the user
    pub first_name: Option<String>,
    /// The last name of the user
    pub last_name: Option<String>,
    /// The roles of the user
    pub roles: Vec<String>,
    /// The accounts the user may access
    pub account_ids: Vec<String>,
}

/// Gets the signed-in user
#[dto(namespace = "Voice.Api.Billing", route("/auth/status", "GET"), verb = "GET", response = UserInfo, authenticate)]
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GetAuthStatus {}

/// A user
#[dto(namespace = "Voice.Api.Billing")]
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserInfo {
    /// The ID of the user
    pub id: String,
    /// The email address (or sign-in name) of the user
    pub email_address: String,
    /// The first name of the user
    pub first_name: Option<String>,
    /// The last name of the user
    pub last_name: Option<String>,
    /// The roles of the user
    pub roles: Vec<String>,
    /// The accounts the user may access
    pub account_ids: Vec<String>,
    /// The names of the accounts, in the order of AccountIds
    pub account_names: Vec<String>,
}

// ---------------------------------------------------------------------------------------------
// Calls and sessions
// ---------------------------------------------------------------------------------------------

/// Imports Twilio call resources, as Twilio returns them in a list page
#[dto(
    namespace = "Voice.Api.Billing",
    route("/calls", "POST"),
    verb = "POST",
    response = ImportCallsResponse,
    roles_any("SystemAdministrator", "Manager")
)]
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportCalls {
    /// The calls to insert or update (by SID)
    pub calls: Vec<TwilioCall>,
}

/// A Twilio Call resource, with Twilio's snake_case names
#[dto(namespace = "Voice.Api.Billing", wire_case = "snake_case")]
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TwilioCall {
    /// The call SID (CA...)
    pub sid: Option<String>,
    /// The Twilio account SID (AC...)
    pub account_sid: Option<String>,
    /// The SID of the call that created this leg
    pub parent_call_sid: Option<String>,
    /// The caller
    pub from: Option<String>,
    /// The callee
    pub to: Option<String>,
    /// inbound, outbound-api, outbound-dial, trunking-originating or trunking-terminating
    pub direction: Option<String>,
    /// queued, ringing, in-progress, completed, busy, failed, no-answer or canceled
    pub status: Option<String>,
    /// The start time (RFC 2822 or ISO 8601)
    pub start_time: Option<String>,
    /// The end time (RFC 2822 or ISO 8601)
    pub end_time: Option<String>,
    /// The duration in seconds
    pub duration: Option<String>,
    /// Twilio's charge for the call
    pub price: Option<String>,
    /// The currency of price
    pub price_unit: Option<String>,
    /// When the resource was created
    pub date_created: Option<String>,
    /// When the resource was last updated
    pub date_updated: Option<String>,
    /// Whether a person or a machine answered
    pub answered_by: Option<String>,
    /// The caller name
    pub caller_name: Option<String>,
    /// The Twilio URI of the resource
    pub uri: Option<String>,
}

/// What an import did
#[dto(namespace = "Voice.Api.Billing")]
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportCallsResponse {
    /// The number of new calls
    pub imported: i64,
    /// The number of existing calls that changed
    pub updated: i64,
}

/// Creates (imports) a session
#[dto(
    namespace = "Voice.Api.Billing",
    route("/sessions", "POST"),
    verb = "POST",
    response = SessionInfo,
    roles_any("SystemAdministrator", "Manager")
)]
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewSession {
    /// The ID of the session; generated if not specified
    pub id: Option<String>,
    /// The account of the session
    pub account_id: Option<String>,
    /// The customer of the session
    pub customer_id: Option<String>,
    /// The Twilio call SID of the session
    pub call_sid: Option<String>,
    /// Voice, Chat or Fax (default Voice)
    pub channel: Option<String>,
    /// The caller address
    pub from_address: Option<String>,
    /// The called address
    pub to_address: Option<String>,
    /// When the session was created (ISO 8601); now if not specified
    pub date_created: Option<String>,
}

/// A session
#[dto(namespace = "Voice.Api.Billing")]
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionInfo {
    /// The ID of the session
    pub id: String,
    /// The account of the session
    pub account_id: String,
    /// The customer of the session
    pub customer_id: Option<String>,
    /// The Twilio call SID of the session
    pub call_sid: Option<String>,
    /// Voice, Chat or Fax
    pub channel: String,
    /// The caller address
    pub from_address: Option<String>,
    /// The called address
    pub to_address: Option<String>,
    /// When the session was created (ISO 8601)
    pub date_created: String,
}

// ---------------------------------------------------------------------------------------------
// Rates
// ---------------------------------------------------------------------------------------------

/// Sets the price per billed minute of a leaf category: the system default, an account's or a customer's
#[dto(
    namespace = "Voice.Api.Billing",
    route("/rates", "PUT"),
    verb = "PUT",
    response = RateInfo,
    roles_any("SystemAdministrator", "Manager")
)]
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SetRate {
    /// The account; omit for the system default
    pub account_id: Option<String>,
    /// The customer; omit for the account rate
    pub customer_id: Option<String>,
    /// The leaf category (calls-inbound-local, calls-inbound-tollfree, calls-outbound, calls-client)
    pub category: Option<String>,
    /// The price per billed minute, at most 6 decimal places
    pub unit_price: Option<Money>,
}

/// Lists the rates: the system defaults, and an account's rates
#[dto(
    namespace = "Voice.Api.Billing",
    route("/rates", "GET"),
    verb = "GET",
    response = ListRatesResponse,
    roles_any("SystemAdministrator", "Manager")
)]
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListRates {
    /// The account whose rates to include besides the system defaults
    pub account_id: Option<String>,
    /// The page to return, from 1
    pub page: Option<i64>,
    /// The number of items per page (default 100, at most 1000)
    pub page_size: Option<i64>,
}

/// A rate
#[dto(namespace = "Voice.Api.Billing")]
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RateInfo {
    /// The ID of the rate
    pub id: String,
    /// The account, or none for a system default
    pub account_id: Option<String>,
    /// The customer, or none for an account or default rate
    pub customer_id: Option<String>,
    /// The leaf category
    pub category: String,
    /// The price per billed minute
    pub unit_price: Money,
}

/// A page of rates
#[dto(namespace = "Voice.Api.Billing")]
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListRatesResponse {
    /// The rates on this page
    pub items: Vec<RateInfo>,
    /// The number of rates in all pages
    pub total_count: i64,
    /// The number of pages
    pub total_pages: i64,
    /// Whether pages follow this one
    pub has_more_pages: bool,
}

// ---------------------------------------------------------------------------------------------
// Billables
// ---------------------------------------------------------------------------------------------

/// Lists the billables behind the usage records of an account
#[dto(
    namespace = "Voice.Api.Billing",
    route("/billables", "GET"),
    verb = "GET",
    response = ListBillablesResponse,
    roles_any("SystemAdministrator", "Manager")
)]
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListBillables {
    /// The account ID you are listing for
    pub account_id: Option<String>,
    /// The first usage day (YYYY-MM-DD)
    pub start_date: Option<String>,
    /// The last usage day (YYYY-MM-DD)
    pub end_date: Option<String>,
    /// Only the billables of this customer
    pub customer_id: Option<String>,
    /// The page to return, from 1
    pub page: Option<i64>,
    /// The number of items per page (default 100, at most 1000)
    pub page_size: Option<i64>,
}

/// A rated call
#[dto(namespace = "Voice.Api.Billing")]
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BillableInfo {
    /// The ID of the billable
    pub id: String,
    /// The call billed
    pub call_sid: String,
    /// The account billed
    pub account_id: String,
    /// The customer billed
    pub customer_id: String,
    /// The session the billable was reported for
    pub session_id: Option<String>,
    /// The leaf category
    pub category: String,
    /// The UTC day the usage counts on (YYYY-MM-DD)
    pub usage_date: String,
    /// The call duration in seconds
    pub duration_seconds: i64,
    /// Whether the call is charged
    pub billed: bool,
    /// The minutes charged
    pub billed_minutes: i64,
    /// The price per billed minute applied
    pub unit_price: Money,
    /// The price of the call
    pub price: Money,
    /// The currency of the price
    pub price_unit: String,
    /// When the billable was created (ISO 8601)
    pub created_at: String,
}

/// A page of billables
#[dto(namespace = "Voice.Api.Billing")]
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListBillablesResponse {
    /// The billables on this page
    pub items: Vec<BillableInfo>,
    /// The number of billables in all pages
    pub total_count: i64,
    /// The number of pages
    pub total_pages: i64,
    /// Whether pages follow this one
    pub has_more_pages: bool,
}
