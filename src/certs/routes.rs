//! The certificate registry in the admin API (under `/admin/api`, same authentication, errors
//! and OpenAPI document as the rest of it): register, request, renew, revoke, the expiry
//! report and the bulk re-issue job.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRef, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::ca_client::CaError;
use super::queries::Expiring;
use super::registry::{Registry, RegistryError, Who};
use super::reissue::JobProgress;
use super::store::RegisteredCert;
use crate::admin::{Admin, ApiError, BASE, Body, PathOf, QueryOf};
use crate::oidc::Provider;

/// The API's state: the provider (who is calling) and the registry.
#[derive(Clone)]
pub struct CertsApi {
    pub oidc: Provider,
    pub registry: Registry,
}

impl FromRef<CertsApi> for Provider {
    fn from_ref(s: &CertsApi) -> Provider {
        s.oidc.clone()
    }
}

/// The routes, for [`crate::admin::router`]'s `extra`.
pub fn routes(state: CertsApi) -> OpenApiRouter {
    let r = OpenApiRouter::new()
        .routes(routes!(list, register_for))
        .routes(routes!(register))
        .routes(routes!(request))
        .routes(routes!(renew))
        .routes(routes!(revoke))
        .routes(routes!(expiring))
        .routes(routes!(reissue))
        .routes(routes!(job))
        .routes(routes!(resume));
    OpenApiRouter::new().nest(BASE, r).with_state(state)
}

/// A registry failure as the API answers it: validation failures each named, with their code.
pub struct CertApiError(RegistryError);

impl From<RegistryError> for CertApiError {
    fn from(e: RegistryError) -> Self {
        Self(e)
    }
}

#[derive(Serialize, ToSchema)]
pub struct FailureView {
    /// unknown_issuer, not_yet_valid, expired, basic_constraints, key_usage, personal_id,
    /// revoked, revocation_unknown, chain_too_long.
    code: String,
    message: String,
}

impl IntoResponse for CertApiError {
    fn into_response(self) -> Response {
        let message = self.0.to_string();
        let (status, code) = match self.0 {
            RegistryError::Admin(e) => return ApiError::from(e).into_response(),
            RegistryError::Invalid(failures) => {
                let failures: Vec<FailureView> =
                    failures.iter().map(|f| FailureView { code: f.code().into(), message: f.to_string() }).collect();
                let body =
                    serde_json::json!({ "code": "certificate_invalid", "message": message, "failures": failures });
                return (StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response();
            }
            RegistryError::Parse(_) => (StatusCode::BAD_REQUEST, "invalid_certificate"),
            RegistryError::Csr(_) => (StatusCode::BAD_REQUEST, "invalid_csr"),
            RegistryError::BadReason => (StatusCode::BAD_REQUEST, "invalid"),
            RegistryError::NoPersonalId => (StatusCode::UNPROCESSABLE_ENTITY, "no_personal_id"),
            RegistryError::UnknownOfficer => (StatusCode::UNPROCESSABLE_ENTITY, "unknown_officer"),
            RegistryError::OfficerWithoutPersonalId => {
                (StatusCode::UNPROCESSABLE_ENTITY, "officer_without_personal_id")
            }
            RegistryError::AlreadyRegistered => (StatusCode::CONFLICT, "already_registered"),
            RegistryError::NotActive(_) => (StatusCode::CONFLICT, "not_active"),
            RegistryError::Ca(CaError::NotConfigured) => (StatusCode::SERVICE_UNAVAILABLE, "ca_not_configured"),
            RegistryError::Ca(CaError::Unavailable(_)) => (StatusCode::SERVICE_UNAVAILABLE, "ca_unavailable"),
            RegistryError::Ca(CaError::Refused { .. } | CaError::BadAnswer(_)) => {
                (StatusCode::BAD_GATEWAY, "ca_refused")
            }
        };
        ApiError::new(status, code, message).into_response()
    }
}

type CertResult<T> = Result<T, CertApiError>;

#[derive(Serialize, ToSchema)]
pub struct CertView {
    id: String,
    officer_id: String,
    /// `x5t#S256`.
    thumbprint: String,
    serial: String,
    issuer: String,
    subject: String,
    not_before: i64,
    not_after: i64,
    /// active, revoked or retired.
    status: String,
    status_reason: Option<String>,
    replaced_by: Option<String>,
    pem: String,
    created_at: i64,
}

impl From<RegisteredCert> for CertView {
    fn from(c: RegisteredCert) -> Self {
        CertView {
            id: c.id,
            officer_id: c.officer_id,
            thumbprint: c.thumbprint,
            serial: c.serial,
            issuer: c.issuer,
            subject: c.subject,
            not_before: c.not_before,
            not_after: c.not_after,
            status: c.status.as_str().into(),
            status_reason: c.status_reason,
            replaced_by: c.replaced_by,
            pem: c.pem,
            created_at: c.created_at,
        }
    }
}

const OFFICER: &str = "Officer id";
const CERT: &str = "Certificate id (in the registry)";

/// An officer's certificates, newest first, history (retired, revoked) included.
#[utoipa::path(get, path = "/officers/{id}/certificates", tag = "certificates",
    params(("id" = String, Path, description = OFFICER)), responses((status = 200, body = Vec<CertView>)))]
async fn list(
    State(s): State<CertsApi>,
    Admin(c): Admin,
    PathOf(id): PathOf<String>,
) -> CertResult<Json<Vec<CertView>>> {
    let certs = s.registry.list(Who::Admin(&c), &id).await?;
    Ok(Json(certs.into_iter().map(Into::into).collect()))
}

/// Registers a certificate (PEM, optionally followed by its chain, or DER) for this officer:
/// it must carry the officer's `UID=CCCD:` and pass validation now (else 422 with each
/// failure named).
#[utoipa::path(post, path = "/officers/{id}/certificates", tag = "certificates",
    params(("id" = String, Path, description = OFFICER)),
    request_body(content = String, content_type = "application/x-pem-file"),
    responses((status = 201, body = CertView), (status = 409, description = "Already registered"),
        (status = 422, description = "Validation failed: `failures` names each check")))]
async fn register_for(
    State(s): State<CertsApi>,
    Admin(c): Admin,
    PathOf(id): PathOf<String>,
    body: Bytes,
) -> CertResult<(StatusCode, Json<CertView>)> {
    let cert = s.registry.register(Who::Admin(&c), Some(&id), &body).await?;
    Ok((StatusCode::CREATED, Json(cert.into())))
}

/// Registers a certificate for the officer whose personal ID its `UID=CCCD:` carries (422
/// `unknown_officer` when nobody has it).
#[utoipa::path(post, path = "/certificates", tag = "certificates",
    request_body(content = String, content_type = "application/x-pem-file"),
    responses((status = 201, body = CertView), (status = 409, description = "Already registered"),
        (status = 422, description = "Validation failed, or no officer with this personal ID")))]
async fn register(State(s): State<CertsApi>, Admin(c): Admin, body: Bytes) -> CertResult<(StatusCode, Json<CertView>)> {
    let cert = s.registry.register(Who::Admin(&c), None, &body).await?;
    Ok((StatusCode::CREATED, Json(cert.into())))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestInput {
    officer_id: String,
    /// PKCS#10, PEM; its self-signature is verified.
    csr_pem: String,
}

/// Sends an officer's CSR to the CA; the certificate issued is registered.
#[utoipa::path(post, path = "/certificates/request", tag = "certificates", request_body = RequestInput,
    responses((status = 201, body = CertView), (status = 503, description = "The CA is unavailable")))]
async fn request(
    State(s): State<CertsApi>,
    Admin(c): Admin,
    Body(r): Body<RequestInput>,
) -> CertResult<(StatusCode, Json<CertView>)> {
    let cert = s.registry.request(Who::Admin(&c), &r.officer_id, r.csr_pem.as_bytes()).await?;
    Ok((StatusCode::CREATED, Json(cert.into())))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RenewInput {
    /// A new key's CSR; without one the CA renews for the same key.
    csr_pem: Option<String>,
}

/// Renews an active certificate (at most 3 years); the old one is retired, pointing at the new.
#[utoipa::path(post, path = "/certificates/{id}/renew", tag = "certificates",
    params(("id" = String, Path, description = CERT)), request_body = RenewInput,
    responses((status = 201, body = CertView), (status = 409, description = "Not active")))]
async fn renew(
    State(s): State<CertsApi>,
    Admin(c): Admin,
    PathOf(id): PathOf<String>,
    Body(r): Body<RenewInput>,
) -> CertResult<(StatusCode, Json<CertView>)> {
    let cert = s.registry.renew(Who::Admin(&c), &id, r.csr_pem.as_deref().map(str::as_bytes)).await?;
    Ok((StatusCode::CREATED, Json(cert.into())))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevokeInput {
    /// RFC 5280: unspecified, keyCompromise, affiliationChanged, superseded,
    /// cessationOfOperation, certificateHold, privilegeWithdrawn.
    reason: String,
}

/// Revokes a certificate at the CA and in the registry.
#[utoipa::path(post, path = "/certificates/{id}/revoke", tag = "certificates",
    params(("id" = String, Path, description = CERT)), request_body = RevokeInput,
    responses((status = 200, body = CertView), (status = 409, description = "Already revoked")))]
async fn revoke(
    State(s): State<CertsApi>,
    Admin(c): Admin,
    PathOf(id): PathOf<String>,
    Body(r): Body<RevokeInput>,
) -> CertResult<Json<CertView>> {
    Ok(Json(s.registry.revoke(Who::Admin(&c), &id, &r.reason).await?.into()))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExpiringQuery {
    /// Days ahead (default 30, at most 3660).
    within_days: Option<i64>,
    /// The unit whose subtree is reported (id); default: every unit the caller administers.
    unit: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ExpiringView {
    certificate: CertView,
    officer_username: String,
    officer_name: String,
    unit_id: String,
    unit_code: String,
    unit_name: String,
}

impl From<Expiring> for ExpiringView {
    fn from(e: Expiring) -> Self {
        ExpiringView {
            certificate: e.certificate.into(),
            officer_username: e.officer_username,
            officer_name: e.officer_name,
            unit_id: e.unit_id,
            unit_code: e.unit_code,
            unit_name: e.unit_name,
        }
    }
}

/// Active certificates ending within the period, by unit then end date.
#[utoipa::path(get, path = "/certificates/expiring", tag = "certificates", params(ExpiringQuery),
    responses((status = 200, body = Vec<ExpiringView>)))]
async fn expiring(
    State(s): State<CertsApi>,
    Admin(c): Admin,
    QueryOf(q): QueryOf<ExpiringQuery>,
) -> CertResult<Json<Vec<ExpiringView>>> {
    let list = s.registry.expiring(Who::Admin(&c), q.unit.as_deref(), q.within_days.unwrap_or(30)).await?;
    Ok(Json(list.into_iter().map(Into::into).collect()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReissueInput {
    /// The unit (id) whose subtree is covered, e.g. the unit others were merged into.
    unit_id: String,
}

/// Starts the bulk "information changed" job: officers under the unit whose active
/// certificate names another unit get one re-issued by the CA for the same key. Answers at
/// once with the job; follow it at `/certificate-jobs/{id}`.
#[utoipa::path(post, path = "/certificates/reissue", tag = "certificates", request_body = ReissueInput,
    responses((status = 202, body = JobProgress)))]
async fn reissue(
    State(s): State<CertsApi>,
    Admin(c): Admin,
    Body(r): Body<ReissueInput>,
) -> CertResult<(StatusCode, Json<JobProgress>)> {
    let job = s.registry.start_reissue(Who::Admin(&c), &r.unit_id).await?;
    spawn_run(s.registry.clone(), job.id.clone());
    Ok((StatusCode::ACCEPTED, Json(job)))
}

/// A job's progress: counts of items done, pending, failed and skipped.
#[utoipa::path(get, path = "/certificate-jobs/{id}", tag = "certificates",
    params(("id" = String, Path, description = "Job id")), responses((status = 200, body = JobProgress)))]
async fn job(State(s): State<CertsApi>, Admin(c): Admin, PathOf(id): PathOf<String>) -> CertResult<Json<JobProgress>> {
    Ok(Json(s.registry.job(Who::Admin(&c), &id).await?))
}

/// Resumes an interrupted job (items already done are not done again).
#[utoipa::path(post, path = "/certificate-jobs/{id}/resume", tag = "certificates",
    params(("id" = String, Path, description = "Job id")), responses((status = 202, body = JobProgress)))]
async fn resume(
    State(s): State<CertsApi>,
    Admin(c): Admin,
    PathOf(id): PathOf<String>,
) -> CertResult<(StatusCode, Json<JobProgress>)> {
    let job = s.registry.job(Who::Admin(&c), &id).await?;
    spawn_run(s.registry.clone(), job.id.clone());
    Ok((StatusCode::ACCEPTED, Json(job)))
}

/// The job runs beyond the request; failures stay in its items.
fn spawn_run(registry: Registry, id: String) {
    tokio::spawn(async move {
        if let Err(e) = registry.run_reissue(&id, None, &|_, _| {}).await {
            tracing::error!(job = %id, error = %e, "certificate re-issue job stopped");
        }
    });
}
