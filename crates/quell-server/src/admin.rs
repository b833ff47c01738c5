//! `quell admin`: account and token management from the command line, straight on the database
//! (the first coordinator has no other way in).

use crate::auth::{self, NewToken, Role, Scope};
use crate::{Db, DbLocation, ServerError};

/// One administrative action.
#[derive(Debug, Clone)]
pub enum AdminAction {
    CreateCoordinator { email: String, password: String },
    CreateOrg { name: String },
    CreateUser { org: String, email: String, role: Role, password: String },
    CreateToken { email: String, name: String, scope: Scope },
    RevokeToken { id: i64 },
    Unlock { email: String },
}

/// What an action produced, for the command line to print.
#[derive(Debug, Clone)]
pub enum AdminOutcome {
    Created {
        what: &'static str,
        id: i64,
    },
    Token(NewToken),
    Revoked(bool),
    /// How many failed logins were forgotten.
    Unlocked(u64),
}

/// Opens the database (migrating it) and carries out one action.
pub async fn run(location: &DbLocation, action: AdminAction) -> Result<AdminOutcome, ServerError> {
    let db = Db::open(location, 1).await?;
    let outcome = match action {
        AdminAction::CreateCoordinator { email, password } => AdminOutcome::Created {
            what: "coordinator",
            id: auth::create_user(&db, &email, &password, Role::Coordinator, None).await?,
        },
        AdminAction::CreateOrg { name } => {
            AdminOutcome::Created { what: "organisation", id: auth::create_org(&db, &name).await? }
        }
        AdminAction::CreateUser { org, email, role, password } => {
            let org_id = auth::org_id(&db, &org).await?;
            let what = if role == Role::Admin { "organisation admin" } else { "organisation member" };
            AdminOutcome::Created { what, id: auth::create_user(&db, &email, &password, role, Some(org_id)).await? }
        }
        AdminAction::CreateToken { email, name, scope } => {
            let user = auth::user_id(&db, &email).await?;
            AdminOutcome::Token(auth::create_token(&db, user, &name, scope).await?)
        }
        AdminAction::RevokeToken { id } => AdminOutcome::Revoked(auth::revoke_token(&db, id, None).await?),
        AdminAction::Unlock { email } => {
            auth::user_id(&db, &email).await?;
            AdminOutcome::Unlocked(auth::clear_login_failures(&db, &email.trim().to_lowercase()).await?)
        }
    };
    db.pool.close().await;
    Ok(outcome)
}
