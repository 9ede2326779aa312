//! Words for pest rules, so "expected ..." messages never show a rule id.
//! The match is exhaustive: a new grammar rule does not compile until it
//! has its words here.

use super::Rule;

/// What an author would call the thing a rule matches, most helpful first
/// by the returned rank; `None` for rules that are never worth naming.
pub fn describe(r: Rule) -> Option<(u8, &'static str)> {
    use Rule::*;
    Some(match r {
        eq | ne | le | ge | lt | gt | in_list | not_in_list | is_test | within | kw_in | kw_is
        | operator_start | test_start | kw_within => (0, "a comparison such as `==` or `<=`"),
        verdict | outcome => (1, "a verdict (`approve`, `deny` or `review`)"),
        when => (2, "`when`"),
        assignment => (2, "an outcome field such as `refund = ...`"),
        and | or => (3, "`and` or `or`"),
        add | sub | mul | div => (4, "an operator such as `+` or `*`"),
        range => (5, "`..`"),
        expr | paren | if_expr | match_expr | reference | list | date | duration | money
        | number | string | path | not | neg => (1, "a value or a field such as `item.condition`"),
        ident => (1, "a name"),
        label => (3, "a label in quotes"),
        rule_def | reject_def | after_def => (2, "a rule"),
        import | const_def | pred_def | rules_def | defaults_def | policy => (
            2,
            "`import`, `const`, `pred`, `rules`, `defaults` or `policy`",
        ),
        use_item | inline_defaults | setting => {
            (3, "a setting such as `currency = CNY`, `use` or `defaults`")
        }
        pattern | match_arm => (1, "a match arm such as `a | b => value`"),
        presence => (0, "`present` or `absent`"),
        unit => (0, "a unit such as `days`, `working days` or `years`"),
        currency => (0, "a currency code such as `CNY`"),
        kw_import => (2, "`import`"),
        kw_const => (2, "`const`"),
        kw_pred => (2, "`pred`"),
        kw_rules => (2, "`rules`"),
        kw_defaults => (2, "`defaults`"),
        kw_use => (2, "`use`"),
        kw_policy => (2, "`policy`"),
        kw_rule => (2, "`rule`"),
        kw_reject => (2, "`reject`"),
        kw_after => (2, "`after`"),
        kw_when => (2, "`when`"),
        kw_if => (1, "`if`"),
        kw_then => (0, "`then`"),
        kw_else => (0, "`else`"),
        kw_match => (1, "`match`"),
        kw_not => (5, "`not`"),
        lparen => (6, "`(`"),
        rparen => (0, "`)`"),
        lbracket => (1, "`[`"),
        rbracket => (0, "`]`"),
        lbrace => (0, "`{`"),
        rbrace => (0, "`}`"),
        comma => (1, "`,`"),
        assign => (0, "`=`"),
        append => (1, "`+=`"),
        arrow => (0, "`=>`"),
        outcome_block => (2, "`{`"),
        EOI => (6, "the end of the file"),
        // A call is rarely what an author meant after a name.
        arguments | string_inner | number_part | file | WHITESPACE | comment_text | ident_char
        | infix | prefix | postfix | primary | rule_item | policy_item | item => return None,
    })
}

/// "a or b or c" from the expected rules, most helpful first, deduplicated.
pub fn expected_words(rules: &[Rule]) -> String {
    let mut found: Vec<(u8, &'static str)> = rules.iter().filter_map(|r| describe(*r)).collect();
    found.sort();
    found.dedup_by(|a, b| a.1 == b.1);
    let words: Vec<&str> = found.iter().take(2).map(|(_, w)| *w).collect();
    match words.as_slice() {
        [] => "something else".to_string(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} or {}", init.join(", "), last),
    }
}

/// Keyword tokens carry no meaning in the tree beyond their parent rule.
pub fn is_keyword(r: Rule) -> bool {
    use Rule::*;
    matches!(
        r,
        kw_import
            | kw_const
            | kw_pred
            | kw_rules
            | kw_defaults
            | kw_use
            | kw_policy
            | kw_rule
            | kw_reject
            | kw_after
            | kw_when
            | kw_if
            | kw_then
            | kw_else
            | kw_match
            | kw_in
            | kw_is
            | kw_within
            | kw_not
    )
}
