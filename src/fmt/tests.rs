use super::*;
use crate::syntax::ast::{CommentKind, File};

fn parse(text: &str) -> Result<File, Box<SyntaxError>> {
    let source = SourceFile::new("t.rpl".into(), "t.rpl".into(), text);
    syntax::parse(FileId(0), &source)
}

fn fmt(text: &str) -> String {
    let source = SourceFile::new("t.rpl".into(), "t.rpl".into(), text);
    format(&source).unwrap()
}

fn comments(f: &File) -> Vec<(CommentKind, String)> {
    f.comments
        .iter()
        .map(|c| (c.kind, c.text.clone()))
        .collect()
}

/// `input` formats to `expected`, which is a fixed point and means what
/// `input` meant, with the same comments.
#[track_caller]
fn check(input: &str, expected: &str) {
    let out = fmt(input);
    assert_eq!(out, expected, "formatted:\n{out}");
    let before = parse(input).unwrap();
    let after = parse(&out).unwrap();
    assert_eq!(before, after, "the tree changed:\n{out}");
    assert_eq!(
        comments(&before),
        comments(&after),
        "comments changed:\n{out}"
    );
    assert_eq!(fmt(&out), out, "not a fixed point:\n{out}");
}

#[test]
fn items_one_per_line_with_one_blank_line_between() {
    check(
        "import \"common.rpl\" const a = 1\n\n\n\npred p \"label\"=a>1",
        "import \"common.rpl\"\n\nconst a = 1\n\npred p \"label\" = a > 1\n",
    );
}

#[test]
fn blocks_indent_by_four_and_keep_at_most_one_blank_line() {
    check(
        "policy p \"P\" {\n\n  channel=official_mall\n\n\n\n  use standard use core\n\n}",
        "policy p \"P\" {\n    channel = official_mall\n\n    use standard\n    use core\n}\n",
    );
}

#[test]
fn rules_always_take_lines_of_their_own() {
    check(
        "rules g { rule r \"R\" { when a approve { message = \"m\" refund = 0.00 CNY } } \
         reject x { when b } rule y { deny {} } }",
        "rules g {
    rule r \"R\" {
        when a
        approve {
            message = \"m\"
            refund = 0.00 CNY
        }
    }
    reject x {
        when b
    }
    rule y {
        deny
    }
}
",
    );
    check(
        "rules g {}\ndefaults d {\n}\n",
        "rules g {}\n\ndefaults d {}\n",
    );
}

#[test]
fn a_long_or_chain_breaks_before_each_operator() {
    check(
        "rules g { rule excluded_goods { when item.category in excluded_categories or \
         item.custom_made or item.non_returnable_confirmed deny } }",
        "rules g {
    rule excluded_goods {
        when item.category in excluded_categories
            or item.custom_made
            or item.non_returnable_confirmed
        deny
    }
}
",
    );
}

#[test]
fn a_chain_inside_a_broken_chain_breaks_one_level_further_in() {
    let a = "a_rather_long_field_name == 1";
    check(
        &format!("const x = {a} and {a} and {a} or {a} and {a}"),
        &format!(
            "const x = {a}
        and {a}
        and {a}
    or {a} and {a}
"
        ),
    );
}

#[test]
fn a_value_that_fits_on_a_line_of_its_own_moves_there() {
    let long = "item.activated or item.condition in [used, damaged, lost, broken]";
    check(
        &format!("pred not_intact_and_then_some \"商品不完好，商品不完好，商品不完好\" = {long}"),
        &format!(
            "pred not_intact_and_then_some \"商品不完好，商品不完好，商品不完好\" =\n    {long}\n"
        ),
    );
}

#[test]
fn match_stays_on_one_line_when_it_fits_and_else_takes_one_arm_a_line() {
    check(
        "const r = match m { a | b => x, _ => y, }",
        "const r = match m { a | b => x, _ => y }\n",
    );
    check(
        "defaults d { route = match payment.method { bank_card => bank_card, credit_card => \
         credit_card, credit_card_installment => credit_card_next_statement } }",
        "defaults d {
    route = match payment.method {
        bank_card => bank_card,
        credit_card => credit_card,
        credit_card_installment => credit_card_next_statement,
    }
}
",
    );
}

#[test]
fn long_lists_and_calls_take_one_element_a_line_with_a_trailing_comma() {
    let names: Vec<String> = (0..12).map(|i| format!("category_{i}")).collect();
    let list = names.join(", ");
    let lines: String = names.iter().map(|n| format!("    {n},\n")).collect();
    check(
        &format!("const c = [{list}]"),
        &format!("const c = [\n{lines}]\n"),
    );
    check("const c = [a, b,]", "const c = [a, b]\n");
    check(
        "defaults d { refund = max(item.paid_amount - (if item.gift_returned then 0.00 CNY else \
         item.gift_value), 0.00 CNY) }",
        "defaults d {
    refund = max(
        item.paid_amount - (if item.gift_returned then 0.00 CNY else item.gift_value),
        0.00 CNY,
    )
}
",
    );
}

#[test]
fn a_long_if_breaks_before_then_and_else() {
    check(
        "defaults d { settlement = if payment.method == cash then requested_at .. requested_at \
         else requested_at + 3 working days .. requested_at + 15 working days }",
        "defaults d {
    settlement = if payment.method == cash
        then requested_at .. requested_at
        else requested_at + 3 working days .. requested_at + 15 working days
}
",
    );
}

#[test]
fn operators_get_one_space_and_parentheses_stay_as_written() {
    check(
        "const x = not(a)and-b<=((c))*2+ -3",
        "const x = not (a) and -b <= ((c)) * 2 + -3\n",
    );
}

#[test]
fn literals_are_printed_as_written() {
    check(
        "const s = [\"\\u{4E2D}\\\"\\t\", 007, 1.50   CNY, 15  working   days, 2025-10-01, none]",
        "const s = [\"\\u{4E2D}\\\"\\t\", 007, 1.50 CNY, 15 working days, 2025-10-01, none]\n",
    );
}

#[test]
fn trailing_comments_stay_at_the_end_of_their_line() {
    check(
        "policy p {\n    use standard          // outcome defaults\n    use core // rules 1-9\n}\n",
        "policy p {\n    use standard // outcome defaults\n    use core // rules 1-9\n}\n",
    );
    check(
        "const c = [a, // one\n b] // after\nconst d = 1",
        "const c = [\n    a, // one\n    b,\n] // after\n\nconst d = 1\n",
    );
}

#[test]
fn own_line_comments_stay_before_what_they_preceded() {
    check(
        "//! File doc.\n\n// Section.\n\n/// Doc.\nconst a = 1\n// Before b.\nconst b = 2\n// The end.\n",
        "//! File doc.\n\n// Section.\n\n/// Doc.\nconst a = 1\n\n// Before b.\nconst b = 2\n// The end.\n",
    );
    check(
        "rules g {\n\n    // First.\n    rule a { approve }\n\n  // Last.\n\n}\n",
        "rules g {\n    // First.\n    rule a {\n        approve\n    }\n\n    // Last.\n}\n",
    );
    check(
        "const r = match m {\n  // a first\n  a => x,\n  // then the rest\n  _ => y }",
        "const r = match m {\n    // a first\n    a => x,\n    // then the rest\n    _ => y,\n}\n",
    );
    check(
        "rules g { rule a { when x\n // or else\n or y approve } }",
        "rules g {\n    rule a {\n        when x\n            // or else\n            or y\n        approve\n    }\n}\n",
    );
}

#[test]
fn a_comment_inside_an_empty_block_keeps_the_block() {
    check(
        "rules g { rule a { approve { // nothing yet\n } } }",
        "rules g {\n    rule a {\n        approve { // nothing yet\n        }\n    }\n}\n",
    );
}

#[test]
fn a_doc_comment_in_a_header_does_not_come_to_document_a_rule() {
    // `///` before `{` documents nothing; moved past the `{` it would
    // document the rule below it.
    check(
        "rules g /// not a doc\n{\n    /// A doc.\n    rule a { approve }\n}\n",
        "rules g /// not a doc\n    {\n    /// A doc.\n    rule a {\n        approve\n    }\n}\n",
    );
}

#[test]
fn line_breaks_and_a_byte_order_mark() {
    check(
        "\u{FEFF}const a = 1\r\n\r\nconst b = 2\r\n",
        "\u{FEFF}const a = 1\n\nconst b = 2\n",
    );
    check("", "");
    check("// only a comment", "// only a comment\n");
}

#[test]
fn a_file_that_does_not_parse_is_not_formatted() {
    let source = SourceFile::new("t.rpl".into(), "t.rpl".into(), "const a = ");
    let e = format(&source).unwrap_err();
    assert!(e.to_string().contains("expected"), "{e}");
}
