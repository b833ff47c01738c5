//! The one error type of the server and how it is sent: JSON (`{"error": "<code>", "message":
//! "...", "line": N}`, with `"reason": "<machine code>"` for a typed refusal of the store or a
//! pure crate; the message in the caller's language, the rest English) for the API; the pages' middleware ([`crate::html::html_errors`]) turns
//! the same response into an HTML page, using the [`ErrorMessage`] it carries.
//!
//! Invariants: an internal error's details go to the log, never to the client.

use axum::Json;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::{RefusalKind, ServerError};

/// What an error response says, kept in its extensions for the pages' HTML rendering.
#[derive(Debug, Clone)]
pub struct ErrorMessage {
    pub status: StatusCode,
    /// The human sentence for a page (no internal details).
    pub message: String,
}

fn page_message(error: &ServerError, status: StatusCode) -> String {
    match error {
        _ if status == StatusCode::INTERNAL_SERVER_ERROR => t!("error-internal"),
        ServerError::NotFound(_) => t!("error-not-found"),
        ServerError::Unauthorized(_) => t!("error-log-in"),
        ServerError::BadLine(line, m) => t!("error-line", line = *line, message = m.as_str()),
        ServerError::Invalid(m)
        | ServerError::TooLarge(m)
        | ServerError::Forbidden(m)
        | ServerError::Conflict(m)
        | ServerError::Unprocessable(m)
        | ServerError::TooMany(m)
        | ServerError::Upstream(m)
        | ServerError::Refused { message: m, .. } => m.clone(),
        other => other.to_string(),
    }
}

impl IntoResponse for ServerError {
    fn into_response(self) -> Response {
        let (status, code) = match &self {
            ServerError::Invalid(_) | ServerError::Refused { kind: RefusalKind::Invalid, .. } => {
                (StatusCode::BAD_REQUEST, "invalid")
            }
            ServerError::BadLine(..) => (StatusCode::BAD_REQUEST, "invalid_record"),
            ServerError::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "too_large"),
            ServerError::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized"),
            ServerError::Forbidden(_) | ServerError::Refused { kind: RefusalKind::Forbidden, .. } => {
                (StatusCode::FORBIDDEN, "forbidden")
            }
            ServerError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ServerError::Conflict(_) | ServerError::Refused { kind: RefusalKind::Conflict, .. } => {
                (StatusCode::CONFLICT, "conflict")
            }
            ServerError::Unprocessable(_) => (StatusCode::UNPROCESSABLE_ENTITY, "unprocessable"),
            ServerError::TooMany(_) => (StatusCode::TOO_MANY_REQUESTS, "too_many_requests"),
            ServerError::Upstream(_) => (StatusCode::BAD_GATEWAY, "upstream"),
            ServerError::Config(_) | ServerError::Db(_) | ServerError::Internal(_) | ServerError::Io(_) => {
                (StatusCode::INTERNAL_SERVER_ERROR, "internal")
            }
        };
        let message = if status == StatusCode::INTERNAL_SERVER_ERROR {
            tracing::error!(error = %self, "request failed");
            t!("api-internal")
        } else {
            // The kind before the message as in `Display` (`conflict: …`), in the caller's language.
            match &self {
                ServerError::BadLine(_, m) => m.clone(),
                ServerError::Unauthorized(m) => t!("api-unauthorized", message = m.as_str()),
                ServerError::Forbidden(m) | ServerError::Refused { kind: RefusalKind::Forbidden, message: m, .. } => {
                    t!("api-forbidden", message = m.as_str())
                }
                ServerError::NotFound(m) => t!("api-not-found", message = m.as_str()),
                ServerError::Conflict(m) | ServerError::Refused { kind: RefusalKind::Conflict, message: m, .. } => {
                    t!("api-conflict", message = m.as_str())
                }
                ServerError::TooMany(m) => t!("api-too-many", message = m.as_str()),
                ServerError::Refused { kind: RefusalKind::Invalid, message, .. } => message.clone(),
                other => other.to_string(),
            }
        };
        let mut body = json!({ "error": code, "message": message });
        if let ServerError::BadLine(line, _) = &self {
            body["line"] = json!(line);
        }
        if let ServerError::Refused { reason, .. } = &self {
            body["reason"] = json!(reason);
        }
        let mut response = (status, Json(body)).into_response();
        response.extensions_mut().insert(ErrorMessage { status, message: page_message(&self, status) });
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
        }
        response
    }
}
