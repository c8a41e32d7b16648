//! The one error type a service returns, and its ServiceStack shape.
//!
//! Policy: services return [`ApiError`]; nothing else becomes an HTTP error body. The pipeline
//! maps it, in one place, to a status, a reason phrase (ServiceStack uses the error code, e.g.
//! `400 ArgumentException`, `404 NotFound`) and a `ResponseStatus` written in the negotiated
//! format. Internal failures are logged once where they are turned into a 500, and their text
//! never reaches the client.

use std::borrow::Cow;
use std::fmt;

/// One field-level error: an entry of `ResponseStatus.errors`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// A rule or exception code (`NotEmpty`, `SerializationException`).
    pub error_code: String,
    /// The C# (PascalCase) property name (`CallSid`).
    pub field_name: String,
    /// A sentence for people.
    pub message: String,
}

/// An error a service or the pipeline answers with.
///
/// Boxed so that `Result<T, ApiError>` stays one pointer wide on the error side: errors are
/// rare, results are everywhere.
#[derive(Debug, Clone)]
pub struct ApiError {
    inner: Box<Inner>,
}

#[derive(Debug, Clone)]
struct Inner {
    status: u16,
    error_code: Cow<'static, str>,
    message: String,
    reason: Option<Cow<'static, str>>,
    errors: Vec<FieldError>,
    headers: Vec<(String, String)>,
}

impl ApiError {
    /// An error with any status and code; the reason phrase is the code.
    pub fn new(
        status: u16,
        error_code: impl Into<Cow<'static, str>>,
        message: impl Into<String>,
    ) -> Self {
        ApiError {
            inner: Box::new(Inner {
                status,
                error_code: error_code.into(),
                message: message.into(),
                reason: None,
                errors: Vec::new(),
                headers: Vec::new(),
            }),
        }
    }

    /// 400 for one invalid field: the top-level code and message are the field's.
    pub fn validation(
        field_name: impl Into<String>,
        error_code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        let error_code = error_code.into();
        let message = message.into();
        ApiError::new(400, error_code.clone(), message.clone())
            .with_field_error(field_name, error_code, message)
    }

    /// 400 for several invalid fields; the top-level code and message are the first one's.
    pub fn validation_errors(errors: Vec<FieldError>) -> Self {
        let (code, message) = errors
            .first()
            .map(|e| (e.error_code.clone(), e.message.clone()))
            .unwrap_or_else(|| {
                (
                    "ValidationException".to_string(),
                    "Validation failed".to_string(),
                )
            });
        let mut e = ApiError::new(400, code, message);
        e.inner.errors = errors;
        e
    }

    /// 400 `ArgumentException`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError::new(400, "ArgumentException", message)
    }

    /// 404 `NotFound`.
    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError::new(404, "NotFound", message)
    }

    /// 409 `Conflict`.
    pub fn conflict(message: impl Into<String>) -> Self {
        ApiError::new(409, "Conflict", message)
    }

    /// 403 `Forbidden`.
    pub fn forbidden(message: impl Into<String>) -> Self {
        ApiError::new(403, "Forbidden", message)
    }

    /// 403 for a missing role: code `Forbidden`, message and reason phrase `Invalid Role`.
    pub fn invalid_role() -> Self {
        ApiError::new(403, "Forbidden", "Invalid Role").with_reason("Invalid Role")
    }

    /// 401 `Unauthorized`.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        ApiError::new(401, "Unauthorized", message)
    }

    /// 401 `Unauthorized` / `Not Authenticated`, what a protected operation answers anonymously.
    pub fn not_authenticated() -> Self {
        ApiError::unauthorized("Not Authenticated")
    }

    /// 500 for an unexpected failure. The cause is logged here, once; the client sees only a
    /// generic message.
    pub fn internal(cause: impl fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        ApiError::new(500, "InternalServerError", "An internal error occurred")
    }

    /// Adds a field error.
    pub fn with_field_error(
        mut self,
        field_name: impl Into<String>,
        error_code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        self.inner.errors.push(FieldError {
            error_code: error_code.into(),
            field_name: field_name.into(),
            message: message.into(),
        });
        self
    }

    /// Overrides the reason phrase (default: the error code).
    pub fn with_reason(mut self, reason: impl Into<Cow<'static, str>>) -> Self {
        self.inner.reason = Some(reason.into());
        self
    }

    /// Adds a response header (`WWW-Authenticate`, `Retry-After`, `Allow`).
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.inner.headers.push((name.into(), value.into()));
        self
    }

    /// The HTTP status.
    pub fn status(&self) -> u16 {
        self.inner.status
    }

    /// `ResponseStatus.errorCode`.
    pub fn error_code(&self) -> &str {
        &self.inner.error_code
    }

    /// `ResponseStatus.message`.
    pub fn message(&self) -> &str {
        &self.inner.message
    }

    /// The reason phrase of the status line.
    pub fn reason(&self) -> &str {
        self.inner
            .reason
            .as_deref()
            .unwrap_or(&self.inner.error_code)
    }

    /// `ResponseStatus.errors`.
    pub fn errors(&self) -> &[FieldError] {
        &self.inner.errors
    }

    /// Extra response headers.
    pub fn headers(&self) -> &[(String, String)] {
        &self.inner.headers
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.inner.status, self.inner.error_code, self.inner.message
        )
    }
}

impl std::error::Error for ApiError {}
