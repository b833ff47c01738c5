//! The aggregator's service glue between the handlers (`api::aggregator`,
//! `pages::subscriptions`) and the store: checking and storing a new subscription, polling one
//! now (the poller itself is [`crate::jobs::aggregator`]), and "forward to target group" — a new
//! own advisory (a draft) that references an imported one, marked with its TLP or stricter,
//! decided by the same access rule as every other channel.

use quell_advisory::csaf::{forwarded_content, read_import};
use quell_advisory::{Answers, Tlp, Viewer, can_view};
use quell_store::advisories::StoredAudience;
use quell_store::advisories::csaf::{self as csaf_store, ExternalRow};
use quell_store::advisories::store::{self, Draft, Recipients};
use quell_store::advisories::subscriptions::{self, NewSubscription};
use quell_store::{Missing, Thing};
use serde::Deserialize;
use serde_json::Value;

use crate::auth::Principal;
use crate::extract::viewer_of;
use crate::jobs::aggregator::{self, check_provider_url, pinned_fingerprint};
use crate::limits::{MAX_SUBSCRIPTION_URL_BYTES, MAX_SUBSCRIPTIONS};
use crate::{AppState, Db, ServerError};

/// A new subscription as a coordinator sends it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubscribeBody {
    /// The provider's `provider-metadata.json` URL.
    pub url: String,
    /// A fingerprint to pin: only signatures by this key are accepted.
    #[serde(default)]
    pub pinned_fingerprint: Option<String>,
    /// A public key (ASCII-armored) to pin: only signatures by it are accepted.
    #[serde(default)]
    pub pinned_key: Option<String>,
    /// A bearer token the provider issued to this CERT, for its protected feeds.
    #[serde(default)]
    pub access_token: Option<String>,
}

/// Checks a subscription and stores it (audited as `csaf_subscribed`): its id.
pub async fn subscribe(state: &AppState, principal: &Principal, body: &SubscribeBody) -> Result<i64, ServerError> {
    let url = body.url.trim();
    check_provider_url(url, state.limits.peers.allow_private).map_err(ServerError::Invalid)?;
    let fingerprint = pinned_fingerprint(body.pinned_fingerprint.as_deref(), body.pinned_key.as_deref())
        .map_err(ServerError::Invalid)?;
    let token = body.access_token.as_deref().map(str::trim).filter(|t| !t.is_empty());
    if token.is_some_and(|t| t.len() > MAX_SUBSCRIPTION_URL_BYTES || t.chars().any(char::is_control)) {
        return Err(ServerError::Invalid(t!(
            "api-access-token",
            max = crate::refusals::limit(MAX_SUBSCRIPTION_URL_BYTES as u64)
        )));
    }
    if subscriptions::list(&state.db).await?.len() >= MAX_SUBSCRIPTIONS {
        return Err(ServerError::Invalid(format!("at most {MAX_SUBSCRIPTIONS} subscriptions")));
    }
    let new = NewSubscription {
        metadata_url: url.to_string(),
        pinned_fingerprint: fingerprint,
        pinned_key: body.pinned_key.clone().filter(|k| !k.trim().is_empty()),
        access_token: token.map(str::to_string),
    };
    let id = subscriptions::create(&state.db, &new, principal.user_id).await?;
    let detail = new.pinned_fingerprint.as_deref().map(|f| format!("pinned {f}")).unwrap_or_default();
    audit(state, principal, "csaf_subscribed", format!("subscription:{id} {url}"), detail).await?;
    Ok(id)
}

/// Ends a subscription (audited as `csaf_unsubscribed`); what it imported stays.
pub async fn unsubscribe(state: &AppState, principal: &Principal, id: i64) -> Result<(), ServerError> {
    let url = subscriptions::get(&state.db, id).await?.metadata_url;
    subscriptions::remove(&state.db, id).await?;
    audit(state, principal, "csaf_unsubscribed", format!("subscription:{id} {url}"), String::new()).await
}

async fn audit(
    state: &AppState,
    principal: &Principal,
    action: &str,
    target: String,
    detail: String,
) -> Result<(), ServerError> {
    let event = quell_store::audit::Event {
        actor: quell_store::audit::Actor::of(principal),
        action,
        org_id: None,
        target,
        detail,
    };
    Ok(quell_store::audit::record(&state.db.pool, &event).await?)
}

/// Polls a subscription now (claiming it, so the background poller waits a full interval).
pub async fn poll_now(state: &AppState, id: i64) -> Result<aggregator::PollReport, ServerError> {
    subscriptions::get(&state.db, id).await?;
    subscriptions::claim_now(&state.db, id).await?;
    aggregator::poll(state, id).await
}

/// What "forward to target group" takes.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForwardBody {
    /// Target groups by id.
    pub groups: Vec<i64>,
    /// The coordinator's rating (chance × damage) of the forwarded advisory.
    pub rating: Answers,
    /// A marking at least as restrictive as the original's (default: the original's).
    #[serde(default)]
    pub tlp: Option<Tlp>,
    /// Also address the organisations that the platform's recipient matching finds for the
    /// original's CVEs and products (scanned copies, inventories and SBOMs, registered
    /// products), as for an own advisory.
    #[serde(default)]
    pub match_recipients: bool,
}

/// Creates a draft of an own advisory that forwards an imported one to target groups.
pub async fn forward(
    state: &AppState,
    principal: &Principal,
    external_id: i64,
    body: ForwardBody,
) -> Result<store::Created, ServerError> {
    let (row, document) = csaf_store::get_external(&state.db, external_id).await?;
    let original = Tlp::parse(&row.tlp_label).unwrap_or(Tlp::Red);
    let nobody = StoredAudience::default();
    if !can_view(true, original, &nobody.of(row.imported_by), &viewer_of(Some(principal))) {
        return Err(ServerError::missing(&Missing::thing(Thing::ImportedAdvisory, external_id)));
    }
    let tlp = body.tlp.unwrap_or(original);
    if tlp < original {
        return Err(ServerError::Invalid(t!("api-forward-tlp", tlp = original.as_str())));
    }
    if body.groups.is_empty() {
        return Err(ServerError::Invalid(t!("api-name-target-group")));
    }
    let doc: Value =
        serde_json::from_str(&document).map_err(|e| ServerError::Internal(format!("stored CSAF document: {e}")))?;
    let imported = read_import(&doc).map_err(|e| ServerError::Internal(e.to_string()))?;
    let content = forwarded_content(&doc, &imported, row.source_url.as_deref(), tlp, body.rating);
    let matching = body.match_recipients;
    let recipients = Recipients {
        groups: body.groups,
        match_inventory: matching,
        match_products: matching,
        ..Recipients::default()
    };
    let draft = Draft { content, recipients };
    Ok(store::create(&state.db, &state.advisories.prefix, principal.user_id, &draft).await?)
}

/// The imported advisories (subscriptions' and uploaded ones) a viewer may see, newest first:
/// their audience is nobody but the importer (for a subscription, the coordinator who
/// subscribed), so AMBER reaches coordinators and RED that coordinator alone. `query` narrows
/// to those whose title, tracking id, publisher or CVEs contain it (any case).
pub async fn visible_external(db: &Db, viewer: &Viewer, query: Option<&str>) -> Result<Vec<ExternalRow>, ServerError> {
    let nobody = StoredAudience::default();
    let query = query.map(str::trim).filter(|q| !q.is_empty()).map(str::to_lowercase);
    Ok(csaf_store::list_external(db, crate::limits::MAX_PAGE_ROWS)
        .await?
        .into_iter()
        .filter(|row| {
            let tlp = Tlp::parse(&row.tlp_label).unwrap_or(Tlp::Red);
            can_view(true, tlp, &nobody.of(row.imported_by), viewer)
        })
        .filter(|row| {
            query.as_deref().is_none_or(|q| {
                [&row.title, &row.tracking_id, &row.publisher, &row.cves].iter().any(|f| f.to_lowercase().contains(q))
            })
        })
        .collect())
}

/// One imported advisory with its document as fetched, if the viewer may see it (404 otherwise,
/// as for one that does not exist).
pub async fn visible_document(db: &Db, viewer: &Viewer, id: i64) -> Result<(ExternalRow, Value), ServerError> {
    let (row, document) = csaf_store::get_external(db, id).await?;
    let tlp = Tlp::parse(&row.tlp_label).unwrap_or(Tlp::Red);
    if !can_view(true, tlp, &StoredAudience::default().of(row.imported_by), viewer) {
        return Err(ServerError::missing(&Missing::thing(Thing::ImportedAdvisory, id)));
    }
    let document =
        serde_json::from_str(&document).map_err(|e| ServerError::Internal(format!("stored CSAF document: {e}")))?;
    Ok((row, document))
}
