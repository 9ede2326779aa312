//! Finding a name among a fixed set of names: the keys of a request group
//! and the values of an enum, looked up for every key and every enum value
//! of every request. An open-addressing table of indices, with an inlined
//! hash and comparison: a general hash map, and `memcmp` for every
//! comparison, were a fifth of decoding a request.

/// Where each name of a list is, by hash. The names themselves stay in the
/// owner's list; a lookup is given them back to compare with.
#[derive(Debug, Clone, Default)]
pub(crate) struct Names {
    /// 1 + the name's index in the list, or 0 for an empty place; at least
    /// twice as many places as names, so a search always meets an empty
    /// one.
    table: Box<[u32]>,
}

impl Names {
    /// The table of `names`; a repeated name is found at its first index.
    /// Names past `u32::MAX - 1` are left out.
    pub fn new<'a>(names: impl IntoIterator<Item = &'a str>) -> Names {
        let names: Vec<&str> = names.into_iter().collect();
        let size = (names.len() * 2).next_power_of_two().max(4);
        let mask = size - 1;
        let mut table = vec![0_u32; size];
        for (i, &name) in names.iter().enumerate() {
            let Ok(index) = u32::try_from(i + 1) else {
                break;
            };
            let mut at = hash(name.as_bytes());
            // The table has more places than names: an empty one is met.
            while let Some(place) = table.get_mut(at & mask) {
                match *place {
                    0 => {
                        *place = index;
                        break;
                    }
                    // Already there: the first index stays.
                    j if names.get(j as usize - 1) == Some(&name) => break,
                    _ => at = at.wrapping_add(1),
                }
            }
        }
        Names {
            table: table.into_boxed_slice(),
        }
    }

    /// The index of `key` in the list the table was built from, `name(i)`
    /// giving back its `i`-th name.
    #[inline]
    pub fn find<'a>(&self, key: &str, name: impl Fn(usize) -> Option<&'a str>) -> Option<usize> {
        let mask = self.table.len().checked_sub(1)?;
        let mut at = hash(key.as_bytes());
        loop {
            let i = (*self.table.get(at & mask)? as usize).checked_sub(1)?;
            if same(name(i)?.as_bytes(), key.as_bytes()) {
                return Some(i);
            }
            at = at.wrapping_add(1);
        }
    }
}

const K: u64 = 0x517c_c1b7_2722_0a95;

/// Every byte of `bytes` mixed as rustc's FxHash mixes, a word at a time.
#[inline]
fn hash(bytes: &[u8]) -> usize {
    let n = bytes.len();
    let mix = |h: u64, w: u64| (h.rotate_left(5) ^ w).wrapping_mul(K);
    let mut h = mix(n as u64, short(bytes));
    if n > 8 {
        let mut at = 0;
        while at + 8 < n {
            h = mix(h, load(bytes, at, 8));
            at += 8;
        }
        h = mix(h, load(bytes, n - 8, 8));
    }
    (h ^ (h >> 29)) as usize
}

/// `a == b`, a word at a time, without a call to `memcmp`.
#[inline]
fn same(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    if n <= 8 {
        return short(a) == short(b);
    }
    let mut at = 0;
    while at + 8 < n {
        if load(a, at, 8) != load(b, at, 8) {
            return false;
        }
        at += 8;
    }
    load(a, n - 8, 8) == load(b, n - 8, 8)
}

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
        Names::new(names.iter().copied())
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
        ];
        let t = table(&names);
        let get = |i: usize| names.get(i).copied();
        for (i, n) in names.iter().enumerate() {
            let first = names.iter().position(|m| m == n).unwrap();
            assert_eq!(t.find(n, get), Some(first), "{n} at {i}");
        }
        for other in ["b", "paid_amounT", "installment", "abcdefghi", "abcdefg"] {
            assert_eq!(t.find(other, get), None, "{other}");
        }
        assert_eq!(Names::default().find("a", get), None);
    }

    proptest! {
        #[test]
        fn found_exactly_when_listed(
            names in prop::collection::vec("[a-c_]{0,20}", 0..40),
            key in "[a-c_]{0,20}",
        ) {
            let refs: Vec<&str> = names.iter().map(String::as_str).collect();
            let t = table(&refs);
            let found = t.find(&key, |i| refs.get(i).copied());
            prop_assert_eq!(found, refs.iter().position(|n| *n == key));
        }

        #[test]
        fn same_is_equality(a in "[ab]{0,20}", b in "[ab]{0,20}") {
            prop_assert_eq!(same(a.as_bytes(), b.as_bytes()), a == b);
        }
    }
}
