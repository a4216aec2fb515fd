//! What each listener is playing now, as their apps last said: kept in memory by the replica that
//! heard it (not shared, not kept over a restart), for the Subsonic API's `getNowPlaying`.
//! One entry per listener, forgotten ten minutes after it was said.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long an entry is shown after the app last said it.
const FORGET_AFTER: Duration = Duration::from_secs(10 * 60);

/// One listener's entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Playing {
    /// Who.
    pub user: String,
    /// The track's id.
    pub track: String,
    /// The app that said it (Subsonic's `c`).
    pub client: String,
    /// When it was said.
    pub since: Instant,
}

/// Every listener's entry.
#[derive(Debug, Default)]
pub struct NowPlaying(Mutex<HashMap<String, Playing>>);

impl NowPlaying {
    /// `user` plays `track` in `client`, from now.
    pub fn set(&self, user: &str, track: &str, client: &str) {
        let mut all = self.0.lock().unwrap_or_else(|e| e.into_inner());
        all.retain(|_, entry| entry.since.elapsed() < FORGET_AFTER);
        let entry = Playing {
            user: user.to_owned(),
            track: track.to_owned(),
            client: client.to_owned(),
            since: Instant::now(),
        };
        all.insert(user.to_owned(), entry);
    }

    /// The entries of the last ten minutes, the latest first.
    pub fn list(&self) -> Vec<Playing> {
        let all = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let mut list: Vec<Playing> = all
            .values()
            .filter(|entry| entry.since.elapsed() < FORGET_AFTER)
            .cloned()
            .collect();
        list.sort_by_key(|entry| std::cmp::Reverse(entry.since));
        list
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_entry_per_listener_the_latest_first() {
        let now = NowPlaying::default();
        now.set("alice", "tr-1", "app");
        now.set("bob", "tr-2", "app");
        now.set("alice", "tr-3", "other");
        let list = now.list();
        assert_eq!(list.len(), 2);
        assert_eq!(
            (list[0].user.as_str(), list[0].track.as_str()),
            ("alice", "tr-3")
        );
        assert_eq!(list[1].user, "bob");
    }
}
