//! What a listener's apps sign in with: API keys (their SHA-256 kept) and app passwords (kept
//! sealed by [`crate::auth::apps`]). This module stores and finds them; it never sees a key or a
//! secret in the clear.

use std::time::SystemTime;

use sqlx::Row as _;

use super::{Data, DataError, check, now, time};

/// Which kind of credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialKind {
    /// An OpenSubsonic API key.
    ApiKey,
    /// A password for token authentication.
    AppPassword,
}

impl CredentialKind {
    /// Its name, as kept and as listed: `api-key` or `app-password`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ApiKey => "api-key",
            Self::AppPassword => "app-password",
        }
    }

    /// The kind named `kind` ([`CredentialKind::as_str`]).
    pub fn parse(kind: &str) -> Option<Self> {
        match kind {
            "api-key" => Some(Self::ApiKey),
            "app-password" => Some(Self::AppPassword),
            _ => None,
        }
    }
}

/// A credential as listed (never its key or secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    /// `cr-` and 16 random hex digits: what revoking names.
    pub id: String,
    /// Whose.
    pub user: String,
    /// Which kind.
    pub kind: CredentialKind,
    /// What the listener called it ("phone").
    pub label: String,
    /// When it was made.
    pub created: SystemTime,
    /// When an app last signed in with it (to the minute), if ever.
    pub used: Option<SystemTime>,
}

/// How often a credential's last use is written, at most.
const USE_WRITTEN_EVERY_MS: i64 = 60_000;

fn new_id() -> String {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).expect("the OS has a random source");
    format!("cr-{}", hex::encode(bytes))
}

impl Data {
    /// Keeps a new credential of `user`: an API key's hash, or an app password's sealed secret.
    pub async fn add_credential(
        &self,
        user: &str,
        kind: CredentialKind,
        label: &str,
        stored: &str,
    ) -> Result<Credential, DataError> {
        check::name("a user name", user)?;
        check::name("a label", label)?;
        let credential = Credential {
            id: new_id(),
            user: user.to_owned(),
            kind,
            label: label.to_owned(),
            created: time(now()),
            used: None,
        };
        let (db, made, stored) = (self.db(), credential.clone(), stored.to_owned());
        self.spawn(async move {
            db.write(move |conn| {
                Box::pin(async move {
                    let (hash, sealed) = match made.kind {
                        CredentialKind::ApiKey => (Some(stored), None),
                        CredentialKind::AppPassword => (None, Some(stored)),
                    };
                    sqlx::query(
                        "INSERT INTO app_credentials \
                         (id, user_name, kind, label, key_hash, sealed, created_ms) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    )
                    .bind(&made.id)
                    .bind(&made.user)
                    .bind(made.kind.as_str())
                    .bind(&made.label)
                    .bind(hash)
                    .bind(sealed)
                    .bind(super::millis(made.created))
                    .execute(conn)
                    .await?;
                    Ok(())
                })
            })
            .await
        })
        .await?;
        Ok(credential)
    }

    /// `user`'s credentials, the oldest first.
    pub async fn credentials(&self, user: &str) -> Result<Vec<Credential>, DataError> {
        check::name("a user name", user)?;
        let (db, user) = (self.db(), user.to_owned());
        self.spawn(async move {
            let rows = sqlx::query(
                "SELECT id, user_name, kind, label, created_ms, used_ms FROM app_credentials \
                 WHERE user_name = $1 ORDER BY created_ms, id",
            )
            .bind(&user)
            .fetch_all(&db.pool)
            .await?;
            rows.iter()
                .map(|row| {
                    let kind: String = row.try_get(2)?;
                    Ok(Credential {
                        id: row.try_get(0)?,
                        user: row.try_get(1)?,
                        kind: CredentialKind::parse(&kind).ok_or_else(|| {
                            DataError::Failed(format!("unknown credential kind {kind:?}"))
                        })?,
                        label: row.try_get(3)?,
                        created: time(row.try_get(4)?),
                        used: row.try_get::<Option<i64>, _>(5)?.map(time),
                    })
                })
                .collect()
        })
        .await
    }

    /// Takes `user`'s credential `id` away ([`DataError::NotFound`] if they have none by it).
    pub async fn revoke_credential(&self, user: &str, id: &str) -> Result<(), DataError> {
        check::name("a user name", user)?;
        check::id("a credential id", id)?;
        let (db, user, id) = (self.db(), user.to_owned(), id.to_owned());
        self.spawn(async move {
            db.write(move |conn| {
                Box::pin(async move {
                    let done =
                        sqlx::query("DELETE FROM app_credentials WHERE id = $1 AND user_name = $2")
                            .bind(&id)
                            .bind(&user)
                            .execute(conn)
                            .await?;
                    if done.rows_affected() == 0 {
                        return Err(DataError::NotFound("credential"));
                    }
                    Ok(())
                })
            })
            .await
        })
        .await
    }

    /// The credential id and user of the API key whose hash is `hash`, if any; notes the use.
    pub async fn api_key_owner(&self, hash: &str) -> Result<Option<(String, String)>, DataError> {
        check::id("a key hash", hash)?;
        let (db, hash) = (self.db(), hash.to_owned());
        let found: Option<(String, String, Option<i64>)> = self
            .spawn(async move {
                let row = sqlx::query(
                    "SELECT id, user_name, used_ms FROM app_credentials \
                     WHERE key_hash = $1 AND kind = 'api-key'",
                )
                .bind(&hash)
                .fetch_optional(&db.pool)
                .await?;
                row.map(|row| Ok((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?)))
                    .transpose()
            })
            .await?;
        let Some((id, user, used)) = found else {
            return Ok(None);
        };
        if used.is_none_or(|used| used < now() - USE_WRITTEN_EVERY_MS) {
            self.note_use(&id).await?;
        }
        Ok(Some((id, user)))
    }

    /// `user`'s app passwords, sealed, with their ids.
    pub async fn app_passwords(&self, user: &str) -> Result<Vec<(String, String)>, DataError> {
        check::name("a user name", user)?;
        let (db, user) = (self.db(), user.to_owned());
        self.spawn(async move {
            let rows = sqlx::query(
                "SELECT id, sealed FROM app_credentials \
                 WHERE user_name = $1 AND kind = 'app-password' ORDER BY created_ms, id",
            )
            .bind(&user)
            .fetch_all(&db.pool)
            .await?;
            rows.iter()
                .map(|row| Ok((row.try_get::<String, _>(0)?, row.try_get::<String, _>(1)?)))
                .collect()
        })
        .await
    }

    /// Notes that credential `id` signed an app in now (written at most once a minute).
    pub async fn note_use(&self, id: &str) -> Result<(), DataError> {
        check::id("a credential id", id)?;
        let (db, id, at) = (self.db(), id.to_owned(), now());
        self.spawn(async move {
            db.write(move |conn| {
                Box::pin(async move {
                    sqlx::query(
                        "UPDATE app_credentials SET used_ms = $2 \
                         WHERE id = $1 AND (used_ms IS NULL OR used_ms < $3)",
                    )
                    .bind(&id)
                    .bind(at)
                    .bind(at - USE_WRITTEN_EVERY_MS)
                    .execute(conn)
                    .await?;
                    Ok(())
                })
            })
            .await
        })
        .await
    }
}
