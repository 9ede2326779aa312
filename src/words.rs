//! The words decisions are written with: the schema's output
//! vocabularies (routes, documents, offers, ...) and currency codes. Each
//! is held once for the life of the process, so a decision names them by
//! reference, with nothing to count or to free: a shared string would cost
//! two atomic operations per word per decision.
//!
//! What is held is bounded by the schemas a process loads, never by the
//! requests or the policies: a vocabulary is the schema's, and a currency
//! code is three capital letters. Loading the same schema again adds
//! nothing.

use std::collections::HashSet;
use std::sync::{Mutex, OnceLock, PoisonError};

/// A word of a decision, held for the life of the process.
pub type Word = &'static str;

/// Every word and vocabulary held so far.
#[derive(Default)]
struct Held {
    words: HashSet<Word>,
    vocabularies: HashSet<&'static [Word]>,
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
}
