//! `audio-streamer user add|remove|list|cap`: manages the users file. A password is read from the
//! terminal without echo, twice, or as one line of standard input when that is not a terminal
//! (for scripts: `printf '%s\n' "$PASSWORD" | audio-streamer --users users user add alice`).
//!
//! `user key|app-password|keys|revoke`: a user's API keys and app passwords, kept in the
//! listeners' data (`--data-dir` or `--database`, as the server is started with).

use std::io::{BufRead as _, IsTerminal as _};
use std::path::Path;
use std::time::SystemTime;

use crate::auth::{AuthError, Users, apps};
use crate::config::{Config, UserCommand};
use crate::data::{CredentialKind, Data};

/// Why a `user` command failed.
#[derive(Debug, thiserror::Error)]
pub enum ManageError {
    /// The users file, the key file, or a password.
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// The listeners' data.
    #[error(transparent)]
    Data(#[from] crate::data::DataError),
    /// No such user.
    #[error("no user {0:?} in the users file")]
    NoUser(String),
}

/// Runs `command` on the users file at `path` (and, for credentials, the listeners' data of
/// `config`); returns what to tell the person.
pub fn user(command: &UserCommand, path: &Path, config: &Config) -> Result<String, ManageError> {
    let mut users = Users::read(path)?;
    let credentials = |name: &str| -> Result<(Data, tokio::runtime::Runtime), ManageError> {
        if !users.contains(name) {
            return Err(ManageError::NoUser(name.to_owned()));
        }
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| crate::data::DataError::Unavailable(e.to_string()))?;
        Ok((Data::open(&config.database)?, runtime))
    };
    match command {
        UserCommand::Key { name, label } | UserCommand::AppPassword { name, label } => {
            let (data, runtime) = credentials(name)?;
            let (kind, (secret, stored)) = if matches!(command, UserCommand::Key { .. }) {
                (CredentialKind::ApiKey, apps::make_api_key())
            } else {
                let session_key = config
                    .access
                    .as_ref()
                    .and_then(|a| a.session_key_file.as_deref());
                let sealer = apps::Sealer::open(path, session_key)?;
                (CredentialKind::AppPassword, sealer.make_app_password(name))
            };
            let made = runtime.block_on(data.add_credential(name, kind, label, &stored))?;
            let what = match kind {
                CredentialKind::ApiKey => "API key",
                CredentialKind::AppPassword => "app password",
            };
            Ok(format!(
                "{what} {} for {name} ({label}); shown only now:\n{secret}",
                made.id
            ))
        }
        UserCommand::Keys { name } => {
            let (data, runtime) = credentials(name)?;
            let list = runtime.block_on(data.credentials(name))?;
            let day = |at: SystemTime| {
                chrono::DateTime::<chrono::Utc>::from(at)
                    .format("%Y-%m-%d %H:%M")
                    .to_string()
            };
            let lines: Vec<String> = list
                .iter()
                .map(|c| {
                    let kind = c.kind.as_str();
                    let used = c
                        .used
                        .map_or_else(|| "never used".to_owned(), |at| format!("used {}", day(at)));
                    format!(
                        "{}  {kind}  {}  made {}  {used}",
                        c.id,
                        c.label,
                        day(c.created)
                    )
                })
                .collect();
            Ok(lines.join("\n"))
        }
        UserCommand::Revoke { name, id } => {
            let (data, runtime) = credentials(name)?;
            runtime.block_on(data.revoke_credential(name, id))?;
            Ok(format!("revoked {id} of {name}"))
        }
        UserCommand::List => Ok(users.names().collect::<Vec<_>>().join("\n")),
        UserCommand::Add { name } => {
            if !crate::auth::valid_name(name) {
                return Err(AuthError::BadName(name.clone()).into());
            }
            let password = read_password(name)?;
            users.add(name, &password)?;
            users.write(path)?;
            Ok(format!("added {name} to {}", path.display()))
        }
        UserCommand::Cap { name, kbps } => {
            users.set_cap(name, kbps.0)?;
            users.write(path)?;
            Ok(match kbps.0 {
                Some(kbps) => format!("{name} is streamed at {kbps} kbit/s at most"),
                None => format!("{name} is streamed at any bit rate"),
            })
        }
        UserCommand::Remove { name } => {
            users.remove(name)?;
            users.write(path)?;
            Ok(format!("removed {name} from {}", path.display()))
        }
    }
}

fn read_password(name: &str) -> Result<String, AuthError> {
    let unreadable = |reason| AuthError::File {
        action: "read",
        path: "the terminal".into(),
        reason,
    };
    if std::io::stdin().is_terminal() {
        let first =
            rpassword::prompt_password(format!("Password for {name}: ")).map_err(unreadable)?;
        let again = rpassword::prompt_password("Again: ").map_err(unreadable)?;
        if first != again {
            return Err(AuthError::BadPassword("the two passwords differ"));
        }
        return Ok(first);
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(unreadable)?;
    Ok(line.trim_end_matches(['\n', '\r']).to_owned())
}
