//! A listener's settings: the quality the page plays at.

use sqlx::Row as _;

use super::{Data, DataError, check, now};

/// The quality a listener plays at on the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Quality {
    /// The files as they are.
    #[default]
    Original,
    /// Transcoded, high bit rate.
    High,
    /// Transcoded, low bit rate (mobile data).
    Low,
}

impl Quality {
    /// Its name on the wire and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Original => "original",
            Self::High => "high",
            Self::Low => "low",
        }
    }

    /// The quality named `name`.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "original" => Some(Self::Original),
            "high" => Some(Self::High),
            "low" => Some(Self::Low),
            _ => None,
        }
    }
}

impl Data {
    /// `user`'s quality (the original until they choose one).
    pub async fn quality(&self, user: &str) -> Result<Quality, DataError> {
        check::name("a user name", user)?;
        let (db, user) = (self.db(), user.to_owned());
        self.spawn(async move {
            let row = sqlx::query("SELECT quality FROM listener_settings WHERE user_name = $1")
                .bind(&user)
                .fetch_optional(&db.pool)
                .await?;
            let name: Option<String> = row.map(|row| row.try_get(0)).transpose()?;
            Ok(name.as_deref().and_then(Quality::parse).unwrap_or_default())
        })
        .await
    }

    /// Sets `user`'s quality.
    pub async fn set_quality(&self, user: &str, quality: Quality) -> Result<(), DataError> {
        check::name("a user name", user)?;
        let (db, user) = (self.db(), user.to_owned());
        self.spawn(async move {
            db.write(move |conn| {
                Box::pin(async move {
                    sqlx::query(
                        "INSERT INTO listener_settings (user_name, quality, changed_ms) \
                         VALUES ($1, $2, $3) ON CONFLICT (user_name) DO UPDATE SET \
                         quality = excluded.quality, changed_ms = excluded.changed_ms",
                    )
                    .bind(&user)
                    .bind(quality.as_str())
                    .bind(now())
                    .execute(&mut *conn)
                    .await?;
                    Ok(())
                })
            })
            .await
        })
        .await
    }
}
