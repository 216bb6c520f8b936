//! HTML of the mock e-ID (in Vietnamese, as citizens see it).

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use qrcode::QrCode;
use qrcode::render::svg;

pub fn login_page(txn: &str, qr_code: &str, error: Option<&str>) -> String {
    let txn = escape(txn);
    let qr_code = escape(qr_code);
    let error = error.map(|e| format!("<p class=\"loi\" role=\"alert\">{}</p>", escape(e))).unwrap_or_default();
    format!(
        r#"<!doctype html>
<html lang="vi"><head><meta charset="utf-8"><title>Đăng nhập VNeID (mô phỏng)</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{{font-family:sans-serif;max-width:44rem;margin:2rem auto;padding:0 1rem}}
.cot{{display:flex;gap:2rem;flex-wrap:wrap}}.cot>section{{flex:1;min-width:16rem}}
.loi{{color:#b00}}label{{display:block;margin:.5rem 0}}input{{width:100%;padding:.4rem}}</style>
</head><body>
<h1>Đăng nhập bằng tài khoản định danh điện tử</h1>
<p><small>Hệ thống mô phỏng VNeID, chỉ dùng cho phát triển và kiểm thử.</small></p>
{error}
<div class="cot">
<section><h2>Số định danh và mật mã</h2>
<form method="post" action="/oauth2/login">
<input type="hidden" name="txn" value="{txn}">
<label>Số định danh cá nhân <input name="login" inputmode="numeric" autocomplete="username" required></label>
<label>Mật mã (6 số) <input name="passcode" type="password" inputmode="numeric" maxlength="6" autocomplete="current-password" required></label>
<button type="submit">Đăng nhập</button>
</form></section>
<section><h2>Quét mã QR bằng ứng dụng VNeID</h2>
<img src="/oauth2/login/qr?txn={txn}" width="180" height="180" alt="Mã QR đăng nhập">
<p>Mã đăng nhập: <code id="ma">{qr_code}</code></p>
<p id="trangthai">Đang chờ xác nhận trên điện thoại…</p>
</section></div>
<script>
(function poll(){{
  fetch('/oauth2/login/status?txn={txn}').then(r => r.json()).then(s => {{
    if (s.status === 'approved') {{ window.location = s.redirect_to; return; }}
    if (s.status === 'expired') {{ document.getElementById('trangthai').textContent = 'Mã QR đã hết hạn, vui lòng tải lại trang.'; return; }}
    setTimeout(poll, 1500);
  }}).catch(() => setTimeout(poll, 3000));
}})();
</script>
</body></html>"#
    )
}

/// The QR code as SVG. Served as a separate image so that clients which only use the form
/// (load tests) do not pay for rendering it: it is the most expensive part of the page.
pub fn qr_svg(qr_code: &str) -> String {
    QrCode::new(format!("vneid-mock://approve?code={qr_code}"))
        .map(|c| c.render::<svg::Color>().min_dimensions(180, 180).build())
        .unwrap_or_default()
}

pub fn error_page(status: StatusCode, message: &str) -> Response {
    let body = format!(
        "<!doctype html><html lang=\"vi\"><head><meta charset=\"utf-8\"><title>Lỗi</title></head>\
         <body><h1>Không thể đăng nhập</h1><p>{}</p></body></html>",
        escape(message)
    );
    (status, Html(body)).into_response()
}

pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
