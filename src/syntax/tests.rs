use super::ast::*;
use super::*;
use crate::source::SourceFile;
use crate::vocab::Unit;

fn source(text: &str) -> SourceFile {
    SourceFile::new("t.rpl".into(), "t.rpl".into(), text)
}

fn parse_str(text: &str) -> Result<File, Box<SyntaxError>> {
    parse(FileId(0), &source(text))
}

fn expr(text: &str) -> Expr {
    let file = parse_str(&format!("const x = {text}")).unwrap();
    match file.items.into_iter().next() {
        Some(Item::Const(c)) => c.value,
        other => panic!("not a const: {other:?}"),
    }
}

/// Renders an expression with explicit parentheses to show how it grouped.
fn grouping(e: &Expr) -> String {
    match &e.kind {
        ExprKind::Path(p) => p.clone(),
        ExprKind::Lit(l) => format!("{l:?}"),
        ExprKind::Unary(op, x) => format!("({op:?} {})", grouping(x)),
        ExprKind::Binary(op, a, b) => format!("({} {} {})", grouping(a), op.symbol(), grouping(b)),
        ExprKind::In { value, negated, .. } => format!(
            "({} {}in [..])",
            grouping(value),
            if *negated { "not " } else { "" }
        ),
        ExprKind::Is { value, .. } => format!("({} is ..)", grouping(value)),
        ExprKind::Paren(x) => grouping(x),
        ExprKind::Within { value, anchor, .. } => {
            format!("({} within after {})", grouping(value), grouping(anchor))
        }
        other => format!("{other:?}"),
    }
}

#[test]
fn shipped_policies_parse() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/policies");
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "rpl") {
            let text = std::fs::read_to_string(&path).unwrap();
            if let Err(e) = parse_str(&text) {
                panic!("{}: {:?}", path.display(), miette::Report::new(*e));
            }
        }
    }
}

#[test]
fn precedence_follows_the_reference() {
    assert_eq!(
        grouping(&expr("a or b and not c")),
        "(a or (b and (Not c)))"
    );
    assert_eq!(
        grouping(&expr("a + b * c > d - e")),
        "((a + (b * c)) > (d - e))"
    );
    assert_eq!(
        grouping(&expr("not x in [a] and y")),
        "((Not (x in [..])) and y)"
    );
    assert_eq!(
        grouping(&expr("x not in [a] or y")),
        "((x not in [..]) or y)"
    );
    assert_eq!(
        grouping(&expr("a within 7 days after b and c")),
        "((a within after b) and c)"
    );
    assert_eq!(grouping(&expr("a - b - c")), "((a - b) - c)");
    assert_eq!(grouping(&expr("a or b or c")), "((a or b) or c)");
    assert_eq!(grouping(&expr("-a * b")), "((Neg a) * b)");
    assert_eq!(grouping(&expr("a * -b + c")), "((a * (Neg b)) + c)");
    assert_eq!(grouping(&expr("a + b in [c]")), "((a + b) in [..])");
    assert_eq!(grouping(&expr("not not a or b")), "((Not (Not a)) or b)");
    assert_eq!(grouping(&expr("not a == b")), "(Not (a == b))");
    assert_eq!(grouping(&expr("a == b in [c]")), "((a == b) in [..])");
    assert_eq!(grouping(&expr("-a in [b]")), "((Neg a) in [..])");
    assert_eq!(
        grouping(&expr("a is present and b == c")),
        "((a is ..) and (b == c))"
    );
    assert_eq!(
        grouping(&expr("a + 3 working days .. a + 15 working days")),
        "((a + Duration { count: 3, unit: WorkingDays }) .. (a + Duration { count: 15, unit: WorkingDays }))"
    );
}

#[test]
fn literals_are_typed() {
    assert_eq!(
        expr("20000.00 CNY").kind,
        ExprKind::Lit(Lit::Money {
            amount: "20000.00".parse().unwrap(),
            currency: "CNY".into()
        })
    );
    assert_eq!(
        expr("15 working days").kind,
        ExprKind::Lit(Lit::Duration {
            count: 15,
            unit: Unit::WorkingDays
        })
    );
    assert_eq!(
        expr("1 year").kind,
        ExprKind::Lit(Lit::Duration {
            count: 1,
            unit: Unit::Years
        })
    );
    assert_eq!(
        expr("2025-10-01").kind,
        ExprKind::Lit(Lit::Date(jiff::civil::date(2025, 10, 1)))
    );
    assert_eq!(
        expr("\"七天\\u{65E0}\\\"\"").kind,
        ExprKind::Lit(Lit::Str("七天无\"".into()))
    );
    assert_eq!(expr("7").kind, ExprKind::Lit(Lit::Int(7)));
}

#[test]
fn spans_cover_the_exact_text() {
    let text = "const x = item.paid_amount > 10.00 CNY";
    let e = expr("item.paid_amount > 10.00 CNY");
    let ExprKind::Binary(_, lhs, rhs) = &e.kind else {
        panic!()
    };
    let off = "const x = ".len() as u32;
    assert_eq!(
        &text[(lhs.span.start) as usize..lhs.span.end as usize],
        "item.paid_amount"
    );
    assert_eq!(
        &text[(rhs.span.start) as usize..rhs.span.end as usize],
        "10.00 CNY"
    );
    assert_eq!(e.span.start, off);
}

/// Regression: a rule ending in a repetition (`expr`, and so `if`, `const`,
/// `pred`, a bare verdict) used to keep the whitespace and comments pest
/// skipped after it, up to and including the next item's `///` doc, so a
/// label on such a node ran over the following lines.
#[test]
fn spans_end_at_the_last_token_not_after_trailing_comments() {
    let text = "const x = if a then b else c   // why\r\n/// doc of y\nconst y = 1 + 2 // z\npolicy p { rule r { when a\n deny   // done\n } }";
    let f = parse_str(text).unwrap();
    let slice = |s: crate::source::Span| &text[s.start as usize..s.end as usize];
    let (Item::Const(x), Item::Const(y), Item::Policy(p)) = (&f.items[0], &f.items[1], &f.items[2])
    else {
        panic!("{:?}", f.items)
    };
    assert_eq!(slice(x.span), "const x = if a then b else c");
    assert_eq!(slice(x.value.span), "if a then b else c");
    assert_eq!(slice(y.span), "const y = 1 + 2");
    assert_eq!(y.doc.as_deref(), Some("doc of y"));
    let PolicyItem::Rule(r) = &p.items[0] else {
        panic!()
    };
    assert_eq!(slice(r.outcome.as_ref().unwrap().span), "deny");
    // A comment that ends the file, with no newline after it.
    let text = "const z = 3 // the end";
    let f = parse_str(text).unwrap();
    let Item::Const(z) = &f.items[0] else {
        panic!("{:?}", f.items)
    };
    assert_eq!(
        &text[z.span.start as usize..z.span.end as usize],
        "const z = 3"
    );
}

#[test]
fn doc_comments_attach_to_the_next_item_only() {
    let f = parse_str("//! file doc\n/// first\n/// second\nconst a = 1\n// plain\nconst b = 2\n/// detached\n\n// x\nconst c = 3").unwrap();
    let docs: Vec<Option<String>> = f
        .items
        .iter()
        .map(|i| match i {
            Item::Const(c) => c.doc.clone(),
            _ => None,
        })
        .collect();
    assert_eq!(docs, vec![Some("first\nsecond".into()), None, None]);
    assert_eq!(f.doc.as_deref(), Some("file doc"));
    assert_eq!(f.comments.len(), 6);
}

#[test]
fn layout_does_not_change_the_tree() {
    let a = parse_str("rule_x_placeholder_is_not_an_item").map(|_| ());
    assert!(a.is_err());
    let one = parse_str("rules g { rule r { when a == b and c approve { refund = 1.00 CNY } } }")
        .unwrap();
    let two = parse_str("rules g {\n  // why\n  rule r {\n    when a == b\n      and c\n    approve {\n      refund = 1.00 CNY\n    }\n  }\n}\n").unwrap();
    assert_eq!(one.items, two.items);
}

fn error_text(text: &str) -> String {
    match parse_str(text) {
        Ok(_) => panic!("parsed: {text}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn errors_name_what_was_expected_in_words() {
    assert_eq!(
        error_text("rules g { rule r { when item.condition \"used\" deny } }"),
        "expected a comparison such as `==` or `<=` or a verdict (`approve`, `deny` or `review`), found a string"
    );
    assert!(error_text("policy p { rule r { when a = b deny } }").contains("found `=`"));
    assert_eq!(error_text("const x = (a"), "this `(` is never closed");
    // A missing operand names what may stand there, not a rarely meant `if`.
    for text in [
        "const x = a +",
        "const x = not",
        "const x = a in",
        "const x = -",
    ] {
        let message = error_text(text);
        assert!(
            message.contains("a value or a field such as `item.condition`"),
            "{text}: {message}"
        );
    }
    // Where only `after` may follow, a call's `(` is not offered: the
    // guard before call arguments keeps pest from trying it.
    assert_eq!(
        error_text("pred late = requested_at within n days after order.delivered_at"),
        "expected `after`, found `days`"
    );
    assert!(error_text("const x = 2025-02-30").contains("invalid date"));
    assert!(error_text("const x = 99999999999999999999").contains("invalid number"));
    assert!(error_text("const x = \"a\\q\"").contains("unknown escape `\\q`"));
}

#[test]
fn deep_nesting_is_a_diagnostic_not_a_crash() {
    let text = format!("const x = {}a{}", "(".repeat(100_000), ")".repeat(100_000));
    assert!(matches!(
        parse_str(&text).map_err(|e| *e),
        Err(SyntaxError::TooDeep { .. })
    ));
    let nots = format!("const x = {}a", "not ".repeat(100_000));
    assert!(matches!(
        parse_str(&nots).map_err(|e| *e),
        Err(SyntaxError::TooDeep { .. })
    ));
}

/// Runs `f` on a thread with the standard 2 MiB stack, as rayon's workers
/// have; a stack overflow there aborts the test binary, failing the run.
fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap()
}

/// pest runs without its own stack probe (it is built without `std`), so
/// the scan's bound is all that keeps the stack safe: the deepest nesting
/// the scan lets through, of every kind, must parse on a thread with the
/// standard 2 MiB stack, as rayon's workers have. A stack overflow aborts
/// the test binary, which fails the run.
#[test]
fn deepest_allowed_nesting_parses_on_a_small_stack() {
    type Form = fn(usize) -> String;
    let forms: [Form; 7] = [
        |n| format!("{}a{}", "(".repeat(n), ")".repeat(n)),
        |n| format!("a in {}b{}", "[".repeat(n), "]".repeat(n)),
        |n| format!("{}a", "not ".repeat(n)),
        |n| format!("{}1", "- ".repeat(n)),
        |n| format!("{}a{}", "if a then ".repeat(n), " else b".repeat(n)),
        |n| format!("{}a{}", "match a { b => ".repeat(n), ", _ => c }".repeat(n)),
        |n| {
            format!(
                "{}a{}",
                "(not -[if a then ".repeat(n),
                " else b])".repeat(n)
            )
        },
    ];
    for form in forms {
        let deepest = on_small_stack(move || {
            (1..=MAX_NESTING).rev().find_map(|n| {
                match parse_str(&format!("const x = {}", form(n))) {
                    Err(e) if matches!(*e, SyntaxError::TooDeep { .. }) => None,
                    other => Some((n, other.map(|_| ()))),
                }
            })
        });
        let (n, result) = deepest.unwrap();
        assert!(result.is_ok(), "{}: {result:?}", form(n));
    }
}

/// `true`, `false` and `none` are read as names by the grammar and become
/// literals when lowering; as part of a path or called, they are reserved.
#[test]
fn literal_words_are_literals_and_reserved_elsewhere() {
    assert!(matches!(expr("true").kind, ExprKind::Lit(Lit::Bool(true))));
    assert!(matches!(
        expr("false").kind,
        ExprKind::Lit(Lit::Bool(false))
    ));
    assert!(matches!(expr("none").kind, ExprKind::Lit(Lit::None)));
    assert_eq!(
        grouping(&expr("truest or nonesuch")),
        "(truest or nonesuch)"
    );
    for text in ["true.x", "item.none", "none(1)", "false()"] {
        let e = parse_str(&format!("const x = {text}")).unwrap_err();
        assert!(matches!(*e, SyntaxError::Reserved { .. }), "{text}: {e:?}");
    }
}

/// A byte order mark is allowed where editors write one, at the start of a
/// file, and nowhere else.
#[test]
fn byte_order_mark_only_at_the_start() {
    assert!(parse_str("\u{FEFF}const x = 1\n").is_ok());
    assert!(parse_str("const x = 1\n\u{FEFF}const y = 2\n").is_err());
    assert!(parse_str(" \u{FEFF}const x = 1\n").is_err());
    assert!(parse_str("// c\n\u{FEFF}const x = 1\n").is_err());
}

/// Regression: a word that starts an item (`rule`, `deny`, `when`, ...)
/// used to reset the scan's count wherever it stood, but where an operand
/// is expected the grammar reads it as a name, so `if deny then if deny
/// then ...` nested without bound and overflowed the stack (pest's own
/// stack probe is gone). Every such word, as an operand, must count.
#[test]
fn item_words_as_operands_do_not_reset_the_nesting_count() {
    let words = [
        "rule", "when", "approve", "deny", "review", "reject", "const", "pred", "policy", "rules",
        "defaults", "use", "import",
    ];
    let n = 10_000;
    for w in words {
        let forms = [
            format!(
                "{}1{}",
                format!("if {w} then ").repeat(n),
                " else 2".repeat(n)
            ),
            format!(
                "{}1{}",
                format!("match {w} {{ a => ").repeat(n),
                ", _ => 2 }".repeat(n)
            ),
            format!("{}1", format!("{w} and ").repeat(n)),
            format!("{}1", format!("not {w} or ").repeat(n)),
        ];
        for form in forms {
            let text = format!("const x = {form}");
            let e = on_small_stack(move || parse_str(&text).err().map(|e| *e));
            assert!(matches!(e, Some(SyntaxError::TooDeep { .. })), "{w}: {e:?}");
        }
    }
}

/// Blanks are spaces, tabs and line breaks; every other control character
/// is an error outside strings and comments (the grammar's blank rule is
/// one range from tab to space, so the scan must turn them away).
#[test]
fn control_characters_only_in_strings_and_comments() {
    for b in (0u8..0x20).filter(|b| !b"\t\n\r".contains(b)) {
        let c = char::from(b);
        let e = parse_str(&format!("const x = 1{c}\nconst y = 2\n")).unwrap_err();
        assert!(
            matches!(&*e, SyntaxError::ControlCharacter { name, .. } if *name == format!("U+{b:04X}")),
            "{b:#x}: {e:?}"
        );
        assert!(
            parse_str(&format!("const x = \"a{c}b\" // c{c}d\n")).is_ok(),
            "{b:#x}"
        );
    }
    assert!(parse_str("const x =\t1\r\nconst y = 2\r").is_ok());
}

#[test]
fn only_the_grammars_unit_words_name_a_unit() {
    use super::lower::unit_of;
    assert_eq!(unit_of("working  days"), Some(Unit::WorkingDays));
    assert_eq!(unit_of("year"), Some(Unit::Years));
    assert_eq!(unit_of("months"), Some(Unit::Months));
    // Once any other word was read as years.
    assert_eq!(unit_of("fortnights"), None);
    assert_eq!(unit_of("working"), None);
    assert_eq!(unit_of(""), None);
}

/// Operators of other languages, and a number run into its unit, get the
/// message that names them, wherever in a condition they stand.
#[test]
fn slips_are_named_where_they_stand() {
    let code = |text: &str| {
        let e = parse_str(text).unwrap_err();
        miette::Diagnostic::code(&*e).unwrap().to_string()
    };
    for text in [
        "const x = a || b",
        "const x = a && b",
        "const x = a & b",
        "const x = !a",
        "const x = (a || b) and c",
    ] {
        assert_eq!(code(text), "rpl::syntax::operator_word", "{text}");
    }
    assert_eq!(
        code("const x = 3working days"),
        "rpl::syntax::missing_space"
    );
    // In strings and comments they are text, not mistakes.
    assert!(parse_str("const x = \"a && b || !c ，7days\" // a && b，“”\n").is_ok());
    // `!=` is an operator.
    assert!(parse_str("const x = a != b").is_ok());
    // A string ending in an escaped quote is still open (found by fuzzing).
    assert_eq!(
        code("const x = \"abc\\\"\n"),
        "rpl::syntax::unterminated_string"
    );
    assert_eq!(code("const x = \"\\\""), "rpl::syntax::unterminated_string");
    // A genuine syntax error before a slip is reported first.
    assert_eq!(
        code("const = 1\nconst y = a && b"),
        "rpl::syntax::unexpected"
    );
}

/// A block left open before a line that starts with a character wider
/// than a byte: the label there covers the whole character (found by the
/// random mutations of `tests/it/robustness.rs`).
#[test]
fn an_unclosed_blocks_labels_lie_on_characters() {
    let text = "policy p {\n    rule r {\n        deny\n\u{FFFD} x\n}\n";
    let e = parse_str(text).unwrap_err();
    for label in miette::Diagnostic::labels(&*e).unwrap() {
        let (start, end) = (label.offset(), label.offset() + label.len());
        assert!(text.get(start..end).is_some(), "{start}..{end}");
    }
}

#[test]
fn a_string_with_braces_is_a_template_of_text_and_values() {
    let e = expr(r#""window {w} of {item.paid_amount}, {{literal}} \u{4E2D}""#);
    let ExprKind::Template(parts) = &e.kind else {
        panic!("not a template: {e:?}");
    };
    let shown: Vec<String> = parts
        .iter()
        .map(|p| match p {
            TemplatePart::Text(t) => format!("text {t:?}"),
            TemplatePart::Value(v) => format!("value {}", grouping(v)),
        })
        .collect();
    assert_eq!(
        shown,
        [
            r#"text "window ""#,
            "value w",
            r#"text " of ""#,
            "value item.paid_amount",
            r#"text ", {literal} 中""#,
        ]
    );
    // The value's span is the name inside the braces, for diagnostics.
    let src = r#"const x = "a {window} b""#;
    let file = parse_str(src).unwrap();
    let Some(Item::Const(c)) = file.items.first() else {
        panic!()
    };
    let ExprKind::Template(parts) = &c.value.kind else {
        panic!()
    };
    let Some(TemplatePart::Value(v)) = parts.get(1) else {
        panic!("{parts:?}")
    };
    assert_eq!(&src[v.span.start as usize..v.span.end as usize], "window");
}

#[test]
fn a_string_without_template_braces_stays_a_literal() {
    // An escape's braces are not a value.
    assert_eq!(
        expr(r#""\u{4E2D}""#).kind,
        ExprKind::Lit(Lit::Str("中".into()))
    );
    assert_eq!(
        expr(r#""plain""#).kind,
        ExprKind::Lit(Lit::Str("plain".into()))
    );
}

#[test]
fn a_brace_that_is_not_a_value_is_an_error_at_the_brace() {
    for (text, at) in [
        (r#""open { never closed""#, 16),
        (r#""a } alone""#, 13),
        (r#""{two words}""#, 11),
        (r#""{}""#, 11),
        (r#""{item.}""#, 11),
    ] {
        let src = format!("const x = {text}");
        let err = parse_str(&src).unwrap_err();
        assert!(
            matches!(*err, SyntaxError::BadTemplate { .. }),
            "{text}: {err:?}"
        );
        let label = miette::Diagnostic::labels(&*err).unwrap().next().unwrap();
        assert_eq!(label.offset(), at, "{text}");
    }
}

proptest::proptest! {
    #![proptest_config(proptest::test_runner::Config { cases: 500, ..Default::default() })]

    /// Whatever a string holds, reading it as a template never panics, and
    /// each value found is exactly the name written between its braces.
    #[test]
    fn templates_read_any_string_and_point_at_their_names(
        inner in r#"([a-z_.]|\{|\}|\\\\|\\u\{4E2D\}|\\n| |中){0,24}"#
    ) {
        let src = format!("const x = \"{inner}\"");
        if let Ok(file) = parse_str(&src)
            && let Some(Item::Const(c)) = file.items.first()
            && let ExprKind::Template(parts) = &c.value.kind
        {
            for part in parts {
                if let TemplatePart::Value(v) = part {
                    let (start, end) = (v.span.start as usize, v.span.end as usize);
                    let ExprKind::Path(name) = &v.kind else {
                        panic!("{v:?}")
                    };
                    proptest::prop_assert_eq!(&src[start..end], name.as_str());
                    proptest::prop_assert_eq!(&src[start - 1..start], "{");
                    proptest::prop_assert_eq!(&src[end..end + 1], "}");
                }
            }
        }
    }
}

#[test]
fn a_wildcard_beside_values_is_refused_not_dropped() {
    let err = parse_str("const a = match d { x | _ => 1 }").unwrap_err();
    assert!(matches!(*err, SyntaxError::Unexpected { .. }), "{err:?}");
    // Alone, `_` is the wildcard: an arm with no names.
    let e = expr("match d { x => 1, _ => 2 }");
    let ExprKind::Match { arms, .. } = &e.kind else {
        panic!("{e:?}")
    };
    assert!(arms[1].patterns.is_empty());
}

#[test]
fn a_unicode_escape_takes_hex_digits_only() {
    let err = parse_str(r#"const a = "\u{+41}""#).unwrap_err();
    assert!(matches!(*err, SyntaxError::BadEscape { .. }), "{err:?}");
}
