//! Relying-party clients in the console (super administrators): the list, enabling and
//! disabling, a new secret, and the redirect URIs, through `admin::ops::clients`.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::pages::{self, Chrome, ResultBody};
use super::{Console, ConsoleError, ConsoleForm, OrConsole, csrf_field};
use crate::admin::ops::clients as ops;
use crate::oidc::Provider;
use crate::oidc::clients::Client;
use crate::web::page;

pub fn router() -> Router<Provider> {
    Router::new()
        .route("/admin/clients", get(list))
        .route("/admin/clients/{id}/enablement", post(enablement))
        .route("/admin/clients/{id}/secret", post(rotate))
        .route("/admin/clients/{id}/redirect-uris", post(redirect_uris))
}

#[derive(Template)]
#[template(path = "admin/clients.html")]
struct ClientsPage {
    chrome: Chrome,
    clients: Vec<Client>,
}

async fn list(State(p): State<Provider>, c: Console) -> Result<Response, ConsoleError> {
    let clients = ops::list(&p, &c.caller).await.or_console(c.lang)?;
    let page = ClientsPage { chrome: Chrome::new(&c, |t| t.clients, "/admin/clients"), clients };
    Ok(page::render(StatusCode::OK, &page))
}

#[derive(Deserialize)]
struct ClientForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    disabled: String,
    #[serde(default)]
    redirect_uris: String,
}

fn back(c: &Console) -> Response {
    Redirect::to(&format!("/admin/clients?lang={}", c.lang.code())).into_response()
}

async fn enablement(
    State(p): State<Provider>,
    Path(id): Path<String>,
    ConsoleForm { c, form: f }: ConsoleForm<ClientForm>,
) -> Result<Response, ConsoleError> {
    ops::set_disabled(&p, &c.caller, &id, f.disabled == "true").await.or_console(c.lang)?;
    Ok(back(&c))
}

async fn rotate(
    State(p): State<Provider>,
    Path(id): Path<String>,
    ConsoleForm { c, .. }: ConsoleForm<ClientForm>,
) -> Result<Response, ConsoleError> {
    let secret = ops::rotate_secret(&p, &c.caller, &id).await.or_console(c.lang)?;
    let t = super::texts::of(c.lang);
    let body = ResultBody { message: t.secret_note.to_owned(), values: vec![(id, secret)], problems: Vec::new() };
    Ok(pages::result(&c, |t| t.new_secret, body, "/admin/clients"))
}

/// One URI per line; validated like any registration (exact https URIs, no fragments).
async fn redirect_uris(
    State(p): State<Provider>,
    Path(id): Path<String>,
    ConsoleForm { c, form: f }: ConsoleForm<ClientForm>,
) -> Result<Response, ConsoleError> {
    let uris = f.redirect_uris.lines().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect();
    ops::set_redirect_uris(&p, &c.caller, &id, uris, None).await.or_console(c.lang)?;
    Ok(back(&c))
}

csrf_field!(ClientForm);
