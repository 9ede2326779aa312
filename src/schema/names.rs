//! Finding a name among a fixed set of names: the keys of a request group
//! and the values of an enum, looked up for every key and every enum value
//! of every request. An open-addressing table that holds each name's
//! first and last words, with an inlined hash: a general hash map, and
//! `memcmp` for every comparison, were a fifth of decoding a request.

/// Names, each with a number (its payload), found by hash. A place holds
/// the name's length and its first and last eight bytes, so a key of up to
/// 16 bytes is matched without reading the name itself; only a longer one
/// is compared with the name in full.
///
/// The keys of a request's object usually come in one of two orders: the
/// schema's (the order the names were given in) or alphabetical (what most
/// JSON libraries write from a map). [`Names::find_next`] first tries the
/// name that follows the previous key in either order: a place whose
/// address does not wait for the key's hash.
#[derive(Debug, Clone, Default)]
pub(crate) struct Names {
    /// At least twice as many places as names, so a search always meets
    /// an empty one.
    table: Box<[Place]>,
    /// The names, each once, in the order they were given.
    given: Box<[Place]>,
    /// For each name of `given`, the one after it alphabetically; the last
    /// entry, the first name alphabetically.
    next_sorted: Box<[u32]>,
    /// The names longer than 16 bytes, by [`Place::long`].
    long: Vec<Box<str>>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Place {
    /// The name's length, or [`EMPTY`].
    len: u32,
    payload: u32,
    /// Where the name is in [`Names::given`].
    at: u32,
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

/// A key being looked for: its text, length and words.
struct Key<'a> {
    text: &'a str,
    len: u32,
    words: Words,
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
            at: 0,
            long: 0,
            words: Words(0, 0),
        };
        let mut t = Names {
            table: vec![empty; size].into_boxed_slice(),
            ..Names::default()
        };
        let (mut given, mut texts) = (Vec::new(), Vec::new());
        for (name, payload) in names {
            let (Ok(len), Ok(at), Ok(at_long)) = (
                u32::try_from(name.len()),
                u32::try_from(given.len()),
                u32::try_from(t.long.len()),
            ) else {
                continue;
            };
            if len == EMPTY || t.find(name).is_some() {
                continue;
            }
            if len > 16 {
                t.long.push(name.into());
            }
            let words = Words::of(name.as_bytes());
            let place = Place {
                len,
                payload,
                at,
                long: at_long,
                words,
            };
            let mut slot = words.hash(name.len());
            // The table has more places than names: an empty one is met.
            while let Some(p) = t.table.get_mut(slot & mask) {
                if p.len == EMPTY {
                    *p = place;
                    break;
                }
                slot = slot.wrapping_add(1);
            }
            given.push(place);
            texts.push(name);
        }
        let mut sorted: Vec<usize> = (0..texts.len()).collect();
        sorted.sort_by_key(|&i| texts.get(i).copied());
        let mut next_sorted = vec![0; texts.len() + 1];
        let mut before = texts.len();
        for &i in &sorted {
            if let Some(n) = next_sorted.get_mut(before) {
                *n = u32::try_from(i).unwrap_or(u32::MAX);
            }
            before = i;
        }
        if let Some(n) = next_sorted.get_mut(before) {
            *n = u32::MAX;
        }
        t.given = given.into_boxed_slice();
        t.next_sorted = next_sorted.into_boxed_slice();
        t
    }

    /// The payload of `key`, if it is one of the names.
    #[inline]
    pub fn find(&self, key: &str) -> Option<u32> {
        let key = Key::of(key)?;
        self.search(&key).map(|p| p.payload)
    }

    /// Where `key` is among the names as given, and its payload; the key
    /// before it in the same object was at `after`. The names that follow
    /// `after` in the given and in alphabetical order are tried first.
    #[inline]
    pub fn find_next(&self, key: &str, after: Option<u32>) -> Option<(u32, u32)> {
        let key = Key::of(key)?;
        for p in self.guesses(after) {
            if self.is(p, &key) {
                return Some((p.at, p.payload));
            }
        }
        self.search(&key).map(|p| (p.at, p.payload))
    }

    /// The name that `text` (a JSON string, from after its opening quote)
    /// is, when it is one of the names [`Names::find_next`] would try
    /// first, written without escapes: where it is among the names as
    /// given, its payload, and how many bytes it takes with its closing
    /// quote. The key is known without scanning or hashing it.
    #[inline]
    pub fn guess(&self, text: &[u8], after: Option<u32>) -> Option<(u32, u32, usize)> {
        for p in self.guesses(after) {
            let n = p.len as usize;
            if text.get(n) == Some(&b'"')
                && let Some(name) = text.get(..n)
                && Words::of(name) == p.words
                && (n <= 16
                    || self
                        .long
                        .get(p.long as usize)
                        .is_some_and(|l| *l.as_bytes() == *name))
            {
                return Some((p.at, p.payload, n + 1));
            }
        }
        None
    }

    /// The names that follow the one at `after` in the given and in
    /// alphabetical order (the first names of each when `after` is
    /// `None`).
    #[inline(always)]
    fn guesses(&self, after: Option<u32>) -> impl Iterator<Item = &Place> {
        let given = after.map_or(0, |a| a.wrapping_add(1));
        let sorted = self
            .next_sorted
            .get(after.map_or(self.given.len(), |a| a as usize))
            .copied();
        [Some(given), sorted]
            .into_iter()
            .flatten()
            .filter_map(|i| self.given.get(i as usize))
    }

    #[inline]
    fn search(&self, key: &Key<'_>) -> Option<&Place> {
        let mask = self.table.len().checked_sub(1)?;
        let mut slot = key.words.hash(key.len as usize);
        loop {
            let place = self.table.get(slot & mask)?;
            if place.len == EMPTY {
                return None;
            }
            if self.is(place, key) {
                return Some(place);
            }
            slot = slot.wrapping_add(1);
        }
    }

    /// Whether `place` holds `key`.
    #[inline(always)]
    fn is(&self, place: &Place, key: &Key<'_>) -> bool {
        place.len == key.len
            && place.words == key.words
            && (key.len <= 16
                || self
                    .long
                    .get(place.long as usize)
                    .is_some_and(|l| **l == *key.text))
    }
}

impl<'a> Key<'a> {
    #[inline(always)]
    fn of(text: &'a str) -> Option<Key<'a>> {
        let bytes = text.as_bytes();
        Some(Key {
            text,
            len: u32::try_from(bytes.len()).ok()?,
            words: Words::of(bytes),
        })
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

    #[test]
    fn the_next_key_is_found_in_any_order() {
        let names = [
            "sku",
            "category",
            "paid_amount",
            "non_returnable_confirmed",
            "quantity",
        ];
        let t = table(&names);
        let mut orders = vec![names.to_vec()];
        let mut sorted = names.to_vec();
        sorted.sort();
        orders.push(sorted);
        orders.push(vec![
            "quantity",
            "sku",
            "non_returnable_confirmed",
            "category",
        ]);
        for order in orders {
            let mut after = None;
            for key in order {
                let (at, payload) = t.find_next(key, after).unwrap();
                assert_eq!(names[at as usize], key);
                assert_eq!(payload, at);
                after = Some(at);
            }
            assert_eq!(t.find_next("nothing", after), None);
        }
        let text = b"category\": 1, \"quantity";
        assert_eq!(t.guess(text, Some(0)), Some((1, 1, 9)));
        assert_eq!(t.guess(text, Some(2)), None, "neither next in order");
        assert_eq!(t.guess(b"category", Some(0)), None, "no closing quote");
        assert_eq!(t.guess(b"categoryx\"", Some(0)), None);
        assert_eq!(
            t.guess(b"non_returnable_confirmed\"", Some(2)),
            Some((3, 3, 25))
        );
        assert_eq!(t.guess(b"non_returnable_confirmeD\"", Some(2)), None);
        let repeated = table(&["a", "b", "a"]);
        assert_eq!(repeated.find_next("a", Some(1)), Some((0, 0)));
        assert_eq!(repeated.find_next("b", Some(0)), Some((1, 1)));
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
            let first = refs.iter().position(|n| *n == key).map(|i| i as u32);
            prop_assert_eq!(found, first);
            for after in [None, Some(0), Some(3), Some(100)] {
                prop_assert_eq!(t.find_next(&key, after).map(|(_, p)| p), first);
            }
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
