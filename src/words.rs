//! The words decisions are written with: the schema's output
//! vocabularies (routes, documents, offers, ...), currency codes, and the
//! deciders (a rule's policy, version, name and message). Each is held
//! once for the life of the process, so a decision names them by
//! reference, with nothing to count or to free: a shared string would cost
//! two atomic operations per word per decision, which on a small rule is
//! a fifth of deciding.
//!
//! What is held is bounded by what the process loads, never by the
//! requests: a vocabulary is the schema's, a currency code is three
//! capital letters, and a decider is words of a policy's text. Loading the
//! same schema and policies again adds nothing; a reload of edited
//! policies holds only the names it has not seen (a rule renamed, a
//! message reworded, a new `version`): a few hundred bytes a rule.

use std::collections::HashSet;
use std::sync::{Mutex, OnceLock, PoisonError};

use crate::eval::Decider;

/// A word of a decision, held for the life of the process.
pub type Word = &'static str;

/// Every word and vocabulary held so far.
#[derive(Default)]
struct Held {
    words: HashSet<Word>,
    vocabularies: HashSet<&'static [Word]>,
    deciders: HashSet<&'static Decider>,
}

fn held<T>(f: impl FnOnce(&mut Held) -> T) -> T {
    static HELD: OnceLock<Mutex<Held>> = OnceLock::new();
    let mut held = HELD
        .get_or_init(Mutex::default)
        .lock()
        // The sets are only ever added to: a panic elsewhere leaves them
        // whole.
        .unwrap_or_else(PoisonError::into_inner);
    f(&mut held)
}

/// `text` as a word held for the process: the same reference for the same
/// text, however often it is asked for.
pub fn word(text: &str) -> Word {
    held(|h| hold(h, text))
}

fn hold(h: &mut Held, text: &str) -> Word {
    if let Some(w) = h.words.get(text) {
        return w;
    }
    let w: Word = Box::leak(Box::from(text));
    h.words.insert(w);
    w
}

/// A vocabulary's words, in order, held for the process.
pub fn vocabulary<'a>(texts: impl IntoIterator<Item = &'a str>) -> &'static [Word] {
    held(|h| {
        let words: Vec<Word> = texts.into_iter().map(|t| hold(h, t)).collect();
        if let Some(v) = h.vocabularies.get(words.as_slice()) {
            return *v;
        }
        let v: &'static [Word] = Box::leak(words.into_boxed_slice());
        h.vocabularies.insert(v);
        v
    })
}

/// The decider naming `policy`'s rule `rule`, held for the process: the
/// same reference for the same names.
pub fn decider(
    policy: &str,
    policy_version: Option<&str>,
    rule: &str,
    message: &str,
) -> &'static Decider {
    held(|h| {
        let d = Decider {
            policy: hold(h, policy),
            policy_version: policy_version.map(|v| hold(h, v)),
            rule: hold(h, rule),
            message: hold(h, message),
        };
        if let Some(held) = h.deciders.get(&d) {
            return *held;
        }
        let held: &'static Decider = Box::leak(Box::new(d));
        h.deciders.insert(held);
        held
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_word_is_held_once() {
        let a = word("credit_card_next_statement");
        let b = word(&String::from("credit_card_next_statement"));
        assert!(std::ptr::eq(a, b));
        let v = vocabulary(["alipay", "credit_card_next_statement"]);
        assert!(std::ptr::eq(v[1], a));
        let again = vocabulary(
            ["alipay".to_owned(), a.to_owned()]
                .iter()
                .map(String::as_str),
        );
        assert!(std::ptr::eq(v, again));
        assert!(!std::ptr::eq(v, vocabulary(["alipay"])));
    }

    #[test]
    fn a_decider_is_held_once() {
        let d = decider("mall", Some("2026-01"), "no_reason", "no-reason return");
        assert!(std::ptr::eq(
            d,
            decider(
                "mall",
                Some("2026-01"),
                "no_reason",
                &String::from("no-reason return")
            )
        ));
        assert!(std::ptr::eq(d.rule, word("no_reason")));
        // Any name differing is another decider.
        assert!(!std::ptr::eq(
            d,
            decider("mall", None, "no_reason", "no-reason return")
        ));
        assert!(!std::ptr::eq(
            d,
            decider("mall", Some("2026-01"), "no_reason", "other")
        ));
    }
}
