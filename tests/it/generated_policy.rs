//! A generated policy of 200 rules, held in memory: what the analysis
//! benchmark (`benches/analysis.rs`) times and `tests/it/analysis.rs`
//! runs untimed, so that the generator cannot rot unnoticed.
//!
//! One policy file with the shipped `schema.toml` and calendar: a reject,
//! 198 rules mixing enum tests (`reason`, `item.category`,
//! `payment.method`, `item.condition`), a flag (`item.activated`), amount
//! thresholds (`item.paid_amount > N CNY`) and windows (`requested_at
//! within N days after order.delivered_at`), some with `or` or `not`,
//! then a fallback rule without `when`. Deterministic: each rule is a
//! function of its index.
//!
//! Planted: `planted_dead` (rule 150) is unreachable, since
//! `planted_cover` (rule 20) takes every request it would.

use std::fmt::Write as _;
use std::path::Path;

/// Rules in the policy, the fallback included (the reject not).
pub const RULES: usize = 200;

const CATEGORIES: [&str; 10] = [
    "phone",
    "tablet",
    "laptop",
    "wearable",
    "accessory",
    "tv",
    "appliance",
    "digital",
    "perishable",
    "periodical",
];
const REASONS: [&str; 5] = [
    "no_reason",
    "performance_fault",
    "damaged_in_transit",
    "wrong_item",
    "other",
];
const CONDITIONS: [&str; 4] = ["unopened", "opened_intact", "used", "damaged"];
const METHODS: [&str; 8] = [
    "bank_card",
    "credit_card",
    "credit_card_installment",
    "huabei_installment",
    "jd_baitiao",
    "xiaomi_installment",
    "alipay",
    "wechat_pay",
];
const AMOUNTS: [&str; 6] = [
    "100.00", "500.00", "1999.00", "5000.00", "8000.00", "20000.00",
];
const WINDOWS: [u32; 4] = [7, 15, 30, 90];

/// Small index-based mixing (splitmix64), so that neighbouring rules
/// differ.
fn mix(i: usize, salt: u64) -> usize {
    let mut z = (i as u64)
        .wrapping_add(salt.wrapping_mul(0x9E37_79B9_7F4A_7C15))
        .wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    (z ^ (z >> 31)) as usize
}

fn pick<'a>(xs: &[&'a str], i: usize, salt: u64) -> &'a str {
    xs[mix(i, salt) % xs.len()]
}

/// Two distinct values of `xs`, in schema order.
fn pair(xs: &[&str], i: usize, salt: u64) -> String {
    let a = mix(i, salt) % xs.len();
    let b = (a + 1 + mix(i, salt + 1) % (xs.len() - 1)) % xs.len();
    let (a, b) = (a.min(b), a.max(b));
    format!("[{}, {}]", xs[a], xs[b])
}

/// An extra test of rule `i` (`k` tells a rule's tests apart).
fn atom(i: usize, k: u64) -> String {
    let s = 10 * k;
    match mix(i, s) % 6 {
        0 => format!("payment.method in {}", pair(&METHODS, i, s + 1)),
        1 => format!("item.condition != {}", pick(&CONDITIONS, i, s + 1)),
        2 => "item.activated".to_owned(),
        3 => "not item.activated".to_owned(),
        4 => format!("item.paid_amount > {} CNY", pick(&AMOUNTS, i, s + 1)),
        _ => format!(
            "requested_at within {} days after order.delivered_at",
            WINDOWS[mix(i, s + 1) % WINDOWS.len()]
        ),
    }
}

/// The condition of rule `i`, as a rulebook is laid out: rule `i` is
/// about one category (`i % 10`) and one reason (`i / 10 % 5`), each
/// pair's four rules narrowed by one or two more tests (a window, an
/// amount, a flag, a payment method, a condition); every seventh rule
/// also takes a second category (`or`), every eleventh leaves out one
/// condition (`not`).
fn condition(i: usize) -> String {
    let category = CATEGORIES[i % CATEGORIES.len()];
    let reason = REASONS[i / CATEGORIES.len() % REASONS.len()];
    let mut out = if i % 7 == 3 {
        let other = CATEGORIES[(i + 3) % CATEGORIES.len()];
        format!("(item.category == {category} or item.category == {other})")
    } else {
        format!("item.category == {category}")
    };
    out.push_str(&format!(" and reason == {reason}"));
    for k in 0..1 + mix(i, 99) as u64 % 2 {
        out.push_str(" and ");
        out.push_str(&atom(i, k));
    }
    if i % 11 == 5 {
        out.push_str(&format!(
            " and not (item.condition in {})",
            pair(&CONDITIONS, i, 55)
        ));
    }
    out
}

fn outcome(i: usize) -> String {
    match mix(i, 77) % 3 {
        0 => format!(
            "approve {{\n            return_shipping = merchant\n            message = \"rule {i}: approved\"\n        }}"
        ),
        1 => format!(
            "deny {{\n            offers = [exchange, repair]\n            message = \"rule {i}: denied\"\n        }}"
        ),
        _ => format!(
            "review {{\n            documents += [photos]\n            message = \"rule {i}: a person decides\"\n        }}"
        ),
    }
}

/// The policy file's text.
pub fn policy_text() -> String {
    let mut s = String::from(HEADER);
    for i in 0..RULES {
        let (name, when) = match i {
            0 => ("undelivered".to_owned(), Some("order.delivered_at is absent".to_owned())),
            20 => (
                "planted_cover".to_owned(),
                Some("reason == wrong_item and item.category in [phone, tv]".to_owned()),
            ),
            150 => (
                "planted_dead".to_owned(),
                Some(
                    "item.category == tv and reason == wrong_item and item.paid_amount > 500.00 CNY"
                        .to_owned(),
                ),
            ),
            _ if i == RULES - 1 => ("fallback".to_owned(), None),
            _ => (format!("r{i:03}"), Some(condition(i))),
        };
        writeln!(s, "    rule {name} {{").unwrap();
        if let Some(w) = when {
            writeln!(s, "        when {w}").unwrap();
        }
        writeln!(s, "        {}\n    }}\n", outcome(i)).unwrap();
    }
    s.push_str("}\n");
    s
}

const HEADER: &str = r#"//! Generated: 200 rules for the analysis benchmark.

defaults standard {
    refund = max(
        item.paid_amount - (if item.gift_returned then 0.00 CNY else item.gift_value),
        0.00 CNY
    )
    route = match payment.method {
        bank_card => bank_card,
        credit_card => credit_card,
        credit_card_installment => credit_card_next_statement,
        huabei_installment => huabei,
        jd_baitiao => jd_baitiao,
        xiaomi_installment => xiaomi_installment,
        alipay => alipay,
        wechat_pay => wechat_pay,
        cash => store_counter,
    }
    installments = if payment.installments > 1 then cancel_remaining else none
    settlement = requested_at + 3 working days .. requested_at + 15 working days
    documents = [order_number, payment_proof]
}

policy generated {
    channel = official_mall
    version = "bench"
    currency = CNY
    timezone = "Asia/Shanghai"
    calendar = "calendars/cn.toml"

    use standard

    reject cash_online "cash payment is only possible in a store" {
        when payment.method == cash
    }

"#;

/// The policy directory in memory: the shipped `schema.toml` and calendar
/// (read from `policies/`), and the generated policy.
pub fn sources() -> rpl::source::Sources {
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("policies");
    let read = |p: &str| std::fs::read_to_string(shipped.join(p)).unwrap();
    let mut sources = rpl::source::Sources::new("generated");
    sources.insert("schema.toml", read("schema.toml"));
    sources.insert("calendars/cn.toml", read("calendars/cn.toml"));
    sources.insert("generated.rpl", policy_text());
    sources
}

/// Checks and compiles the generated policy (errors fail loudly).
pub fn compiled() -> rpl::compile::Compiled {
    let checked = rpl::check::check(&sources(), None);
    if checked.has_errors() {
        for d in checked
            .diagnostics
            .iter()
            .filter(|d| rpl::check::is_error(d.as_ref()))
            .take(5)
        {
            eprintln!("{d}: {d:?}");
        }
        panic!("the generated policy has errors");
    }
    rpl::compile::compile(checked.program.as_ref().unwrap()).unwrap()
}
