//! The users file: one `name:hash` line per user, the hash an argon2id PHC string (OWASP's
//! parameters: 19 MiB, 2 passes), and optionally `:<kbit/s>`, the highest bit rate the user is
//! streamed at (`user cap`: a higher one is transcoded down). Written by `audio-streamer user` and
//! read by the server, which picks up changes without a restart.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};

use super::AuthError;

/// How often the server looks at the users file's modification time.
const RECHECK_EVERY: Duration = Duration::from_secs(1);

/// Whether `name` may be a user name: 1 to 64 ASCII letters, digits, `.`, `_` or `-`.
pub fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// Users and their password hashes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Users {
    hashes: BTreeMap<String, String>,
    /// Users' bit rate caps, kbit/s.
    caps: BTreeMap<String, u32>,
}

impl Users {
    /// Reads `path`; a file that does not exist is no users.
    pub fn read(path: &Path) -> Result<Self, AuthError> {
        let text = match fs::read_to_string(path) {
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(reason) => {
                return Err(AuthError::File {
                    action: "read",
                    path: path.to_owned(),
                    reason,
                });
            }
        };
        let mut hashes = BTreeMap::new();
        let mut caps = BTreeMap::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let bad = || AuthError::BadLine {
                path: path.to_owned(),
                line: i + 1,
            };
            let (name, rest) = line.split_once(':').ok_or_else(bad)?;
            // A PHC string has no colon: a third field is the cap.
            let (hash, cap) = match rest.split_once(':') {
                Some((hash, cap)) => (hash, Some(cap.parse::<u32>().map_err(|_| bad())?)),
                None => (rest, None),
            };
            if !valid_name(name) || PasswordHash::new(hash).is_err() || cap == Some(0) {
                return Err(bad());
            }
            hashes.insert(name.to_owned(), hash.to_owned());
            if let Some(cap) = cap {
                caps.insert(name.to_owned(), cap);
            }
        }
        Ok(Self { hashes, caps })
    }

    /// Writes the users to `path`, readable by its owner only, replacing it whole (a reader never
    /// sees half a file).
    pub fn write(&self, path: &Path) -> Result<(), AuthError> {
        let failed = |reason| AuthError::File {
            action: "write",
            path: path.to_owned(),
            reason,
        };
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let mut tmp = tempfile::Builder::new()
            .prefix(".users-")
            .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600))
            .tempfile_in(dir)
            .map_err(failed)?;
        let mut text = String::from("# audio-streamer users: name:argon2id hash[:cap in kbit/s]\n");
        for (name, hash) in &self.hashes {
            match self.caps.get(name) {
                Some(cap) => text.push_str(&format!("{name}:{hash}:{cap}\n")),
                None => text.push_str(&format!("{name}:{hash}\n")),
            }
        }
        tmp.write_all(text.as_bytes()).map_err(failed)?;
        tmp.persist(path).map_err(|e| failed(e.error))?;
        Ok(())
    }

    /// Adds `name` with `password` (hashed here: about 20 ms and 19 MiB).
    pub fn add(&mut self, name: &str, password: &str) -> Result<(), AuthError> {
        if !valid_name(name) {
            return Err(AuthError::BadName(name.to_owned()));
        }
        if self.hashes.contains_key(name) {
            return Err(AuthError::Exists(name.to_owned()));
        }
        if password.is_empty() {
            return Err(AuthError::BadPassword("the password is empty"));
        }
        self.hashes.insert(name.to_owned(), hash(password)?);
        Ok(())
    }

    /// Sets the highest bit rate `name` is streamed at, in kbit/s (`None`: no cap).
    pub fn set_cap(&mut self, name: &str, kbps: Option<u32>) -> Result<(), AuthError> {
        if !self.hashes.contains_key(name) {
            return Err(AuthError::NoSuchUser(name.to_owned()));
        }
        match kbps {
            Some(kbps) => self.caps.insert(name.to_owned(), kbps),
            None => self.caps.remove(name),
        };
        Ok(())
    }

    /// The highest bit rate `name` is streamed at, in kbit/s, if capped.
    pub fn cap(&self, name: &str) -> Option<u32> {
        self.caps.get(name).copied()
    }

    /// Removes `name`.
    pub fn remove(&mut self, name: &str) -> Result<(), AuthError> {
        self.caps.remove(name);
        self.hashes
            .remove(name)
            .map(drop)
            .ok_or_else(|| AuthError::NoSuchUser(name.to_owned()))
    }

    /// The names, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.hashes.keys().map(String::as_str)
    }

    /// Whether there is a user `name`.
    pub fn contains(&self, name: &str) -> bool {
        self.hashes.contains_key(name)
    }
}

/// Whether `password` matches `hash` (argon2 compares in constant time).
fn matches(hash: &str, password: &str) -> bool {
    let matched = PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    });
    // The hash's 19 MiB of blocks were just freed, into this thread's arena, which glibc keeps
    // resident: give them back now, not at the next periodic trim.
    crate::sys::trim_heap();
    matched
}

/// An argon2id PHC string for `password` with a random salt.
fn hash(password: &str) -> Result<String, AuthError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| AuthError::Hash(e.to_string()))
}

/// The users file as the server sees it: read again when its modification time changes (checked
/// at most once a second), so `user add` and `user remove` apply without a restart.
#[derive(Debug)]
pub struct UserFile {
    path: PathBuf,
    /// A hash with the same parameters, checked for unknown names (its password does not matter:
    /// an unknown name never verifies).
    decoy: String,
    current: Mutex<Current>,
}

#[derive(Debug)]
struct Current {
    users: Users,
    modified: Option<SystemTime>,
    checked: Instant,
}

impl UserFile {
    /// Reads `path` (which must exist and hold valid lines).
    pub fn open(path: &Path) -> Result<Self, AuthError> {
        if !path.exists() {
            return Err(AuthError::File {
                action: "read",
                path: path.to_owned(),
                reason: std::io::ErrorKind::NotFound.into(),
            });
        }
        let users = Users::read(path)?;
        let decoy = hash("decoy")?;
        Ok(Self {
            path: path.to_owned(),
            decoy,
            current: Mutex::new(Current {
                users,
                modified: modified(path),
                checked: Instant::now(),
            }),
        })
    }

    /// Runs `f` on the users as of now, holding the lock (keep `f` short). A file made unreadable
    /// or invalid keeps the last good users (and says why in the log).
    fn with_users<R>(&self, f: impl FnOnce(&Users) -> R) -> R {
        let mut current = self.current.lock().unwrap_or_else(|e| e.into_inner());
        if current.checked.elapsed() >= RECHECK_EVERY {
            current.checked = Instant::now();
            let now = modified(&self.path);
            if now != current.modified {
                current.modified = now;
                match Users::read(&self.path) {
                    Ok(users) => {
                        log::info!("users file {} changed: re-read", self.path.display());
                        current.users = users;
                    }
                    Err(err) => log::warn!("{err}; keeping the users read before"),
                }
            }
        }
        f(&current.users)
    }

    /// Whether `password` is `name`'s (slow: run it off the workers). An unknown name costs the
    /// same work as a wrong password (the decoy hash is checked instead), so timing does not tell
    /// them apart.
    pub fn verify(&self, name: &str, password: &str) -> bool {
        let hash = self.stored(name);
        let known = hash.is_some();
        matches(hash.as_deref().unwrap_or(&self.decoy), password) && known
    }

    /// `name`'s stored password hash, if `name` is a user (to key what was verified against it).
    pub fn stored(&self, name: &str) -> Option<String> {
        self.with_users(|users| users.hashes.get(name).cloned())
    }

    /// Whether `name` is still a user.
    pub fn contains(&self, name: &str) -> bool {
        self.with_users(|users| users.contains(name))
    }

    /// `name`'s bit rate cap, kbit/s, if the operator set one.
    pub fn cap(&self, name: &str) -> Option<u32> {
        self.with_users(|users| users.cap(name))
    }
}

fn modified(path: &Path) -> Option<SystemTime> {
    fs::metadata(path).and_then(|m| m.modified()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        for good in ["alice", "a", "bob.smith", "x_y-z9", &"n".repeat(64)] {
            assert!(valid_name(good), "{good}");
        }
        for bad in ["", "a b", "a:b", "é", "../x", &"n".repeat(65), "a\n"] {
            assert!(!valid_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn a_user_added_is_written_read_back_verified_and_removed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("users");
        let mut users = Users::read(&path).unwrap();
        users.add("alice", "correct horse").unwrap();
        users.add("bob", "battery staple").unwrap();
        assert!(matches!(users.add("alice", "x"), Err(AuthError::Exists(_))));
        assert!(matches!(
            users.add("bad name", "x"),
            Err(AuthError::BadName(_))
        ));
        assert!(matches!(
            users.add("carol", ""),
            Err(AuthError::BadPassword(_))
        ));
        users.write(&path).unwrap();
        let mode = fs::metadata(&path).unwrap().permissions();
        assert_eq!(
            std::os::unix::fs::PermissionsExt::mode(&mode) & 0o777,
            0o600
        );
        let text = fs::read_to_string(&path).unwrap();
        assert!(text.contains("alice:$argon2id$"), "{text}");
        assert!(!text.contains("correct horse"));

        let file = UserFile::open(&path).unwrap();
        assert!(file.verify("alice", "correct horse"));
        assert!(!file.verify("alice", "battery staple"));
        assert!(!file.verify("nobody", "correct horse"));
        assert!(!file.verify("alice", ""));

        let mut users = Users::read(&path).unwrap();
        users.remove("alice").unwrap();
        assert!(matches!(
            users.remove("alice"),
            Err(AuthError::NoSuchUser(_))
        ));
        assert_eq!(users.names().collect::<Vec<_>>(), ["bob"]);
    }

    #[test]
    fn a_bad_line_names_its_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("users");
        fs::write(&path, "# comment\n\nalice:not-a-hash\n").unwrap();
        let err = Users::read(&path).unwrap_err().to_string();
        assert!(
            err.ends_with("users:3: not a user line (name:argon2id hash)"),
            "{err}"
        );
    }
}
