//! How long `rpl check` takes on a large policy directory: 1,000 files of
//! 50 rules each (the issue's target: "well under a second"), reported as a
//! ratio against baselines measured in the same run: reading the files, and
//! reading + parsing them with `rpl::syntax::parse` only.
//!
//! The directory is generated once, at bench start, into a temporary
//! directory: the shipped `schema.toml` and `calendars/`, a `shared.rpl`
//! with defaults, constants and predicates, 1,000 `rules` groups
//! (`g0000.rpl` .. `g0999.rpl`, 50 rules each) and the three channel
//! policies. A group's rules are type-checked only when a policy `use`s it,
//! so each policy uses a third of the groups: every rule of every file is
//! checked exactly once, and only one policy claims each channel.
//!
//! A second group checks the same 50,000 rules written into one policy
//! file, against the same one-thread read+parse baseline: a file's check
//! must grow with the file, not with its square.
//!
//! A third group checks chains of 1,000, 4,000 and 10,000 files, each
//! importing the next and defining one constant and one rule group, all
//! used by one policy: import resolution and checking must grow with the
//! chain's length (a 4,000-file chain took 8 s, 10,000 files 115 s, when
//! every file's imports were gathered anew with a list search). The
//! baseline is reading and parsing the 4,000 files on one thread.
//!
//! Set `RPL_BENCH_DIR=DIR` to generate into DIR and keep it there.
//!
//! Run: `cargo bench --bench check` (criterion needs at least 10
//! iterations of each; at about 1 s per check that is about 40 s), or
//! `cargo bench --bench check -- --quick` (about 20 s).

// A benchmark's setup failing is a broken benchmark: stop loudly.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::fmt::Write as _;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::{Criterion, SamplingMode, criterion_group, criterion_main};

// The allocator the rpl binary uses, so that the numbers are rpl check's.
#[cfg(all(feature = "jemalloc", not(target_env = "msvc")))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

const GROUPS: usize = 1_000;
const RULES_PER_GROUP: usize = 50;
const CHANNELS: [&str; 3] = ["official_mall", "partner_platform", "offline_store"];

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
const METHODS: [&str; 9] = [
    "bank_card",
    "credit_card",
    "credit_card_installment",
    "huabei_installment",
    "jd_baitiao",
    "xiaomi_installment",
    "alipay",
    "wechat_pay",
    "cash",
];

/// A small deterministic generator (xorshift64*): the same directory on
/// every run, without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len())]
    }

    /// 1 to `max` distinct values of `xs`, in schema order.
    fn subset(&mut self, xs: &[&str], max: usize) -> String {
        let n = 1 + self.below(max);
        let mut chosen = vec![false; xs.len()];
        for _ in 0..n {
            chosen[self.below(xs.len())] = true;
        }
        let names: Vec<&str> = xs
            .iter()
            .zip(&chosen)
            .filter(|(_, c)| **c)
            .map(|(x, _)| *x)
            .collect();
        format!("[{}]", names.join(", "))
    }

    fn money(&mut self) -> String {
        let yuan = [50, 100, 199, 500, 1000, 2999, 4999, 8000, 15000][self.below(9)];
        let fen = [0, 0, 0, 50, 99][self.below(5)];
        format!("{yuan}.{fen:02} CNY")
    }
}

/// One comparison, membership test, date window or named predicate.
fn atom(r: &mut Rng) -> String {
    let cmp = ["<", "<=", ">", ">="];
    match r.below(20) {
        0 => format!("reason == {}", r.pick(&REASONS)),
        1 => format!("reason in {}", r.subset(&REASONS, 3)),
        2 => format!("item.category in {}", r.subset(&CATEGORIES, 4)),
        3 => format!("item.category not in {}", r.subset(&CATEGORIES, 3)),
        4 => format!("item.condition != {}", r.pick(&CONDITIONS)),
        5 => format!("item.condition in {}", r.subset(&CONDITIONS, 2)),
        6 => format!("item.paid_amount {} {}", r.pick(&cmp), r.money()),
        7 => format!(
            "item.paid_amount - item.gift_value {} {}",
            r.pick(&cmp),
            r.money()
        ),
        8 => format!("item.gift_value > {}", r.money()),
        9 => format!("item.quantity >= {}", 1 + r.below(5)),
        10 => format!("payment.installments > {}", 1 + r.below(12)),
        11 => "payment.installments_billed < payment.installments".to_string(),
        12 => format!("payment.method in {}", r.subset(&METHODS, 3)),
        13 => format!(
            "requested_at within {} days after order.delivered_at",
            [3, 7, 14, 15, 30][r.below(5)]
        ),
        14 => format!(
            "requested_at within {} {} after order.delivered_at",
            1 + r.below(3),
            ["months", "working days", "weeks"][r.below(3)]
        ),
        15 => "order.delivered_at is present".to_string(),
        16 => ["item.activated", "item.custom_made", "item.gift_returned"][r.below(3)].to_string(),
        17 => ["inside_7_days", "not_intact", "big_ticket_item"][r.below(3)].to_string(),
        18 => "item.category in excluded_categories".to_string(),
        _ => format!(
            "item.paid_amount > high_value_line or item.quantity > {}",
            2 + r.below(3)
        ),
    }
}

/// `and`/`or`/`not` over 1 to 4 atoms, with parentheses.
fn condition(r: &mut Rng) -> String {
    let n = 1 + r.below(4);
    let mut out = String::new();
    for i in 0..n {
        if i > 0 {
            out.push_str(if r.below(3) == 0 { " or " } else { " and " });
        }
        let a = atom(r);
        match r.below(6) {
            0 => write!(out, "not ({a})").unwrap(),
            1 if n > 1 => write!(out, "({a} or {})", atom(r)).unwrap(),
            _ => out.push_str(&a),
        }
    }
    out
}

fn outcome(r: &mut Rng, g: usize, i: usize) -> String {
    match r.below(3) {
        0 => {
            let mut o = String::from("approve {\n");
            match r.below(3) {
                0 => o.push_str("            return_shipping = merchant\n"),
                1 => o.push_str("            return_shipping = buyer\n"),
                _ => {}
            }
            if r.below(3) == 0 {
                o.push_str("            documents += [photos]\n");
            }
            if r.below(4) == 0 {
                writeln!(
                    o,
                    "            refund = max(item.paid_amount - {}, 0.00 CNY)",
                    r.money()
                )
                .unwrap();
            }
            writeln!(o, "            message = \"group {g} rule {i}: approved\"").unwrap();
            o.push_str("        }");
            o
        }
        1 => {
            let offers = ["[exchange]", "[repair]", "[exchange, repair]"][r.below(3)];
            format!(
                "deny {{\n            offers = {offers}\n            message = \"group {g} rule {i}: 不予退款\"\n        }}"
            )
        }
        _ => format!(
            "review {{\n            documents += [fault_certificate]\n            message = \"group {g} rule {i}: a person decides\"\n        }}"
        ),
    }
}

/// `gNNNN.rpl`: one group of 50 rules (47 `rule`s, a `reject`, two `after`s).
fn group_file(g: usize, r: &mut Rng) -> String {
    format!(
        "//! Generated rule group {g}.\n\nimport \"../shared.rpl\"\n\n/// Rules of group {g}.\nrules g{g:04} {{\n{}}}\n",
        group_rules(g, r)
    )
}

/// The 50 rules of group `g`, indented for a `rules` or `policy` block.
fn group_rules(g: usize, r: &mut Rng) -> String {
    let mut s = String::new();
    for i in 0..RULES_PER_GROUP {
        let name = format!("g{g:04}_r{i:02}");
        match i {
            0 => writeln!(
                s,
                "    reject {name} \"cash above the counter limit\" {{\n        when payment.method == cash and item.paid_amount > 50000.00 CNY\n    }}\n"
            )
            .unwrap(),
            48 => writeln!(
                s,
                "    after {name} \"复核\" {{\n        when decision == approve and refund > {}\n        review {{\n            message = \"large refund: a person reviews it\"\n        }}\n    }}\n",
                r.money()
            )
            .unwrap(),
            49 => writeln!(
                s,
                "    after {name} {{\n        when decided_by == g{g:04}_r{:02} and item.quantity > 3\n        deny {{\n            offers = [repair]\n        }}\n    }}\n",
                1 + r.below(47)
            )
            .unwrap(),
            _ => {
                let label = if i % 5 == 0 {
                    format!(" \"规则 {i}\"")
                } else {
                    String::new()
                };
                writeln!(
                    s,
                    "    /// Generated rule {i}.\n    rule {name}{label} {{\n        when {}\n        {}\n    }}\n",
                    condition(r),
                    outcome(r, g, i)
                )
                .unwrap();
            }
        }
    }
    s
}

const SHARED: &str = r#"//! What the generated policies share.

const excluded_categories = [digital, perishable, periodical]
const high_value_line = 8000.00 CNY

pred not_intact "商品不完好" = item.activated or item.condition in [used, damaged]
pred inside_7_days "签收后七日内" = requested_at within 7 days after order.delivered_at
pred big_ticket_item = item.category in [phone, laptop, tv] and item.paid_amount >= 3000.00 CNY

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
    settlement = if payment.method == cash
        then requested_at .. requested_at
        else requested_at + 3 working days .. requested_at + 15 working days
    documents = [order_number, payment_proof]
}
"#;

/// A channel policy using groups `range`, then a final unconditional rule.
fn policy_file(channel: &str, range: std::ops::Range<usize>) -> String {
    let mut s = String::new();
    for g in range.clone() {
        writeln!(s, "import \"groups/g{g:04}.rpl\"").unwrap();
    }
    s.push_str(&policy_header(channel));
    for g in range {
        writeln!(s, "    use g{g:04}").unwrap();
    }
    s.push_str(FALLBACK);
    s
}

/// A policy's opening line and settings, and the defaults it uses.
fn policy_header(channel: &str) -> String {
    format!(
        "\npolicy {channel} {{\n    channel = {channel}\n    version = \"bench\"\n    currency = CNY\n    timezone = \"Asia/Shanghai\"\n    calendar = \"calendars/cn.toml\"\n\n    use standard\n"
    )
}

/// The last rule of every policy, and the policy's closing brace.
const FALLBACK: &str = "\n    rule fallback \"兜底\" {\n        review {\n            message = \"no rule applied: a person decides\"\n        }\n    }\n}\n";

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// The shipped `schema.toml` and `calendars/`, and `shared.rpl`, in `dir`.
fn write_base(dir: &Path) {
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("policies");
    std::fs::copy(shipped.join("schema.toml"), dir.join("schema.toml")).unwrap();
    copy_dir(&shipped.join("calendars"), &dir.join("calendars"));
    std::fs::write(dir.join("shared.rpl"), SHARED).unwrap();
}

/// Writes the policy directory into `dir`; returns every `.rpl` file.
fn generate(dir: &Path) -> Vec<PathBuf> {
    write_base(dir);
    std::fs::create_dir_all(dir.join("groups")).unwrap();
    let mut files = vec![dir.join("shared.rpl")];
    let mut write = |path: PathBuf, text: String| {
        std::fs::write(&path, text).unwrap();
        files.push(path);
    };
    let mut r = Rng(0x5EED_2025);
    for g in 0..GROUPS {
        write(
            dir.join(format!("groups/g{g:04}.rpl")),
            group_file(g, &mut r),
        );
    }
    let per = GROUPS.div_ceil(CHANNELS.len());
    for (i, channel) in CHANNELS.iter().enumerate() {
        let range = i * per..((i + 1) * per).min(GROUPS);
        write(
            dir.join(format!("{channel}.rpl")),
            policy_file(channel, range),
        );
    }
    files
}

/// The same 50,000 rules written straight into one policy, in `dir`: its
/// check must grow with the file, not with its square (a lookup of doc
/// comments once scanned all of a file's comments for every rule).
fn generate_one_file(dir: &Path) {
    write_base(dir);
    let mut s = String::from("import \"shared.rpl\"\n");
    s.push_str(&policy_header(CHANNELS[0]));
    let mut r = Rng(0x5EED_2025);
    for g in 0..GROUPS {
        s.push_str(&group_rules(g, &mut r));
    }
    s.push_str(FALLBACK);
    std::fs::write(dir.join(format!("{}.rpl", CHANNELS[0])), s).unwrap();
}

/// A chain of `n` files, `chain/c00000.rpl` importing `c00001.rpl` and so
/// on, each defining a constant and a group with one rule that uses it;
/// `official_mall.rpl` imports the first and uses every group. Returns the
/// chain's files.
fn generate_chain(dir: &Path, n: usize) -> Vec<PathBuf> {
    write_base(dir);
    std::fs::create_dir_all(dir.join("chain")).unwrap();
    let mut files = Vec::with_capacity(n);
    for i in 0..n {
        let mut s = String::new();
        if i + 1 < n {
            writeln!(s, "import \"c{:05}.rpl\"", i + 1).unwrap();
        }
        writeln!(
            s,
            "\nconst limit_{i} = {i}.00 CNY\n\nrules g{i} {{\n    rule r{i} {{\n        when item.paid_amount > limit_{i} and reason == other\n        deny\n    }}\n}}"
        )
        .unwrap();
        let path = dir.join(format!("chain/c{i:05}.rpl"));
        std::fs::write(&path, s).unwrap();
        files.push(path);
    }
    let mut s = String::from("import \"shared.rpl\"\nimport \"chain/c00000.rpl\"\n");
    s.push_str(&policy_header(CHANNELS[0]));
    for i in 0..n {
        writeln!(s, "    use g{i}").unwrap();
    }
    s.push_str(FALLBACK);
    std::fs::write(dir.join(format!("{}.rpl", CHANNELS[0])), s).unwrap();
    files
}

/// Reads every file (the I/O floor of any check).
fn read_all(files: &[PathBuf]) -> usize {
    files
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap().len())
        .sum()
}

/// Reads and parses every file, no imports, no checking.
fn parse_all(files: &[PathBuf]) -> usize {
    let mut items = 0;
    for (i, p) in files.iter().enumerate() {
        let text = std::fs::read_to_string(p).unwrap();
        let source = rpl::source::SourceFile::new(p.clone(), p.display().to_string(), text);
        let file = rpl::syntax::parse(rpl::source::FileId(i as u32), &source).unwrap();
        items += file.items.len();
    }
    items
}

/// Below 10 × one iteration of the slow benchmarks, so that each sample is
/// a single iteration (criterion warns that it cannot finish in this time;
/// it runs 10).
const SLOW_MEASUREMENT: Duration = Duration::from_secs(10);

/// A group for benchmarks of a second or so: the fewest samples criterion
/// allows, one iteration each, and a warm-up of a single iteration.
fn slow_group<'c>(
    c: &'c mut Criterion,
    name: &str,
) -> criterion::BenchmarkGroup<'c, criterion::measurement::WallTime> {
    let mut g = c.benchmark_group(name);
    g.sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(1))
        .measurement_time(SLOW_MEASUREMENT);
    g
}

fn bench_check(c: &mut Criterion) {
    // `RPL_BENCH_DIR=DIR` keeps the generated directory, to profile
    // `rpl check DIR` on it.
    let tmp = tempfile::tempdir().unwrap();
    let root = match std::env::var_os("RPL_BENCH_DIR") {
        Some(dir) => {
            std::fs::create_dir_all(&dir).unwrap();
            PathBuf::from(dir)
        }
        None => tmp.path().to_path_buf(),
    };
    let files = generate(&root);
    let dir = vec![root.clone()];
    let bytes = read_all(&files);

    // Once, outside the timed loop: the generated set must check cleanly
    // (and every file be parsed), or the numbers mean nothing.
    let checked = rpl::load::check_paths(&dir);
    if checked.has_errors() {
        let errors = checked
            .diagnostics
            .iter()
            .filter(|d| rpl::check::is_error(d.as_ref()));
        for d in errors.take(5) {
            eprintln!("{d}: {d:?}");
        }
        panic!(
            "the generated policies have errors ({} diagnostics)",
            checked.diagnostics.len()
        );
    }
    let program = checked.program.as_ref().unwrap();
    let rules: usize = program.policies.iter().map(|p| p.rules.len()).sum();
    assert_eq!(program.policies.len(), CHANNELS.len());
    assert_eq!(rules, GROUPS * RULES_PER_GROUP + CHANNELS.len());
    eprintln!(
        "generated {} files ({} groups × {} rules, {:.1} MB); check: {} rules checked, {} warnings",
        files.len(),
        GROUPS,
        RULES_PER_GROUP,
        bytes as f64 / 1e6,
        rules,
        checked.diagnostics.len()
    );
    drop(checked);

    let mut g = slow_group(c, "check_1000_files_x_50_rules");
    g.measurement_time(Duration::from_secs(3));
    g.bench_function("baseline_read_files", |b| {
        b.iter(|| black_box(read_all(black_box(&files))))
    });
    g.measurement_time(SLOW_MEASUREMENT);
    g.bench_function("baseline_read_and_parse", |b| {
        b.iter(|| black_box(parse_all(black_box(&files))))
    });
    // The result is dropped outside the timed part: `rpl check` exits
    // without freeing it.
    g.bench_function("check_paths", |b| {
        b.iter_with_large_drop(|| rpl::load::check_paths(black_box(&dir)))
    });
    g.finish();

    // The same rules in one file; compare with `baseline_read_and_parse`
    // above, which reads and parses the same rules on one thread.
    let one = tempfile::tempdir().unwrap();
    generate_one_file(one.path());
    let one_dir = vec![one.path().to_path_buf()];
    let checked = rpl::load::check_paths(&one_dir);
    assert!(!checked.has_errors(), "the one-file policy has errors");
    let rules: usize = checked
        .program
        .as_ref()
        .map_or(0, |p| p.policies.iter().map(|p| p.rules.len()).sum());
    assert_eq!(rules, GROUPS * RULES_PER_GROUP + 1);
    drop(checked);
    let mut g = slow_group(c, "check_one_file_x_50000_rules");
    g.bench_function("check_paths", |b| {
        b.iter_with_large_drop(|| rpl::load::check_paths(black_box(&one_dir)))
    });
    g.finish();
}

fn bench_chain(c: &mut Criterion) {
    let mut dirs = Vec::new();
    let mut four_thousand = Vec::new();
    for n in [1_000, 4_000, 10_000] {
        let tmp = tempfile::tempdir().unwrap();
        let files = generate_chain(tmp.path(), n);
        let dir = vec![tmp.path().to_path_buf()];
        let checked = rpl::load::check_paths(&dir);
        assert!(!checked.has_errors(), "the {n}-file chain has errors");
        let rules: usize = checked
            .program
            .as_ref()
            .map_or(0, |p| p.policies.iter().map(|p| p.rules.len()).sum());
        assert_eq!(rules, n + 1);
        drop(checked);
        if n == 4_000 {
            four_thousand = files;
        }
        dirs.push((n, dir, tmp));
    }
    let mut g = slow_group(c, "check_import_chain");
    g.bench_function("baseline_read_and_parse_4000", |b| {
        b.iter(|| black_box(parse_all(black_box(&four_thousand))))
    });
    for (n, dir, _) in &dirs {
        g.bench_function(format!("check_paths_{n}"), |b| {
            b.iter_with_large_drop(|| rpl::load::check_paths(black_box(dir)))
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    // The numbers and ratios are read from the text report; plotting costs
    // seconds per benchmark.
    config = Criterion::default().without_plots();
    targets = bench_check, bench_chain
}
criterion_main!(benches);
