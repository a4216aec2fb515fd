//! Name and password pairs verified lately, so that an app sending its password with each of its
//! hundreds of requests (the Subsonic API's way) costs one argon2 check, not one per request.
//!
//! A pair is kept only as an HMAC tag under a key made for this run, together with the user's
//! stored hash: nothing here reveals or can be turned back into a password, and a changed
//! password (a new hash) no longer matches. Kept for [`KEPT`], at most [`MOST`] pairs.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac as _};
use sha2::Sha256;

/// How long a verified pair is trusted without another check.
const KEPT: Duration = Duration::from_secs(15 * 60);
/// Most pairs kept (all are dropped when full: the next requests check again).
const MOST: usize = 10_000;

/// The pairs verified lately.
#[derive(Debug)]
pub struct Verified {
    key: [u8; 32],
    seen: Mutex<HashMap<[u8; 32], Instant>>,
}

impl Verified {
    /// An empty set under a fresh random key.
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).expect("the OS has a random source");
        Self {
            key,
            seen: Mutex::new(HashMap::new()),
        }
    }

    fn tag(&self, name: &str, stored: &str, password: &str) -> [u8; 32] {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("any key length");
        for part in [name, stored, password] {
            mac.update(&(part.len() as u64).to_le_bytes());
            mac.update(part.as_bytes());
        }
        let mut tag = [0u8; 32];
        tag.copy_from_slice(&mac.finalize().into_bytes());
        tag
    }

    /// Whether `password` was verified for `name`, whose stored hash is `stored`, within [`KEPT`].
    pub fn knows(&self, name: &str, stored: &str, password: &str) -> bool {
        let tag = self.tag(name, stored, password);
        let seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        seen.get(&tag).is_some_and(|at| at.elapsed() < KEPT)
    }

    /// Records that `password` verified for `name` (stored hash `stored`).
    pub fn remember(&self, name: &str, stored: &str, password: &str) {
        let tag = self.tag(name, stored, password);
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        if seen.len() >= MOST {
            seen.retain(|_, at| at.elapsed() < KEPT);
            if seen.len() >= MOST {
                seen.clear();
            }
        }
        seen.insert(tag, Instant::now());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pair_is_known_only_as_verified_and_with_the_same_stored_hash() {
        let verified = Verified::new();
        assert!(!verified.knows("alice", "$h1", "secret"));
        verified.remember("alice", "$h1", "secret");
        assert!(verified.knows("alice", "$h1", "secret"));
        assert!(!verified.knows("alice", "$h1", "Secret"));
        assert!(
            !verified.knows("alice", "$h2", "secret"),
            "a new password hash"
        );
        assert!(
            !verified.knows("alic", "e$h1", "secret"),
            "parts are delimited"
        );
        assert!(
            !Verified::new().knows("alice", "$h1", "secret"),
            "another run's key"
        );
    }
}
