//! Login attempts per client address: a few at once, then one every few seconds (governor's
//! GCRA), so guessing passwords from one address is slow while a person who mistyped twice is not
//! held up.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// Limits attempts per address.
#[derive(Debug)]
pub struct Throttle {
    limiter: DefaultKeyedRateLimiter<IpAddr>,
    clock: DefaultClock,
}

impl Throttle {
    /// `burst` attempts at once, then one per `every`.
    pub fn new(burst: u32, every: Duration) -> Self {
        let quota = Quota::with_period(every)
            .expect("a period above zero")
            .allow_burst(NonZeroU32::new(burst.max(1)).expect("at least one"));
        Self {
            limiter: RateLimiter::keyed(quota),
            clock: DefaultClock::default(),
        }
    }

    /// Takes one attempt for `client`: `Err(wait)` when it has none left, with how long until the
    /// next one.
    pub fn attempt(&self, client: IpAddr) -> Result<(), Duration> {
        // Forget addresses whose budget is full again, so the table does not grow forever.
        if self.limiter.len() > 10_000 {
            self.limiter.retain_recent();
        }
        self.limiter
            .check_key(&client)
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_gets_its_burst_then_waits_and_others_are_unaffected() {
        let throttle = Throttle::new(3, Duration::from_secs(10));
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        for _ in 0..3 {
            assert_eq!(throttle.attempt(a), Ok(()));
        }
        let wait = throttle.attempt(a).unwrap_err();
        assert!(
            wait > Duration::from_secs(5) && wait <= Duration::from_secs(10),
            "{wait:?}"
        );
        assert_eq!(throttle.attempt(b), Ok(()));
    }
}
