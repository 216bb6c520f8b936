//! Liveness and readiness. `/healthz` says the process is up; `/readyz` says it can serve, i.e.
//! the database and the session store answer within a bounded time.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::ApiError;
use crate::store::{Db, Kv};

const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

pub async fn healthz() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

/// What readiness checks: the stores every request may need. Built from the application state
/// by `app.rs`, so this module does not depend on it.
#[derive(Clone)]
pub struct Readiness {
    pub db: Db,
    pub kv: Kv,
}

pub async fn readyz(State(state): State<Readiness>) -> Response {
    let (db, kv) = tokio::join!(
        tokio::time::timeout(CHECK_TIMEOUT, state.db.ping()),
        tokio::time::timeout(CHECK_TIMEOUT, state.kv.ping()),
    );
    let db_ok = matches!(db, Ok(Ok(())));
    let kv_ok = matches!(kv, Ok(Ok(())));
    if db_ok && kv_ok {
        return (StatusCode::OK, Json(json!({ "status": "ready", "database": "ok", "session_store": "ok" })))
            .into_response();
    }
    let what = match (db_ok, kv_ok) {
        (false, false) => "the database and the session store",
        (false, true) => "the database",
        _ => "the session store",
    };
    ApiError::unavailable(what).into_response()
}
