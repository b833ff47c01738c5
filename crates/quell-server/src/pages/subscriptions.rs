//! The aggregator's pages, for coordinators: the subscriptions to other CSAF providers with the
//! status of their last poll, the form to subscribe (pinned key, access token), poll-now and
//! unsubscribe buttons, and one subscription's log (per document: imported, or refused or
//! failed with its reason). The same service functions as the API ([`crate::aggregator`]).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use quell_store::advisories::subscriptions::{self, MAX_LOG_ROWS, SubscriptionRow};
use serde::Deserialize;

use crate::aggregator::{SubscribeBody, poll_now, subscribe, unsubscribe};
use crate::api::aggregator::subscription_id;
use crate::extract::{CsrfForm, PageCoordinator};
use crate::html::{layout, page};
use crate::i18n::{code, date_time};
use crate::{AppState, ServerError};

const PAGE: &str = "/advisories/subscriptions";

fn back() -> Response {
    Redirect::to(PAGE).into_response()
}

/// The subscribe form.
#[derive(Debug, Deserialize)]
pub(crate) struct SubscribeForm {
    #[serde(default)]
    url: String,
    #[serde(default)]
    pinned_fingerprint: String,
    #[serde(default)]
    pinned_key: String,
    #[serde(default)]
    access_token: String,
}

/// A form with nothing but its token.
#[derive(Debug, Deserialize)]
pub(crate) struct Empty {}

fn status_class(status: &str) -> &'static str {
    match status {
        "ok" => "ok",
        "new" => "",
        "partial" => "warn",
        _ => "bad",
    }
}

fn row(s: &SubscriptionRow, csrf: &str) -> Markup {
    html! {
        tr {
            td { a href=(format!("{PAGE}/{}", s.id)) { (s.publisher_name.clone().unwrap_or_else(|| t!("agg-unknown-publisher"))) } }
            td { code { (s.metadata_url) } }
            td { @if s.pinned_fingerprint.is_some() { (t!("agg-pinned")) } }
            td class=(status_class(&s.poll_status)) { (code(&s.poll_status)) }
            td { (s.polled_at.map(date_time).unwrap_or_default()) }
            td {
                form method="post" action=(format!("{PAGE}/{}/poll", s.id)) style="display:inline" {
                    input type="hidden" name="csrf" value=(csrf);
                    button type="submit" { (t!("agg-poll-now")) }
                }
                " "
                form method="post" action=(format!("{PAGE}/{}/remove", s.id)) style="display:inline" {
                    input type="hidden" name="csrf" value=(csrf);
                    button type="submit" { (t!("agg-unsubscribe")) }
                }
            }
        }
    }
}

/// `GET /advisories/subscriptions`.
pub(crate) async fn list(
    State(state): State<AppState>,
    PageCoordinator(session): PageCoordinator,
) -> Result<Response, ServerError> {
    let rows = subscriptions::list(&state.db).await?;
    let csrf = session.csrf.clone();
    let body = html! {
        p { (t!("agg-intro")) }
        table #subscriptions {
            tr { th { (t!("agg-col-publisher")) } th { (t!("agg-col-url")) } th { (t!("agg-col-key")) } th { (t!("agg-col-status")) } th { (t!("agg-col-polled")) } th {} }
            @for s in &rows { (row(s, &csrf)) }
        }
        @if rows.is_empty() { p #no-subscriptions { (t!("agg-none")) } }
        h2 { (t!("agg-subscribe")) }
        form #subscribe method="post" action=(PAGE) {
            input type="hidden" name="csrf" value=(csrf);
            p { label { (t!("agg-field-url")) br; input type="url" name="url" size="80" required; } }
            p { label { (t!("agg-field-fingerprint")) br; input type="text" name="pinned_fingerprint" size="60"; } }
            p { label { (t!("agg-field-key")) br; textarea name="pinned_key" rows="4" cols="70" {} } }
            p { label { (t!("agg-field-token")) br; input type="password" name="access_token" size="60" autocomplete="off"; } }
            button type="submit" { (t!("agg-subscribe")) }
        }
    };
    Ok(page(StatusCode::OK, layout(&t!("agg-title"), Some(&session), body)))
}

/// `POST /advisories/subscriptions`.
pub(crate) async fn create(
    State(state): State<AppState>,
    _: PageCoordinator,
    CsrfForm { session, form }: CsrfForm<SubscribeForm>,
) -> Result<Response, ServerError> {
    let some = |s: String| Some(s).filter(|s| !s.trim().is_empty());
    let body = SubscribeBody {
        url: form.url,
        pinned_fingerprint: some(form.pinned_fingerprint),
        pinned_key: some(form.pinned_key),
        access_token: some(form.access_token),
    };
    subscribe(&state, &session.principal, &body).await?;
    Ok(back())
}

/// `POST /advisories/subscriptions/{id}/poll`.
pub(crate) async fn poll(
    State(state): State<AppState>,
    _: PageCoordinator,
    Path(id): Path<String>,
    _: CsrfForm<Empty>,
) -> Result<Response, ServerError> {
    let id = subscription_id(&id)?;
    poll_now(&state, id).await?;
    Ok(Redirect::to(&format!("{PAGE}/{id}")).into_response())
}

/// `POST /advisories/subscriptions/{id}/remove`.
pub(crate) async fn remove(
    State(state): State<AppState>,
    _: PageCoordinator,
    Path(id): Path<String>,
    CsrfForm { session, .. }: CsrfForm<Empty>,
) -> Result<Response, ServerError> {
    unsubscribe(&state, &session.principal, subscription_id(&id)?).await?;
    Ok(back())
}

/// `GET /advisories/subscriptions/{id}`: the subscription's log, newest first.
pub(crate) async fn show(
    State(state): State<AppState>,
    PageCoordinator(session): PageCoordinator,
    Path(id): Path<String>,
) -> Result<Response, ServerError> {
    let id = subscription_id(&id)?;
    let s = subscriptions::get(&state.db, id).await?;
    let log = subscriptions::log_entries(&state.db, id, MAX_LOG_ROWS).await?;
    let body = html! {
        p { a href=(PAGE) { (t!("agg-back")) } }
        p { code { (s.metadata_url) } }
        p { (t!("agg-col-status")) " " strong class=(status_class(&s.poll_status)) { (code(&s.poll_status)) }
            @if let Some(at) = s.polled_at { " (" (date_time(at)) ")" } }
        @if let Some(f) = &s.pinned_fingerprint { p { (t!("agg-pinned-fingerprint")) " " code { (f) } } }
        table #log {
            tr { th { (t!("agg-col-at")) } th { (t!("agg-col-document")) } th { (t!("agg-col-outcome")) } th { (t!("agg-col-reason")) } th { (t!("agg-col-detail")) } }
            @for e in &log {
                tr {
                    td { (date_time(e.at)) }
                    td { code { (e.url) } }
                    td class=(if e.outcome == "imported" { "ok" } else { "bad" }) { (code(&e.outcome)) }
                    td { (code(&e.reason)) }
                    td { (e.detail) }
                }
            }
        }
        @if log.is_empty() { p { (t!("agg-log-empty")) } }
    };
    let title = s.publisher_name.clone().unwrap_or_else(|| t!("agg-unknown-publisher"));
    Ok(page(StatusCode::OK, layout(&title, Some(&session), body)))
}
