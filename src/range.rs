//! What a `Range` request header asks for, decided before `NamedFile` sees it (RFC 9110 §14).
//!
//! `NamedFile` answers a single byte range well: 206 with `Content-Range`, or 416 with
//! `bytes */len`. It answers the other shapes badly: a malformed value gets 416 (RFC 9110 §14.2
//! lets a server ignore it, which is what browsers and nginx expect), and several ranges get only
//! the first one. So the server lets through only one well-formed byte range and ignores every
//! other `Range` value, answering 200 with the whole file. That also rules out amplification: a
//! request for hundreds of overlapping ranges costs exactly one plain download.

/// How the server treats a request's `Range` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeRequest {
    /// No header, or a unit other than `bytes`: the whole file (§14.2: unknown units are ignored).
    None,
    /// One well-formed byte range: `NamedFile` answers 206 or 416.
    Single,
    /// Several ranges: ignored, the whole file is sent (no `multipart/byteranges`).
    Multiple,
    /// Not a valid `ranges-specifier` (§14.1.1): ignored, the whole file is sent.
    Invalid,
}

impl RangeRequest {
    /// Whether the header should be dropped before `NamedFile` reads it.
    pub fn ignore(self) -> bool {
        matches!(self, Self::Multiple | Self::Invalid)
    }
}

/// Classifies a `Range` header value (`None` when the request has none).
///
/// Grammar (RFC 9110 §14.1.1): `bytes=` then a comma-separated list of `first-last`, `first-` or
/// `-suffix`, with digits only, `first <= last`, optional whitespace around list items.
pub fn classify(header: Option<&[u8]>) -> RangeRequest {
    let Some(header) = header else {
        return RangeRequest::None;
    };
    let Ok(value) = std::str::from_utf8(header) else {
        return RangeRequest::Invalid;
    };
    let Some((unit, set)) = value.split_once('=') else {
        return RangeRequest::Invalid;
    };
    if !unit.trim().eq_ignore_ascii_case("bytes") {
        return if is_token(unit.trim()) {
            RangeRequest::None
        } else {
            RangeRequest::Invalid
        };
    }
    let specs: Vec<&str> = set
        .split(',')
        .map(|s| s.trim_matches([' ', '\t']))
        .collect();
    if specs.iter().any(|spec| !valid_spec(spec)) {
        return RangeRequest::Invalid;
    }
    match specs.len() {
        1 => RangeRequest::Single,
        _ => RangeRequest::Multiple,
    }
}

/// One `int-range` or `suffix-range` whose numbers fit in a `u64`.
fn valid_spec(spec: &str) -> bool {
    let Some((first, last)) = spec.split_once('-') else {
        return false;
    };
    let number = |s: &str| -> Option<u64> {
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    match (first.is_empty(), last.is_empty()) {
        (true, true) => false,
        (true, false) => number(last).is_some(),
        (false, true) => number(first).is_some(),
        (false, false) => matches!((number(first), number(last)), (Some(a), Some(b)) if a <= b),
    }
}

/// An HTTP `token` (RFC 9110 §5.6.2): what a range unit must be.
fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use RangeRequest::*;

    #[test]
    fn every_shape_of_range_header_is_classified() {
        let table: &[(&[u8], RangeRequest)] = &[
            (b"bytes=0-1", Single),
            (b"bytes=0-", Single),
            (b"bytes=-500", Single),
            (b"BYTES=10-19", Single),
            (b"bytes= 5-9 ", Single),
            (b"bytes=18446744073709551615-", Single),
            (b"bytes=0-0,2-3", Multiple),
            (b"bytes=0-1, 5-", Multiple),
            (b"items=0-1", None),
            (b"bytes=", Invalid),
            (b"bytes", Invalid),
            (b"bytes=-", Invalid),
            (b"bytes=5-1", Invalid),
            (b"bytes=a-b", Invalid),
            (b"bytes=0x10-", Invalid),
            (b"bytes=1-2-3", Invalid),
            (b"bytes=-5-", Invalid),
            (b"bytes=+1-2", Invalid),
            (b"bytes=0-1,", Invalid),
            (b"bytes=,0-1", Invalid),
            (b"bytes=99999999999999999999-", Invalid),
            (b"bytes=0-99999999999999999999", Invalid),
            (b"=0-1", Invalid),
            (b"by tes=0-1", Invalid),
            (b"bytes=\xff-1", Invalid),
        ];
        for (value, want) in table {
            assert_eq!(
                classify(Some(value)),
                *want,
                "{:?}",
                String::from_utf8_lossy(value)
            );
        }
        assert_eq!(classify(Option::None), None);
    }

    proptest::proptest! {
        /// Any well-formed single `first-last` with `first <= last` is `Single`; swapping the ends
        /// of a non-empty range makes it `Invalid`.
        #[test]
        fn well_formed_single_ranges_pass_and_reversed_ones_do_not(a in 0u64..u64::MAX, len in 1u64..1_000_000) {
            let b = a.saturating_add(len);
            let single = format!("bytes={a}-{b}");
            proptest::prop_assert_eq!(classify(Some(single.as_bytes())), Single);
            if a < b {
                let reversed = format!("bytes={b}-{a}");
                proptest::prop_assert_eq!(classify(Some(reversed.as_bytes())), Invalid);
            }
        }

        /// Classification never panics, and only the three documented outcomes occur for a
        /// value that starts with `bytes=`.
        #[test]
        fn arbitrary_bytes_never_panic(tail in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..64)) {
            let mut value = b"bytes=".to_vec();
            value.extend(tail);
            let class = classify(Some(&value));
            proptest::prop_assert!(matches!(class, Single | Multiple | Invalid));
        }
    }
}
