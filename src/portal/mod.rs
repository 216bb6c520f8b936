//! The demo relying-party portal on :8084: a provincial service that logs in through xacthuc.
//! For now a placeholder page; it becomes a real OIDC client with the citizen-login feature.

use axum::Router;
use axum::response::Html;
use axum::routing::get;

use crate::config::Config;

pub fn router(config: &Config) -> Router {
    let page = render(&config.issuer);
    Router::new().route("/", get(move || async move { Html(page) }))
}

fn render(issuer: &str) -> String {
    format!(
        r#"<!doctype html>
<html lang="vi">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Cổng dịch vụ công (thử nghiệm)</title></head>
<body>
<main>
<h1>Cổng dịch vụ công tỉnh (bản thử nghiệm)</h1>
<p>Trang này là cổng dịch vụ mẫu, đăng nhập qua xacthuc tại <a href="{issuer}">{issuer}</a>.</p>
<p lang="en">Demo public-service portal. It will log in through xacthuc at {issuer}.</p>
</main>
</body>
</html>"#
    )
}
