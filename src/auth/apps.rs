//! What apps sign in with instead of a login password, and the cryptography of it (all from
//! RustCrypto crates): an API key is 32 random bytes in hex, kept as its SHA-256; an app password
//! is 12 random bytes in hex, kept sealed with AES-256-GCM (bound to its user), because token
//! authentication (`t` = MD5 of the secret and a salt `s`) needs the secret itself.
//!
//! The sealing key is derived (HMAC-SHA256) from `--session-key-file` when one is given (replicas
//! share it), else from a key file beside the users file (`<users>.key`, made on first use,
//! readable by its owner only).

use std::path::{Path, PathBuf};

use aes_gcm::aead::{Aead as _, KeyInit as _, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac as _};
use md5::{Digest as _, Md5};
use sha2::Sha256;
use subtle::ConstantTimeEq as _;

use super::AuthError;

fn random_hex(bytes: usize) -> String {
    let mut random = vec![0u8; bytes];
    getrandom::fill(&mut random).expect("the OS has a random source");
    hex::encode(random)
}

/// A new API key.
pub fn new_api_key() -> String {
    random_hex(32)
}

/// A new app password.
pub fn new_app_password() -> String {
    random_hex(12)
}

/// A new API key and what is kept of it.
pub fn make_api_key() -> (String, String) {
    let key = new_api_key();
    let hash = key_hash(&key);
    (key, hash)
}

/// What is kept of an API key: its SHA-256, in hex.
pub fn key_hash(key: &str) -> String {
    hex::encode(<Sha256 as sha2::Digest>::digest(key.as_bytes()))
}

/// Whether `token` is the MD5 of `secret` followed by `salt` (Subsonic's token authentication).
pub fn token_matches(secret: &str, salt: &str, token: &str) -> bool {
    let mut md5 = Md5::new();
    md5.update(secret.as_bytes());
    md5.update(salt.as_bytes());
    let expected = hex::encode(md5.finalize());
    expected
        .as_bytes()
        .ct_eq(token.to_ascii_lowercase().as_bytes())
        .into()
}

/// Seals and opens app passwords.
pub struct Sealer(Aes256Gcm);

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer")
    }
}

impl Sealer {
    /// The sealer of the key material `material`.
    pub fn new(material: &[u8]) -> Self {
        let mut mac = <Hmac<Sha256> as hmac::Mac>::new_from_slice(material)
            .expect("HMAC takes keys of any length");
        mac.update(b"audio-streamer app passwords v1");
        let key = mac.finalize().into_bytes();
        Self(Aes256Gcm::new_from_slice(&key).expect("32 bytes"))
    }

    /// The sealer of `session_key_file`'s key if given, else of the key file beside `users`
    /// (made now if there is none).
    pub fn open(users: &Path, session_key_file: Option<&Path>) -> Result<Self, AuthError> {
        let file = |action, path: &Path, reason| AuthError::File {
            action,
            path: path.to_owned(),
            reason,
        };
        if let Some(path) = session_key_file {
            let material = std::fs::read(path).map_err(|e| file("read", path, e))?;
            return Ok(Self::new(&material));
        }
        let path = key_file(users);
        match std::fs::read(&path) {
            Ok(material) if material.len() >= 32 => Ok(Self::new(&material)),
            Ok(_) => Err(AuthError::ShortKey(path)),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                let mut material = vec![0u8; 64];
                getrandom::fill(&mut material).expect("the OS has a random source");
                write_private(&path, &material).map_err(|e| file("write", &path, e))?;
                Ok(Self::new(&material))
            }
            Err(err) => Err(file("read", &path, err)),
        }
    }

    /// A new app password for `user`, and what is kept of it (sealed).
    pub fn make_app_password(&self, user: &str) -> (String, String) {
        let secret = new_app_password();
        let sealed = self.seal(user, &secret);
        (secret, sealed)
    }

    /// `secret`, sealed for `user`: base64 of a random nonce and the ciphertext.
    pub fn seal(&self, user: &str, secret: &str) -> String {
        let mut nonce = [0u8; 12];
        getrandom::fill(&mut nonce).expect("the OS has a random source");
        let payload = Payload {
            msg: secret.as_bytes(),
            aad: user.as_bytes(),
        };
        let sealed = self
            .0
            .encrypt(Nonce::from_slice(&nonce), payload)
            .expect("AES-GCM seals any message this short");
        STANDARD.encode([&nonce[..], &sealed].concat())
    }

    /// The secret `sealed` holds for `user`; `None` if it was not sealed for them by this key.
    pub fn open_secret(&self, user: &str, sealed: &str) -> Option<String> {
        let bytes = STANDARD.decode(sealed).ok()?;
        let (nonce, ciphertext) = bytes.split_at_checked(12)?;
        let payload = Payload {
            msg: ciphertext,
            aad: user.as_bytes(),
        };
        let secret = self.0.decrypt(Nonce::from_slice(nonce), payload).ok()?;
        String::from_utf8(secret).ok()
    }
}

/// The key file kept beside a users file.
pub fn key_file(users: &Path) -> PathBuf {
    let mut name = users.file_name().unwrap_or_default().to_owned();
    name.push(".key");
    users.with_file_name(name)
}

/// Writes `bytes` to a new file at `path` that only its owner may read.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_secret_opens_only_for_its_user_under_its_key() {
        let sealer = Sealer::new(&[7; 64]);
        let sealed = sealer.seal("alice", "s3cret");
        assert!(!sealed.contains("s3cret"));
        assert_eq!(
            sealer.open_secret("alice", &sealed).as_deref(),
            Some("s3cret")
        );
        assert_eq!(sealer.open_secret("bob", &sealed), None);
        assert_eq!(Sealer::new(&[8; 64]).open_secret("alice", &sealed), None);
        assert_eq!(sealer.open_secret("alice", "not base64!"), None);
        assert_ne!(
            sealer.seal("alice", "s3cret"),
            sealed,
            "a fresh nonce each time"
        );
    }

    #[test]
    fn tokens_are_md5_of_the_secret_and_the_salt() {
        // The Subsonic documentation's example: password "sesame", salt "c19b2d".
        assert!(token_matches(
            "sesame",
            "c19b2d",
            "26719a1196d2a940705a59634eb18eab"
        ));
        assert!(token_matches(
            "sesame",
            "c19b2d",
            "26719A1196D2A940705A59634EB18EAB"
        ));
        assert!(!token_matches(
            "sesame",
            "c19b2e",
            "26719a1196d2a940705a59634eb18eab"
        ));
        assert_eq!(key_hash("abc").len(), 64);
        assert_eq!(new_api_key().len(), 64);
    }

    #[test]
    fn the_key_file_is_made_once_beside_the_users_file() {
        let dir = tempfile::tempdir().unwrap();
        let users = dir.path().join("users");
        let first = Sealer::open(&users, None).unwrap();
        let sealed = first.seal("alice", "x");
        let again = Sealer::open(&users, None).unwrap();
        assert_eq!(again.open_secret("alice", &sealed).as_deref(), Some("x"));
        let meta = std::fs::metadata(key_file(&users)).unwrap();
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    }
}
