//! Lookerbot's answer shape for Looker-facing routes: `{"success": bool, "reason": "..."}`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub reason: String,
}

impl Reply {
    pub fn ok(reason: impl Into<String>) -> Self {
        Self {
            status: StatusCode::OK,
            reason: reason.into(),
        }
    }

    pub fn error(status: StatusCode, reason: impl Into<String>) -> Self {
        Self {
            status,
            reason: reason.into(),
        }
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "success": self.status.is_success(), "reason": self.reason });
        (self.status, Json(body)).into_response()
    }
}
