//! pest's parse as a flat array in preorder, which lowering walks.
//!
//! pest's own `Pair` API clones reference counts on every step and counts a
//! node's children afresh each time they are asked for; lowering visits
//! every node, so that was a fifth of parsing. Here a node is its rule, its
//! byte range and the index just past its subtree: moving to a child or a
//! sibling is one index step.

use pest::Token;
use pest::iterators::Pairs;

use super::Rule;

#[derive(Clone, Copy)]
struct Entry {
    rule: Rule,
    start: usize,
    end: usize,
    /// The index just past this node's subtree: its next sibling, if any.
    next: usize,
}

pub struct Tree<'i> {
    text: &'i str,
    entries: Vec<Entry>,
}

impl<'i> Tree<'i> {
    /// Flattens pest's output for `text`, leaving out the nodes `skip`
    /// names (keywords and punctuation, which have no children; any a
    /// skipped node had would count as its parent's).
    pub fn new(pairs: Pairs<'i, Rule>, text: &'i str, skip: impl Fn(Rule) -> bool) -> Tree<'i> {
        let tokens = pairs.tokens();
        let mut entries = Vec::with_capacity(tokens.len() / 2);
        // The entry each open node got, `None` for a skipped one.
        let mut open: Vec<Option<usize>> = Vec::new();
        for token in tokens {
            match token {
                Token::Start { rule, .. } if skip(rule) => open.push(None),
                Token::Start { rule, pos } => {
                    open.push(Some(entries.len()));
                    entries.push(Entry {
                        rule,
                        start: pos.pos(),
                        end: pos.pos(),
                        next: 0,
                    });
                }
                Token::End { pos, .. } => {
                    let next = entries.len();
                    if let Some(entry) = open.pop().flatten().and_then(|i| entries.get_mut(i)) {
                        entry.end = pos.pos();
                        entry.next = next;
                    }
                }
            }
        }
        Tree { text, entries }
    }

    /// The nodes at the top: for a whole file, the one `file` node.
    pub fn top(&self) -> Children<'_, 'i> {
        Children {
            tree: self,
            at: 0,
            end: self.entries.len(),
        }
    }
}

/// One node of a [`Tree`].
#[derive(Clone, Copy)]
pub struct Node<'t, 'i> {
    tree: &'t Tree<'i>,
    at: usize,
}

impl<'t, 'i> Node<'t, 'i> {
    fn entry(&self) -> Option<&'t Entry> {
        self.tree.entries.get(self.at)
    }

    pub fn as_rule(&self) -> Rule {
        self.entry().map_or(Rule::EOI, |e| e.rule)
    }

    /// The node's byte range in the text.
    pub fn range(&self) -> (usize, usize) {
        self.entry().map_or((0, 0), |e| (e.start, e.end))
    }

    pub fn as_str(&self) -> &'i str {
        let (start, end) = self.range();
        self.tree.text.get(start..end).unwrap_or("")
    }

    pub fn children(&self) -> Children<'t, 'i> {
        Children {
            tree: self.tree,
            at: self.at + 1,
            end: self.entry().map_or(self.at, |e| e.next),
        }
    }
}

/// The children of a node, in order.
#[derive(Clone)]
pub struct Children<'t, 'i> {
    tree: &'t Tree<'i>,
    at: usize,
    end: usize,
}

impl<'t, 'i> Iterator for Children<'t, 'i> {
    type Item = Node<'t, 'i>;

    fn next(&mut self) -> Option<Node<'t, 'i>> {
        if self.at >= self.end {
            return None;
        }
        let node = Node {
            tree: self.tree,
            at: self.at,
        };
        // A malformed entry (never built) would stop here, not loop.
        self.at = node.entry().map_or(self.end, |e| e.next.max(self.at + 1));
        Some(node)
    }
}
