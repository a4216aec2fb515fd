//! Who may listen: users with argon2id password hashes in a file ([`UserFile`]), signed stream links
//! ([`LinkSigner`]), and the throttle on login attempts per client address ([`Throttle`]). No HTTP
//! here: `http::auth` turns these into the login page, the session cookie and the guard.

pub mod apps;
mod links;
mod throttle;
mod users;
mod verified;

pub use self::links::{LinkError, LinkSigner, SignedLink};
pub use self::throttle::Throttle;
pub use self::users::{UserFile, Users, valid_name};
pub use self::verified::Verified;

/// Logins allowed at once from one address, then one per this long.
pub(crate) const LOGIN_BURST: u32 = 5;
pub(crate) const LOGIN_EVERY: std::time::Duration = std::time::Duration::from_secs(12);

/// Password checks run at once: each holds 19 MiB for ~20 ms.
const CONCURRENT_CHECKS: usize = 2;

/// Access control as the server runs it.
#[derive(Debug)]
pub struct Access {
    /// The users.
    pub users: UserFile,
    /// Login attempts per client address.
    pub throttle: Throttle,
    /// Bounds how many password checks (19 MiB each) run at once.
    pub checks: tokio::sync::Semaphore,
    /// Passwords verified lately (the Subsonic API sends one with every request).
    pub verified: Verified,
    /// The session-cookie key's material: from `--session-key-file`, or random for this run.
    pub session_key: Vec<u8>,
    /// Seals and opens app passwords.
    pub sealer: apps::Sealer,
    /// Sessions signed out before they expired, with when they expire: a copy of the cookie kept
    /// from before cannot sign in again (on this server).
    signed_out: std::sync::Mutex<std::collections::HashMap<String, u64>>,
}

impl Access {
    /// Reads the users file and the session key file of `config`.
    pub fn open(config: &crate::config::Access) -> Result<Self, AuthError> {
        let session_key = config
            .session_key_file
            .as_ref()
            .map(|path| {
                let bytes = std::fs::read(path).map_err(|reason| AuthError::File {
                    action: "read",
                    path: path.clone(),
                    reason,
                })?;
                if bytes.len() < 32 {
                    return Err(AuthError::ShortKey(path.clone()));
                }
                Ok(bytes)
            })
            .transpose()?
            .unwrap_or_else(|| {
                let mut random = vec![0u8; 64];
                getrandom::fill(&mut random).expect("the OS has a random source");
                random
            });
        Ok(Self {
            users: UserFile::open(&config.users)?,
            sealer: apps::Sealer::open(&config.users, config.session_key_file.as_deref())?,
            throttle: Throttle::new(LOGIN_BURST, LOGIN_EVERY),
            checks: tokio::sync::Semaphore::new(CONCURRENT_CHECKS),
            session_key,
            verified: Verified::new(),
            signed_out: Default::default(),
        })
    }

    /// A new session id.
    pub fn new_session_id() -> String {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes).expect("the OS has a random source");
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Records that session `id`, valid until `expires` (Unix seconds), was signed out; forgets
    /// the ones expired by `now`.
    pub fn sign_out(&self, id: &str, expires: u64, now: u64) {
        let mut out = self.signed_out.lock().unwrap_or_else(|e| e.into_inner());
        out.retain(|_, until| *until > now);
        out.insert(id.to_owned(), expires);
    }

    /// Whether session `id` was signed out.
    pub fn is_signed_out(&self, id: &str) -> bool {
        let out = self.signed_out.lock().unwrap_or_else(|e| e.into_inner());
        out.contains_key(id)
    }
}

/// Why users could not be read, written or checked.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// The users file could not be read or written.
    #[error("cannot {action} the users file {}: {reason}", path.display())]
    File {
        /// "read" or "write".
        action: &'static str,
        /// The file.
        path: std::path::PathBuf,
        /// The OS error.
        reason: std::io::Error,
    },
    /// A line of the users file is not `name:$argon2id$...`.
    #[error("{}:{line}: not a user line (name:argon2id hash)", path.display())]
    BadLine {
        /// The file.
        path: std::path::PathBuf,
        /// 1-based line number.
        line: usize,
    },
    /// A user name with characters other than letters, digits, `.`, `_` and `-`, or too long.
    #[error("user names are 1 to 64 letters, digits, '.', '_' or '-': {0:?}")]
    BadName(String),
    /// `user add` for a name already there.
    #[error("user {0:?} already exists (remove it first to change its password)")]
    Exists(String),
    /// `user remove` for a name not there.
    #[error("no user {0:?}")]
    NoSuchUser(String),
    /// The password is empty or the two entries differ.
    #[error("{0}")]
    BadPassword(&'static str),
    /// The session key file holds fewer than 32 bytes.
    #[error("the session key file {} holds fewer than 32 bytes (make one with `head -c 64 /dev/urandom > FILE`)", .0.display())]
    ShortKey(std::path::PathBuf),
    /// Hashing failed (never with the default parameters).
    #[error("cannot hash the password: {0}")]
    Hash(String),
}
