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
use crate::extract::{SESSION_COOKIE, Session, cookie};

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
header a{color:#fff;text-decoration:none}header .me{margin-left:auto;font-size:.85rem}
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

/// The page around a body: header with navigation (for a session), title, style.
pub fn layout(title: &str, session: Option<&Session>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
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
                            a href="/hosts" { "Hosts" }
                            a href="/search" { "Search" }
                        }
                        a href="/components" { "Where does it run?" }
                        a href="/indicators" { "Indicators" }
                        a href="/advisories" { "Advisories" }
                        a href="/registry" { "Registry" }
                        a href="/tokens" { "Tokens" }
                        span.me {
                            (session.principal.email) " (" (session.principal.role.as_str()) ") "
                            form.inline method="post" action="/logout" {
                                input type="hidden" name="csrf" value=(session.csrf);
                                button type="submit" { "Log out" }
                            }
                        }
                    }
                }
                main { h1 { (title) } (body) }
            }
        }
    }
}

/// An error page (the navigation shown when there is a session).
pub fn error_page(session: Option<&Session>, status: StatusCode, message: &str) -> Response {
    page(status, layout(status.canonical_reason().unwrap_or("Error"), session, html! { p { (message) } }))
}

/// Middleware of the page routes: an error response (one that carries an [`ErrorMessage`]) becomes
/// an HTML error page, with the navigation of the request's session.
pub async fn html_errors(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let secret = cookie(request.headers(), SESSION_COOKIE).map(str::to_string);
    let response = next.run(request).await;
    let Some(error) = response.extensions().get::<ErrorMessage>().cloned() else {
        return response;
    };
    let session = match secret {
        Some(secret) => crate::auth::session(&state.db, &secret)
            .await
            .ok()
            .flatten()
            .map(|record| Session { principal: record.principal, csrf: record.csrf }),
        None => None,
    };
    let mut page = error_page(session.as_ref(), error.status, &error.message);
    if let Some(auth) = response.headers().get(header::WWW_AUTHENTICATE) {
        page.headers_mut().insert(header::WWW_AUTHENTICATE, auth.clone());
    }
    page.into_response()
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
