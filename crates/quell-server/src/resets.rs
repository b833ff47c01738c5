//! Password-reset links as a service of the API and the pages: issue one for an account
//! (`quell_store::password_resets`), make its URL, and e-mail it to the account's owner in their
//! language when an SMTP relay is configured. The link is also returned to the administrator who
//! issued it, so it can be handed over by another channel when there is no relay (or the mail
//! bounced); it is never logged.

use quell_store::advisories::deliveries;
use quell_store::password_resets;
use serde::Serialize;

use crate::auth::Principal;
use crate::i18n::Lang;
use crate::{AppState, ServerError};

/// A link just issued, as the administrator sees it.
#[derive(Debug, Clone, Serialize)]
pub struct IssuedLink {
    pub user_id: i64,
    pub email: String,
    pub org_id: Option<i64>,
    /// The one-time link (shown once: only its hash is stored).
    pub url: String,
    /// RFC 3339.
    pub expires_at: String,
    /// Whether it went out by e-mail to the account's owner.
    pub emailed: bool,
    /// Why it did not, when an SMTP relay is configured but sending failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_error: Option<String>,
}

/// The page path of a link (`/reset/<secret>`).
pub fn path(secret: &str) -> String {
    format!("/reset/{secret}")
}

/// Issues a link for account `user_id` on behalf of `manager` and e-mails it when it can.
pub async fn issue(state: &AppState, manager: &Principal, user_id: i64) -> Result<IssuedLink, ServerError> {
    let lifetime = i64::try_from(state.limits.password_reset_lifetime.as_secs()).unwrap_or(i64::MAX);
    let issued = password_resets::issue(&state.db, manager, user_id, lifetime).await?;
    let url = format!("{}{}", state.advisories.public_url.trim_end_matches('/'), path(&issued.secret));
    let expires_at = crate::time::format_rfc3339(issued.expires_at);
    let (emailed, email_error) = if state.advisories.smtp.is_some() {
        let lang = deliveries::addressee(&state.db, user_id)
            .await?
            .and_then(|a| a.language.as_deref().and_then(Lang::parse))
            .unwrap_or(state.default_language);
        let (subject, text) = crate::i18n::with(lang, || {
            (t!("reset-mail-subject"), t!("reset-mail-text", url = url.as_str(), expires = expires_at.as_str()))
        });
        match crate::jobs::delivery::send_plain(&state.advisories, &issued.email, &subject, text).await {
            Ok(()) => (true, None),
            Err(e) => {
                tracing::warn!(user = user_id, error = %e, "password-reset e-mail");
                (false, Some(e))
            }
        }
    } else {
        (false, None)
    };
    Ok(IssuedLink { user_id, email: issued.email, org_id: issued.org_id, url, expires_at, emailed, email_error })
}
