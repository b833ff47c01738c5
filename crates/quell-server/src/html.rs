//! The frame of every page: the HTML response with its security headers, the layout (header,
//! navigation, style), error pages, and the middleware that renders the pages' errors as HTML.
//!
//! Invariants: every page is sent through [`page`] (restrictive Content-Security-Policy, no
//! scripts at all, `no-store`); an error on a page route is an HTML page with the same status
//! as the API would send, never JSON and never internal details.

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use maud::{DOCTYPE, Markup, PreEscaped, html};

use crate::AppState;
use crate::auth::Role;
use crate::error::ErrorMessage;
use crate::extract::{Session, cookie};
use crate::i18n::{self, LANG_COOKIE, Lang};

/// An HTML response with the page security headers.
pub fn page(status: StatusCode, markup: Markup) -> Response {
    let mut response = (status, markup.into_string()).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; frame-ancestors 'none'",
        ),
    );
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

const STYLE: &str = "
body{font-family:system-ui,sans-serif;margin:0;color:#1b1f24;background:#f6f7f9}
header{background:#1b2a3a;color:#fff;padding:.6rem 1rem;display:flex;flex-wrap:wrap;gap:1rem;align-items:center}
header a{color:#fff;text-decoration:none}header .me,header nav.lang{font-size:.85rem}header nav.lang{margin-left:auto;display:flex;gap:.5rem}
main{max-width:72rem;margin:0 auto;padding:1rem}
.cards{display:flex;flex-wrap:wrap;gap:.8rem}.card{background:#fff;border-radius:6px;padding:.8rem 1rem;min-width:8rem;box-shadow:0 1px 2px #0002}
.card b{display:block;font-size:1.6rem}.bad{color:#b3261e}.ok{color:#1e7b34}.warn{color:#8a5a00}
table{border-collapse:collapse;width:100%;background:#fff;margin:.5rem 0 1.2rem}th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #e3e5e8;vertical-align:top}
td.path{word-break:break-all;font-family:ui-monospace,monospace;font-size:.85rem}
form.inline{display:inline}input,select,button{font:inherit;padding:.3rem .5rem}
.login{max-width:22rem;margin:3rem auto;background:#fff;padding:1.5rem;border-radius:6px}.login input{width:100%;box-sizing:border-box;margin:.2rem 0 .8rem}
.notice{background:#fff8d6;padding:.6rem;border-radius:4px;word-break:break-all}
svg{background:#fff;border-radius:6px;max-width:100%;height:auto}
@media (max-width:40rem){main{padding:.5rem}table{display:block;overflow-x:auto}th,td{padding:.3rem}}
";

/// The page around a body: header with navigation (for a session) and the language switch,
/// title, style; in the request's language ([`crate::i18n::current`]).
pub fn layout(title: &str, session: Option<&Session>, body: Markup) -> Markup {
    let lang = i18n::current();
    html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · quell" }
                style { (PreEscaped(STYLE)) }
            }
            body {
                header {
                    strong { a href="/" { "quell" } }
                    @if let Some(session) = session {
                        @if session.principal.role != Role::Coordinator {
                            a href="/hosts" { (t!("nav-hosts")) }
                            a href="/search" { (t!("nav-search")) }
                        }
                        a href="/components" { (t!("nav-components")) }
                        a href="/indicators" { (t!("nav-indicators")) }
                        a href="/advisories" { (t!("nav-advisories")) }
                        a href="/registry" { (t!("nav-registry")) }
                        a href="/tokens" { (t!("nav-tokens")) }
                        @if session.principal.role != Role::Member {
                            a href="/users" { (t!("nav-users")) }
                            a href="/audit" { (t!("nav-audit")) }
                        }
                    }
                    nav.lang aria-label=(t!("nav-language")) {
                        @for other in Lang::ALL {
                            @if other == lang {
                                strong lang=(other.code()) { (other.name()) }
                            } @else {
                                a lang=(other.code()) hreflang=(other.code()) href=(format!("?lang={}", other.code())) { (other.name()) }
                            }
                        }
                    }
                    @if let Some(session) = session {
                        span.me {
                            a href="/account/password" title=(t!("nav-password")) { (session.principal.email) }
                            " (" (role_name(session.principal.role)) ") "
                            a href="/account/two-factor" { (t!("nav-two-factor")) } " "
                            form.inline method="post" action="/logout" {
                                input type="hidden" name="csrf" value=(session.csrf);
                                button type="submit" { (t!("nav-logout")) }
                            }
                        }
                    }
                }
                main { h1 { (title) } (body) }
            }
        }
    }
}

/// A role as the reader says it.
pub fn role_name(role: Role) -> String {
    match role {
        Role::Coordinator => t!("role-coordinator"),
        Role::Admin => t!("role-admin"),
        Role::Member => t!("role-member"),
    }
}

/// The title of an error page: the status in the reader's language.
fn status_title(status: StatusCode) -> String {
    match status.as_u16() {
        400 => t!("status-400"),
        401 => t!("status-401"),
        403 => t!("status-403"),
        404 => t!("status-404"),
        409 => t!("status-409"),
        413 => t!("status-413"),
        422 => t!("status-422"),
        429 => t!("status-429"),
        _ => t!("status-other", code = status.as_u16()),
    }
}

/// An error page (the navigation shown when there is a session).
pub fn error_page(session: Option<&Session>, status: StatusCode, message: &str) -> Response {
    page(status, layout(&status_title(status), session, html! { p { (message) } }))
}

/// Middleware of the page routes. It finds the request's session once (the extractors reuse
/// it) and its language ([`i18n::resolve`]: `?lang=`, cookie, the user's setting,
/// `Accept-Language`, `--default-language`), runs the handler in that language, keeps a
/// `?lang=` choice in the [`LANG_COOKIE`], and turns an error response (one that carries an
/// [`ErrorMessage`]) into an HTML error page with the navigation of the request's session.
pub async fn html_errors(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let (mut parts, body) = request.into_parts();
    let session = Session::lookup(&mut parts, &state).await.ok().flatten();
    let chosen = i18n::query_lang(parts.uri.query()).and_then(Lang::parse);
    let lang = i18n::resolve(
        &i18n::Request {
            query: chosen.map(Lang::code),
            cookie: cookie(&parts.headers, LANG_COOKIE),
            user: session.as_ref().and_then(|s| s.principal.language.as_deref()),
            accept: parts.headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()),
        },
        state.default_language,
    );
    let request = Request::from_parts(parts, body);
    let mut response = i18n::scope(lang, next.run(request)).await;
    if let Some(error) = response.extensions().get::<ErrorMessage>().cloned() {
        let mut page = i18n::with(lang, || error_page(session.as_ref(), error.status, &error.message));
        if let Some(auth) = response.headers().get(header::WWW_AUTHENTICATE) {
            page.headers_mut().insert(header::WWW_AUTHENTICATE, auth.clone());
        }
        for value in response.headers().get_all(header::SET_COOKIE) {
            page.headers_mut().append(header::SET_COOKIE, value.clone());
        }
        response = page;
    }
    if let Some(chosen) = chosen {
        let secure = if state.secure_cookies { "; Secure" } else { "" };
        let value = format!("{LANG_COOKIE}={}; SameSite=Lax; Path=/; Max-Age=31536000{secure}", chosen.code());
        if let Ok(value) = HeaderValue::from_str(&value) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    response
}

/// Percent-encoding for query values.
pub fn urlencode(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
