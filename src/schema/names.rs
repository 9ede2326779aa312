//! Finding a name among a fixed set of names: the keys of a request group
//! and the values of an enum, looked up for every key and every enum value
//! of every request. An open-addressing table that holds each name's
//! first and last words, with an inlined hash: a general hash map, and
//! `memcmp` for every comparison, were a fifth of decoding a request.

/// Names, each with a number (its payload), found by hash. A place holds
/// the name's length and its first and last eight bytes, so a key of up to
/// 16 bytes is matched without reading the name itself; only a longer one
/// is compared with the name in full.
#[derive(Debug, Clone, Default)]
pub(crate) struct Names {
    /// At least twice as many places as names, so a search always meets
    /// an empty one.
    table: Box<[Place]>,
    /// The names longer than 16 bytes, by [`Place::long`].
    long: Box<[Box<str>]>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Place {
    /// The name's length, or [`EMPTY`].
    len: u32,
    payload: u32,
    /// Where the name is in [`Names::long`], when it is longer than 16 bytes.
    long: u32,
    words: Words,
}

const EMPTY: u32 = u32::MAX;

/// The words a name is hashed and first compared by: all of its bytes when
/// it has at most 16.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Words(u64, u64);

impl Words {
    #[inline(always)]
    fn of(bytes: &[u8]) -> Words {
        let n = bytes.len();
        if n <= 8 {
            Words(short(bytes), 0)
        } else {
            Words(load(bytes, 0, 8), load(bytes, n - 8, 8))
        }
    }

    #[inline(always)]
    fn hash(self, len: usize) -> usize {
        let mix = |h: u64, w: u64| (h.rotate_left(5) ^ w).wrapping_mul(K);
        let h = mix(mix(len as u64, self.0), self.1);
        (h ^ (h >> 29)) as usize
    }
}

impl Names {
    /// The table of `names` and their payloads; a repeated name keeps its
    /// first payload. Names of `u32::MAX` bytes or more are left out.
    pub fn new<'a>(names: impl IntoIterator<Item = (&'a str, u32)>) -> Names {
        let names: Vec<(&str, u32)> = names.into_iter().collect();
        let size = (names.len() * 2).next_power_of_two().max(4);
        let mask = size - 1;
        let empty = Place {
            len: EMPTY,
            payload: 0,
            long: 0,
            words: Words(0, 0),
        };
        let mut table = vec![empty; size];
        let mut long: Vec<Box<str>> = Vec::new();
        for (name, payload) in names {
            let Ok(len) = u32::try_from(name.len()) else {
                continue;
            };
            if len == EMPTY {
                continue;
            }
            let words = Words::of(name.as_bytes());
            let mut at = words.hash(name.len());
            // The table has more places than names: an empty one is met.
            while let Some(place) = table.get_mut(at & mask) {
                if place.len == EMPTY {
                    let at_long = u32::try_from(long.len()).unwrap_or(u32::MAX);
                    if len > 16 {
                        long.push(name.into());
                    }
                    *place = Place {
                        len,
                        payload,
                        long: at_long,
                        words,
                    };
                    break;
                }
                // Already there: the first payload stays.
                if place.len == len
                    && place.words == words
                    && (len <= 16 || long.get(place.long as usize).is_some_and(|l| **l == *name))
                {
                    break;
                }
                at = at.wrapping_add(1);
            }
        }
        Names {
            table: table.into_boxed_slice(),
            long: long.into_boxed_slice(),
        }
    }

    /// The payload of `key`, if it is one of the names.
    #[inline]
    pub fn find(&self, key: &str) -> Option<u32> {
        let mask = self.table.len().checked_sub(1)?;
        let bytes = key.as_bytes();
        let words = Words::of(bytes);
        let len = u32::try_from(bytes.len()).ok()?;
        let mut at = words.hash(bytes.len());
        loop {
            let place = self.table.get(at & mask)?;
            if place.len == EMPTY {
                return None;
            }
            if place.len == len
                && place.words == words
                && (len <= 16
                    || self
                        .long
                        .get(place.long as usize)
                        .is_some_and(|l| **l == *key))
            {
                return Some(place.payload);
            }
            at = at.wrapping_add(1);
        }
    }
}

const K: u64 = 0x517c_c1b7_2722_0a95;

/// A word made of every byte of `bytes` when there are at most eight
/// (and of some of them otherwise): the same words for two texts of one
/// length only if they are the same text.
#[inline(always)]
fn short(bytes: &[u8]) -> u64 {
    let n = bytes.len();
    if n >= 4 {
        // Two four-byte loads that overlap when `n` < 8.
        load(bytes, 0, 4) | load(bytes, n.min(8) - 4, 4) << 32
    } else {
        let byte = |i: usize| u64::from(bytes.get(i).copied().unwrap_or(0));
        byte(0) | byte(n / 2) << 8 | byte(n.wrapping_sub(1)) << 16
    }
}

/// The `width` (4 or 8) bytes at `at`, little-endian; 0 past the end.
#[inline(always)]
fn load(bytes: &[u8], at: usize, width: usize) -> u64 {
    match width {
        4 => bytes
            .get(at..at + 4)
            .and_then(|b| b.try_into().ok())
            .map_or(0, |b| u64::from(u32::from_le_bytes(b))),
        _ => bytes
            .get(at..at + 8)
            .and_then(|b| b.try_into().ok())
            .map_or(0, u64::from_le_bytes),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn table(names: &[&str]) -> Names {
        Names::new(names.iter().copied().zip(0..))
    }

    #[test]
    fn every_name_is_found_at_its_first_place_and_nothing_else_is() {
        let names = [
            "a",
            "",
            "paid_amount",
            "installments",
            "installments_billed",
            "paid_amount",
            "abcdefgh",
            "abcdefgi",
            // Same length, first and last eight bytes: told apart by the middle.
            "abcdefgh_XX_ijklmnop",
            "abcdefgh_YY_ijklmnop",
        ];
        let t = table(&names);
        for (i, n) in names.iter().enumerate() {
            let first = names.iter().position(|m| m == n).unwrap() as u32;
            assert_eq!(t.find(n), Some(first), "{n} at {i}");
        }
        for other in [
            "b",
            "paid_amounT",
            "installment",
            "abcdefghi",
            "abcdefg",
            "abcdefgh_ZZ_ijklmnop",
        ] {
            assert_eq!(t.find(other), None, "{other}");
        }
        assert_eq!(Names::default().find("a"), None);
    }

    proptest! {
        #[test]
        fn found_exactly_when_listed(
            names in prop::collection::vec("[a-c_]{0,20}", 0..40),
            key in "[a-c_]{0,20}",
        ) {
            let refs: Vec<&str> = names.iter().map(String::as_str).collect();
            let t = table(&refs);
            let found = t.find(&key);
            prop_assert_eq!(found, refs.iter().position(|n| *n == key).map(|i| i as u32));
        }

        /// Two texts of one length up to 16 bytes have the same words
        /// only if they are the same text.
        #[test]
        fn words_tell_short_texts_apart(a in "[ab\\x00]{0,16}", b in "[ab\\x00]{0,16}") {
            if a.len() == b.len() {
                prop_assert_eq!(Words::of(a.as_bytes()) == Words::of(b.as_bytes()), a == b);
            }
        }
    }
}
