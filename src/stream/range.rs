//! The `Range` request header (RFC 9110 §14), parsed once into a list of byte ranges, and what the
//! server makes of that list for a file of a given length.
//!
//! `NamedFile` stays the negotiator (preconditions, `If-Range`, 206 with `Content-Range`, 416 with
//! `bytes */len`), but it answers some shapes badly: a malformed value gets 416 where RFC 9110 §14.2
//! lets a server ignore it (what browsers and nginx expect), several ranges get only the first, and
//! `bytes=-N` on an empty file overflows. So [`plan`] decides first, with the defences of §14.3
//! against ranges used as an attack: sorted, coalesced, capped in number, and never a response
//! larger than the file (the 800-range "killer" gets one plain 200).

use std::ops::RangeInclusive;

/// Most ranges one request may list; past it, the header is ignored (RFC 9110 §14.3).
pub(crate) const MAX_RANGES: usize = 64;

/// Ranges closer than this (bytes) are sent as one part: a part's own header costs about as much.
const COALESCE_GAP: u64 = 80;

/// One `int-range` or `suffix-range` of a `Range: bytes=` header, as the client wrote it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ByteRange {
    /// `first-last`, `first <= last`.
    FromTo(u64, u64),
    /// `first-`: from `first` to the end.
    From(u64),
    /// `-n`: the last `n` bytes.
    Last(u64),
}

/// A request's ranges: `None` without a `Range` header (or for another unit), else the byte ranges
/// in the client's order, or [`Malformed`].
pub(crate) type Ranges = Option<Result<Vec<ByteRange>, Malformed>>;

/// A `Range` value that is not a `ranges-specifier` (RFC 9110 §14.1.1); it is ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Malformed;

impl ByteRange {
    /// The bytes this range selects in a file of `len` bytes; `None` when it selects none
    /// (unsatisfiable, §14.1.1).
    pub(crate) fn bounds(self, len: u64) -> Option<RangeInclusive<u64>> {
        let last = len.checked_sub(1)?;
        match self {
            Self::FromTo(first, end) if first <= last => Some(first..=end.min(last)),
            Self::From(first) if first <= last => Some(first..=last),
            Self::Last(n) if n > 0 => Some(len.saturating_sub(n)..=last),
            _ => None,
        }
    }
}

/// Parses a `Range` header value: `None` without one or for a unit other than `bytes` (§14.2:
/// ignored), else the listed ranges in the client's order or [`Malformed`].
///
/// Grammar (§14.1.1): `bytes=` then a comma-separated list of `first-last`, `first-` or `-suffix`,
/// digits only, `first <= last`, optional whitespace around list items.
pub(crate) fn parse(header: Option<&[u8]>) -> Ranges {
    let value = std::str::from_utf8(header?).map_err(|_| Malformed);
    let Some((unit, set)) = value.as_ref().ok().and_then(|v| v.split_once('=')) else {
        return Some(Err(Malformed));
    };
    let unit = unit.trim();
    if !unit.eq_ignore_ascii_case("bytes") {
        return if is_token(unit) {
            None
        } else {
            Some(Err(Malformed))
        };
    }
    Some(
        set.split(',')
            .map(|spec| spec.trim_matches([' ', '\t']))
            .map(parse_spec)
            .collect::<Option<Vec<_>>>()
            .ok_or(Malformed),
    )
}

/// One `int-range` or `suffix-range` whose numbers fit in a `u64`.
fn parse_spec(spec: &str) -> Option<ByteRange> {
    let (first, last) = spec.split_once('-')?;
    let number = |s: &str| -> Option<u64> {
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    match (first.is_empty(), last.is_empty()) {
        (true, true) => None,
        (true, false) => number(last).map(ByteRange::Last),
        (false, true) => number(first).map(ByteRange::From),
        (false, false) => match (number(first)?, number(last)?) {
            (a, b) if a <= b => Some(ByteRange::FromTo(a, b)),
            _ => None,
        },
    }
}

/// An HTTP `token` (RFC 9110 §5.6.2): what a range unit must be.
fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// What to do with a request's ranges for a file of a given length.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Plan {
    /// Send the whole file: no `Range`, one that is ignored, or one not worth honouring.
    Whole,
    /// Let `NamedFile` read the header as it is: one range (206, or 416 if unsatisfiable), or
    /// several of which none is satisfiable (416).
    AsAsked,
    /// Ask `NamedFile` for this one range (several that coalesced into one).
    One(RangeInclusive<u64>),
    /// Several parts, sorted and apart: `NamedFile` checks the preconditions with the first, and a
    /// 206 from it means all of them go out as `multipart/byteranges`.
    Parts(Vec<RangeInclusive<u64>>),
}

/// Decides how to answer `ranges` (from [`parse`]) for a file of `len` bytes. `Parts` is only
/// returned when `fits` says the multipart response would not be larger than the file.
pub(crate) fn plan(
    ranges: Ranges,
    len: u64,
    fits: impl FnOnce(&[RangeInclusive<u64>]) -> bool,
) -> Plan {
    let ranges = match ranges {
        Some(Ok(ranges)) if len > 0 && ranges.len() <= MAX_RANGES => ranges,
        // Absent, ignored, malformed, too many, or an empty file with nothing to slice.
        _ => return Plan::Whole,
    };
    if ranges.len() == 1 {
        return Plan::AsAsked;
    }
    let parts = coalesce(ranges.iter().filter_map(|r| r.bounds(len)).collect());
    match parts.len() {
        0 => Plan::AsAsked,
        1 => Plan::One(parts[0].clone()),
        _ if fits(&parts) => Plan::Parts(parts),
        _ => Plan::Whole,
    }
}

/// Sorts ranges and merges those that overlap or lie within [`COALESCE_GAP`] of each other.
fn coalesce(mut ranges: Vec<RangeInclusive<u64>>) -> Vec<RangeInclusive<u64>> {
    ranges.sort_by_key(|r| *r.start());
    let mut out: Vec<RangeInclusive<u64>> = Vec::with_capacity(ranges.len());
    for range in ranges {
        match out.last_mut() {
            Some(last) if *range.start() <= last.end().saturating_add(COALESCE_GAP) => {
                *last = *last.start()..=*last.end().max(range.end());
            }
            _ => out.push(range),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ByteRange::*;

    #[test]
    fn every_shape_of_range_header_is_parsed() {
        let table: &[(&[u8], Ranges)] = &[
            (b"bytes=0-1", Some(Ok(vec![FromTo(0, 1)]))),
            (b"bytes=0-", Some(Ok(vec![From(0)]))),
            (b"bytes=-500", Some(Ok(vec![Last(500)]))),
            (b"BYTES=10-19", Some(Ok(vec![FromTo(10, 19)]))),
            (b"bytes= 5-9 ", Some(Ok(vec![FromTo(5, 9)]))),
            (
                b"bytes=18446744073709551615-",
                Some(Ok(vec![From(u64::MAX)])),
            ),
            (b"bytes=0-0,2-3", Some(Ok(vec![FromTo(0, 0), FromTo(2, 3)]))),
            (b"bytes=0-1, 5-", Some(Ok(vec![FromTo(0, 1), From(5)]))),
            (b"items=0-1", None),
            (b"bytes=", Some(Err(Malformed))),
            (b"bytes", Some(Err(Malformed))),
            (b"bytes=-", Some(Err(Malformed))),
            (b"bytes=5-1", Some(Err(Malformed))),
            (b"bytes=a-b", Some(Err(Malformed))),
            (b"bytes=0x10-", Some(Err(Malformed))),
            (b"bytes=1-2-3", Some(Err(Malformed))),
            (b"bytes=-5-", Some(Err(Malformed))),
            (b"bytes=+1-2", Some(Err(Malformed))),
            (b"bytes=0-1,", Some(Err(Malformed))),
            (b"bytes=,0-1", Some(Err(Malformed))),
            (b"bytes=99999999999999999999-", Some(Err(Malformed))),
            (b"bytes=0-99999999999999999999", Some(Err(Malformed))),
            (b"=0-1", Some(Err(Malformed))),
            (b"by tes=0-1", Some(Err(Malformed))),
            (b"bytes=\xff-1", Some(Err(Malformed))),
        ];
        for (value, want) in table {
            assert_eq!(
                &parse(Some(value)),
                want,
                "{:?}",
                String::from_utf8_lossy(value)
            );
        }
        assert_eq!(parse(None), None);
    }

    #[test]
    fn bounds_follow_rfc_9110_for_every_kind_of_range() {
        let table = [
            (FromTo(0, 0), 10, Some(0..=0)),
            (FromTo(5, 100), 10, Some(5..=9)),
            (FromTo(10, 20), 10, None),
            (From(9), 10, Some(9..=9)),
            (From(10), 10, None),
            (Last(3), 10, Some(7..=9)),
            (Last(30), 10, Some(0..=9)),
            (Last(0), 10, None),
            (Last(5), 0, None),
            (From(0), 0, None),
        ];
        for (range, len, want) in table {
            assert_eq!(range.bounds(len), want, "{range:?} of {len}");
        }
    }

    fn plan_of(header: &str, len: u64) -> Plan {
        plan(parse(Some(header.as_bytes())), len, |_| true)
    }

    #[test]
    fn plans_sort_coalesce_and_cap_what_they_send() {
        let table = [
            ("bytes=0-9", 100, Plan::AsAsked),
            ("bytes=200-", 100, Plan::AsAsked),
            ("bytes=0-9", 0, Plan::Whole),
            ("bytes=x", 100, Plan::Whole),
            ("items=1-2", 100, Plan::Whole),
            ("bytes=500-600,700-", 100, Plan::AsAsked),
            ("bytes=0-9,5-19", 1000, Plan::One(0..=19)),
            ("bytes=0-9,50-59", 1000, Plan::One(0..=59)),
            (
                "bytes=0-9,500-509",
                1000,
                Plan::Parts(vec![0..=9, 500..=509]),
            ),
            (
                "bytes=900-909,0-9",
                1000,
                Plan::Parts(vec![0..=9, 900..=909]),
            ),
            (
                "bytes=-10,0-9,2000-",
                1000,
                Plan::Parts(vec![0..=9, 990..=999]),
            ),
        ];
        for (header, len, want) in table {
            assert_eq!(plan_of(header, len), want, "{header} of {len}");
        }
        let killer = format!("bytes={}", vec!["0-"; MAX_RANGES + 1].join(","));
        assert_eq!(plan_of(&killer, 1000), Plan::Whole);
        let too_big = plan(parse(Some(b"bytes=0-9,500-509")), 1000, |_| false);
        assert_eq!(too_big, Plan::Whole);
    }

    proptest::proptest! {
        /// Any well-formed single `first-last` with `first <= last` parses to itself; swapping the
        /// ends of a non-empty range makes it malformed.
        #[test]
        fn well_formed_single_ranges_pass_and_reversed_ones_do_not(a in 0u64..u64::MAX, len in 1u64..1_000_000) {
            let b = a.saturating_add(len);
            let single = format!("bytes={a}-{b}");
            proptest::prop_assert_eq!(parse(Some(single.as_bytes())), Some(Ok(vec![FromTo(a, b)])));
            if a < b {
                let reversed = format!("bytes={b}-{a}");
                proptest::prop_assert_eq!(parse(Some(reversed.as_bytes())), Some(Err(Malformed)));
            }
        }

        /// Parsing never panics; a value that starts with `bytes=` is never taken for another unit.
        #[test]
        fn arbitrary_bytes_never_panic(tail in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..64)) {
            let mut value = b"bytes=".to_vec();
            value.extend(tail);
            proptest::prop_assert!(parse(Some(&value)).is_some());
        }

        /// Planned parts are sorted, apart by more than the coalescing gap, inside the file, and
        /// cover every byte any satisfiable requested range asked for.
        #[test]
        fn parts_are_sorted_disjoint_and_cover_every_request(
            len in 1u64..100_000,
            specs in proptest::collection::vec((0u64..120_000, 0u64..5_000, 0u8..3), 2..10),
        ) {
            let ranges: Vec<ByteRange> = specs.iter().map(|&(a, n, kind)| match kind {
                0 => FromTo(a, a + n),
                1 => From(a),
                _ => Last(n),
            }).collect();
            let parts = match plan(Some(Ok(ranges.clone())), len, |_| true) {
                Plan::Parts(parts) => parts,
                Plan::One(one) => vec![one],
                Plan::AsAsked => {
                    proptest::prop_assert!(ranges.iter().all(|r| r.bounds(len).is_none()));
                    return Ok(());
                }
                Plan::Whole => unreachable!("at most 10 ranges, always fit"),
            };
            for pair in parts.windows(2) {
                proptest::prop_assert!(*pair[1].start() > pair[0].end() + COALESCE_GAP);
            }
            proptest::prop_assert!(parts.iter().all(|p| p.start() <= p.end() && *p.end() < len));
            for wanted in ranges.iter().filter_map(|r| r.bounds(len)) {
                proptest::prop_assert!(parts.iter().any(|p| p.start() <= wanted.start() && wanted.end() <= p.end()));
            }
        }
    }
}
