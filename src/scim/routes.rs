//! The HTTP face of SCIM: `application/scim+json` in and out, every error a SCIM error body,
//! ETag and Location headers, `If-Match` handed to the operations. The only file here that
//! knows HTTP.

use std::collections::HashMap;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{FromRequest, FromRequestParts, RawQuery, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::Value;

use super::error::{ScimError, ScimResult};
use super::list::{self, Query};
use super::{BASE, MAX_LISTED_UNITS, bulk, discovery, group_ops, user_ops};
use crate::admin::authz::{self, ScimCaller};
use crate::admin::ops::units;
use crate::oidc::Provider;
use crate::oidc::resource::bearer;

const SCIM_JSON: &str = "application/scim+json";

#[derive(Clone)]
struct St {
    p: Provider,
    /// The request body limit, advertised as bulk `maxPayloadSize`.
    max_payload: usize,
}

/// A SCIM answer: status, JSON body, and the resource's ETag and Location when it is one.
struct Scim(StatusCode, Value);

impl IntoResponse for Scim {
    fn into_response(self) -> Response {
        let Scim(status, body) = self;
        let etag = body["meta"]["version"].as_str().and_then(|v| HeaderValue::from_str(v).ok());
        let location = body["meta"]["location"].as_str().and_then(|v| HeaderValue::from_str(v).ok());
        let mut resp = (status, [(header::CONTENT_TYPE, SCIM_JSON)], body.to_string()).into_response();
        if let Some(e) = etag {
            resp.headers_mut().insert(header::ETAG, e);
        }
        if status == StatusCode::CREATED
            && let Some(l) = location
        {
            resp.headers_mut().insert(header::LOCATION, l);
        }
        resp
    }
}

impl IntoResponse for ScimError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut resp = (status, [(header::CONTENT_TYPE, SCIM_JSON)], self.json().to_string()).into_response();
        if status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        resp
    }
}

type Answer = Result<Scim, ScimError>;

impl From<PathRejection> for ScimError {
    fn from(r: PathRejection) -> Self {
        ScimError::new(r.status().as_u16(), None, r.body_text())
    }
}

/// Path parameters, refused in SCIM's terms.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ScimError))]
struct Path<T>(T);

/// A JSON body (`application/scim+json` or `application/json`); too large a body is a 413 and
/// anything not JSON an `invalidSyntax`, both as SCIM errors.
struct Json(Value);

impl<S: Send + Sync> FromRequest<S> for Json {
    type Rejection = ScimError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e: BytesRejection| ScimError::new(e.status().as_u16(), None, e.body_text()))?;
        serde_json::from_slice(&bytes).map(Json).map_err(|e| ScimError::bad("invalidSyntax", format!("not JSON: {e}")))
    }
}

/// The SCIM caller: reads need `scim.read` (or `scim.write`), anything else `scim.write`.
struct Caller(ScimCaller);

impl FromRequestParts<St> for Caller {
    type Rejection = ScimError;

    async fn from_request_parts(parts: &mut Parts, st: &St) -> Result<Self, Self::Rejection> {
        let write = !matches!(parts.method, Method::GET | Method::HEAD) && !parts.uri.path().ends_with("/.search");
        let token = bearer(&parts.headers, None);
        Ok(Caller(authz::scim_caller(&st.p, token.as_deref(), write).await?))
    }
}

fn params(raw: Option<String>) -> HashMap<String, String> {
    url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes()).into_owned().collect()
}

fn if_match(headers: &HeaderMap) -> Option<String> {
    headers.get(header::IF_MATCH).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

/// The answer for one resource, projected onto `attributes` / `excludedAttributes`.
fn one(status: StatusCode, v: Value, raw: Option<String>) -> Answer {
    let (attributes, excluded) = Query::projection(&params(raw))?;
    Ok(Scim(status, list::project(v, &attributes, &excluded)))
}

/// Which resource type a path names.
#[derive(Clone, Copy)]
enum Kind {
    Users,
    Groups,
}

async fn search(st: &St, c: &ScimCaller, kind: Kind, q: Query) -> Answer {
    let v = match kind {
        Kind::Users => user_ops::list(&st.p, c, &q).await?,
        Kind::Groups => group_ops::list(&st.p, c, &q).await?,
    };
    Ok(Scim(StatusCode::OK, v))
}

fn kind(name: &str) -> ScimResult<Kind> {
    match name {
        "Users" => Ok(Kind::Users),
        "Groups" => Ok(Kind::Groups),
        _ => Err(ScimError::not_found("endpoint")),
    }
}

async fn list_get(State(st): State<St>, Path(k): Path<String>, Caller(c): Caller, RawQuery(raw): RawQuery) -> Answer {
    let k = kind(&k)?;
    search(&st, &c, k, Query::from_params(&params(raw))?).await
}

async fn list_search(State(st): State<St>, Path(k): Path<String>, Caller(c): Caller, Json(body): Json) -> Answer {
    let k = kind(&k)?;
    search(&st, &c, k, Query::from_json(&body)?).await
}

async fn create(
    State(st): State<St>,
    Path(k): Path<String>,
    Caller(c): Caller,
    RawQuery(raw): RawQuery,
    Json(body): Json,
) -> Answer {
    let v = match kind(&k)? {
        Kind::Users => user_ops::create(&st.p, &c, &body).await?,
        Kind::Groups => group_ops::create(&st.p, &c, &body).await?,
    };
    one(StatusCode::CREATED, v, raw)
}

async fn read(
    State(st): State<St>,
    Path((k, id)): Path<(String, String)>,
    Caller(c): Caller,
    RawQuery(raw): RawQuery,
) -> Answer {
    let v = match kind(&k)? {
        Kind::Users => user_ops::get(&st.p, &c, &id).await?,
        Kind::Groups => group_ops::get(&st.p, &c, &id).await?,
    };
    one(StatusCode::OK, v, raw)
}

/// PUT: the resource replaced.
async fn replace(
    State(st): State<St>,
    Path((k, id)): Path<(String, String)>,
    Caller(c): Caller,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    Json(body): Json,
) -> Answer {
    write(&st, &k, &id, &c, &headers, raw, &body, Write::Replace).await
}

/// PATCH: operations applied.
async fn modify(
    State(st): State<St>,
    Path((k, id)): Path<(String, String)>,
    Caller(c): Caller,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    Json(body): Json,
) -> Answer {
    write(&st, &k, &id, &c, &headers, raw, &body, Write::Patch).await
}

#[derive(Clone, Copy)]
enum Write {
    Replace,
    Patch,
}

/// A PUT or PATCH of either resource type, guarded by `If-Match`.
#[allow(clippy::too_many_arguments)]
async fn write(
    st: &St,
    k: &str,
    id: &str,
    c: &crate::admin::authz::ScimCaller,
    headers: &HeaderMap,
    raw: Option<String>,
    body: &serde_json::Value,
    how: Write,
) -> Answer {
    let version = if_match(headers);
    let version = version.as_deref();
    let v = match (kind(k)?, how) {
        (Kind::Users, Write::Replace) => user_ops::replace(&st.p, c, id, body, version).await?,
        (Kind::Users, Write::Patch) => user_ops::patch(&st.p, c, id, body, version).await?,
        (Kind::Groups, Write::Replace) => group_ops::replace(&st.p, c, id, body, version).await?,
        (Kind::Groups, Write::Patch) => group_ops::patch(&st.p, c, id, body, version).await?,
    };
    one(StatusCode::OK, v, raw)
}

async fn remove(
    State(st): State<St>,
    Path((k, id)): Path<(String, String)>,
    Caller(c): Caller,
    headers: HeaderMap,
) -> Result<StatusCode, ScimError> {
    match kind(&k)? {
        Kind::Users => user_ops::delete(&st.p, &c, &id, if_match(&headers).as_deref()).await?,
        Kind::Groups => group_ops::delete(&st.p, &c, &id, if_match(&headers).as_deref()).await?,
    }
    Ok(StatusCode::NO_CONTENT)
}

/// A body past the limit (`maxPayloadSize`) is a 413 before anything runs.
async fn bulk_run(State(st): State<St>, Caller(c): Caller, Json(body): Json) -> Answer {
    Ok(Scim(StatusCode::OK, bulk::run(&st.p, &c, &body).await?))
}

async fn service_provider_config(State(st): State<St>, Caller(_): Caller) -> Answer {
    Ok(Scim(StatusCode::OK, discovery::service_provider_config(&st.p.issuer, st.max_payload)))
}

async fn resource_types(State(st): State<St>, Caller(_): Caller) -> Answer {
    Ok(Scim(StatusCode::OK, discovery::listed(discovery::resource_types(&st.p.issuer))))
}

async fn resource_type(State(st): State<St>, Path(id): Path<String>, Caller(_): Caller) -> Answer {
    Ok(Scim(StatusCode::OK, discovery::by_id(discovery::resource_types(&st.p.issuer), &id, "resource type")?))
}

/// The schemas as this caller sees them.
async fn caller_schemas(st: &St, c: &ScimCaller) -> ScimResult<Vec<Value>> {
    let units = units::list(&st.p, &c.caller, None, false).await?;
    let codes: Vec<String> = units.into_iter().map(|u| u.code).collect();
    let listed = (codes.len() <= MAX_LISTED_UNITS).then_some(codes.as_slice());
    Ok(discovery::schemas(&st.p.issuer, c.personal_id, listed))
}

async fn schemas(State(st): State<St>, Caller(c): Caller) -> Answer {
    Ok(Scim(StatusCode::OK, discovery::listed(caller_schemas(&st, &c).await?)))
}

async fn schema(State(st): State<St>, Path(id): Path<String>, Caller(c): Caller) -> Answer {
    Ok(Scim(StatusCode::OK, discovery::by_id(caller_schemas(&st, &c).await?, &id, "schema")?))
}

/// A search across resource types (RFC 7644 §3.4.3 at the root) is not offered: search Users
/// and Groups each at their own endpoint.
async fn search_all(Caller(_): Caller) -> ScimError {
    ScimError::new(501, None, "search /Users/.search and /Groups/.search separately")
}

async fn not_found() -> ScimError {
    ScimError::not_found("SCIM endpoint")
}

async fn method_not_allowed() -> ScimError {
    ScimError::new(405, None, "this method is not allowed on this endpoint")
}

/// Every SCIM route, under [`BASE`]; any other path there is a SCIM 404. `max_payload` is the
/// request body limit the app enforces.
pub fn router(p: Provider, max_payload: usize) -> Router {
    let inner = Router::new()
        .route("/ServiceProviderConfig", get(service_provider_config))
        .route("/ResourceTypes", get(resource_types))
        .route("/ResourceTypes/{id}", get(resource_type))
        .route("/Schemas", get(schemas))
        .route("/Schemas/{id}", get(schema))
        .route("/Bulk", post(bulk_run))
        .route("/.search", post(search_all))
        .route("/{kind}", get(list_get).post(create))
        .route("/{kind}/.search", post(list_search))
        .route("/{kind}/{id}", get(read).put(replace).patch(modify).delete(remove))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(St { p, max_payload });
    Router::new().nest(BASE, inner)
}
