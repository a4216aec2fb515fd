//! Signed stream links, like nginx's `secure_link` or a CDN's signed URLs: a track's link carries
//! an expiry and an HMAC-SHA256 of the track's name and that expiry under a secret, so any replica
//! holding the secret can serve it without a session, and the link opens nothing but that track
//! until then.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac as _};
use sha2::Sha256;

/// The query parameters a signed link adds to `/audio/<name>`: `expires` (seconds since the Unix
/// epoch) and `signature` (base64url, no padding).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedLink {
    /// When the link stops working, seconds since the Unix epoch.
    pub expires: u64,
    /// The HMAC of the name and the expiry.
    pub signature: String,
}

/// Why a signed link is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    /// Its time is up.
    #[error("this link has expired")]
    Expired,
    /// The signature does not match this name and expiry (forged, tampered with, or made for
    /// another track).
    #[error("this link is not valid")]
    Forged,
}

/// Signs and checks links with one secret.
#[derive(Clone)]
pub struct LinkSigner {
    mac: Hmac<Sha256>,
}

impl std::fmt::Debug for LinkSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LinkSigner(..)")
    }
}

impl LinkSigner {
    /// A signer keyed with `secret`.
    pub fn new(secret: &[u8]) -> Self {
        Self {
            mac: Hmac::new_from_slice(secret).expect("HMAC takes keys of any length"),
        }
    }

    fn mac(&self, name: &str, expires: u64) -> Hmac<Sha256> {
        let mut mac = self.mac.clone();
        // The expiry is digits only and comes last, so no other name and expiry give these bytes.
        mac.update(name.as_bytes());
        mac.update(b"\n");
        mac.update(expires.to_string().as_bytes());
        mac
    }

    /// A link to `name` that works until `expires`.
    pub fn sign(&self, name: &str, expires: u64) -> SignedLink {
        let tag = self.mac(name, expires).finalize().into_bytes();
        SignedLink {
            expires,
            signature: URL_SAFE_NO_PAD.encode(tag),
        }
    }

    /// Whether `link` opens `name` at `now` (seconds since the Unix epoch). The signature is
    /// compared in constant time; an expired link is refused whatever its signature.
    pub fn verify(&self, name: &str, link: &SignedLink, now: u64) -> Result<(), LinkError> {
        let tag = URL_SAFE_NO_PAD
            .decode(&link.signature)
            .map_err(|_| LinkError::Forged)?;
        self.mac(name, link.expires)
            .verify_slice(&tag)
            .map_err(|_| LinkError::Forged)?;
        if now >= link.expires {
            return Err(LinkError::Expired);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_opens_its_track_until_it_expires_and_nothing_else() {
        let signer = LinkSigner::new(b"a secret of some length, for tests");
        let link = signer.sign("live/encore.mp3", 2_000);
        assert_eq!(signer.verify("live/encore.mp3", &link, 1_999), Ok(()));
        assert_eq!(
            signer.verify("live/encore.mp3", &link, 2_000),
            Err(LinkError::Expired)
        );
        // Another track, another expiry, another secret, a tampered signature: all forged.
        assert_eq!(signer.verify("other.mp3", &link, 0), Err(LinkError::Forged));
        let later = SignedLink {
            expires: 3_000,
            ..link.clone()
        };
        assert_eq!(
            signer.verify("live/encore.mp3", &later, 0),
            Err(LinkError::Forged)
        );
        let other = LinkSigner::new(b"another secret");
        assert_eq!(
            other.verify("live/encore.mp3", &link, 0),
            Err(LinkError::Forged)
        );
        let mut tampered = link.clone();
        tampered.signature.replace_range(
            0..1,
            if tampered.signature.starts_with('A') {
                "B"
            } else {
                "A"
            },
        );
        assert_eq!(
            signer.verify("live/encore.mp3", &tampered, 0),
            Err(LinkError::Forged)
        );
        for garbage in ["", "!!!", "AAAA"] {
            let bad = SignedLink {
                signature: garbage.into(),
                ..link.clone()
            };
            assert_eq!(
                signer.verify("live/encore.mp3", &bad, 0),
                Err(LinkError::Forged)
            );
        }
        // An expired forgery says forged, not expired: nothing is learnt about real links.
        assert_eq!(
            signer.verify("other.mp3", &link, 5_000),
            Err(LinkError::Forged)
        );
    }

    #[test]
    fn names_and_expiries_cannot_be_shifted_into_each_other() {
        let signer = LinkSigner::new(b"k");
        let link = signer.sign("a\n1", 23);
        assert_eq!(
            signer.verify(
                "a",
                &SignedLink {
                    expires: 123,
                    ..link
                },
                0
            ),
            Err(LinkError::Forged)
        );
    }
}
