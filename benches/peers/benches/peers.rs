//! RPL against peer rule engines on one small refund rule, all in one
//! process and one run (benches/peers/README.md).
//!
//! The rule: a refund is eligible for a no-reason return of intact goods
//! (unopened or opened to inspect), not activated, paid at most 5000.00;
//! an eligible refund goes back by the route of its payment method. Each
//! engine answers "the route, or none when not eligible" from its own
//! program: `small/refund.rpl` (RPL), `rules/refund.zen`,
//! `rules/refund.rego` (regorus, its RVM), `rules/refund.cel`,
//! `rules/refund.cedar`.
//!
//! Before anything is timed, every engine decides every generated order,
//! from pre-decoded input and from JSON text, and must agree with RPL; the
//! first disagreement stops the run.
//!
//! Timed (criterion), per engine: deciding one order from pre-decoded
//! input (`decide_predecoded`) and from the same JSON text
//! (`decide_from_json`), one order after another through the generated
//! set; and preparing the rule from its text in memory (`prepare`),
//! beside RPL checking and compiling the shipped policies from memory.
//! At the end, a table of the medians and the ratios, read from this
//! run's criterion estimates; then RPL and zen-expression timed back to
//! back in rounds (`paired`), the ratios the targets are read from.
//!
//! Run: `cd benches/peers && cargo bench` (a few minutes once built; the
//! first build takes many).

// A benchmark's setup failing is a broken benchmark: stop loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::{Duration, Instant, SystemTime};

use criterion::Criterion;
use rpl::testing::SplitMix64;

// One allocator for every engine in the process: the one the rpl binary
// ships with (RPL as a library leaves the choice to its user).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// How many orders are generated (and cycled through while timing).
const ORDERS: usize = 4000;
const SEED: u64 = 12;

const ZEN: &str = include_str!("../rules/refund.zen");
const REGO: &str = include_str!("../rules/refund.rego");
const REGO_ENTRY: &str = "data.refund.route";
const CEL: &str = include_str!("../rules/refund.cel");
const CEDAR: &str = include_str!("../rules/refund.cedar");

/// What every engine answers for an order: the route of an eligible
/// refund, `None` when it is not eligible.
type Answer = Option<String>;

// ---------------------------------------------------------------------
// Orders

fn pick<'a>(rng: &mut SplitMix64, values: &[&'a str]) -> &'a str {
    values[rng.below(values.len() as u64) as usize]
}

/// Varied requests of the builtin schema, every field given (the peers
/// read them without defaults): about half eligible, every payment
/// method, and amounts at the threshold and a cent either side of it.
fn generate_orders(count: usize, seed: u64) -> Vec<String> {
    let mut rng = SplitMix64::new(seed);
    let reasons = [
        "no_reason",
        "performance_fault",
        "damaged_in_transit",
        "wrong_item",
        "other",
    ];
    let conditions = ["unopened", "opened_intact", "used", "damaged"];
    let categories = ["phone", "tablet", "laptop", "wearable", "accessory", "tv"];
    let methods = [
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
    (0..count)
        .map(|i| {
            // Mostly what the rule approves, so that every test is read.
            let reason = if rng.below(4) < 3 {
                "no_reason"
            } else {
                pick(&mut rng, &reasons)
            };
            let condition = if rng.below(5) < 4 {
                pick(&mut rng, &conditions[..2])
            } else {
                pick(&mut rng, &conditions)
            };
            let activated = rng.below(6) == 0;
            let cents = match rng.below(10) {
                0 => 500_000 + rng.below(3) - 1, // 4999.99, 5000.00, 5000.01
                1..=6 => rng.below(500_000),
                _ => rng.below(2_000_000),
            };
            let method = methods[i % methods.len()];
            let installments = if method.ends_with("installment") {
                3 + rng.below(10)
            } else {
                1
            };
            serde_json::json!({
                "request_id": format!("PB-{i:05}"),
                "channel": "official_mall",
                "requested_at": "2025-03-10T10:20:00+08:00",
                "reason": reason,
                "order": {
                    "order_id": format!("52503{:08}", rng.below(100_000_000)),
                    "placed_at": "2025-03-01T21:03:00+08:00",
                    "delivered_at": "2025-03-04T15:40:00+08:00",
                },
                "item": {
                    "sku": format!("SKU-{:04}", rng.below(10_000)),
                    "category": pick(&mut rng, &categories),
                    "paid_amount": format!("{}.{:02}", cents / 100, cents % 100),
                    "quantity": 1 + rng.below(3),
                    "condition": condition,
                    "activated": activated,
                    "custom_made": false,
                    "non_returnable_confirmed": false,
                    "gift_value": "0.00",
                    "gift_returned": true,
                },
                "payment": {
                    "method": method,
                    "currency": "CNY",
                    "installments": installments,
                    "installments_billed": 0,
                },
            })
            .to_string()
        })
        .collect()
}

// ---------------------------------------------------------------------
// The engines: each prepared once, then deciding from its own pre-decoded
// input or from JSON text. The timed calls return the engine's own result;
// `answer` turns it into an `Answer` for the agreement check only.

/// The whole directory `dir` read into memory, as the loader reads it.
fn sources_of(dir: &Path) -> rpl::source::Sources {
    rpl::load::read_dir(dir).unwrap()
}

struct Rpl {
    engine: rpl::Engine,
}

impl Rpl {
    fn prepare(sources: &rpl::source::Sources) -> Rpl {
        Rpl {
            engine: rpl::Engine::from_sources(sources).unwrap_or_else(|e| panic!("{e}")),
        }
    }
    fn decode(&self, text: &str) -> rpl::request::Request {
        self.engine
            .schema()
            .decode_json(text)
            .unwrap_or_else(|_| panic!("not a request: {text}"))
    }
    fn decide(&self, request: &rpl::request::Request) -> rpl::Outcome {
        self.engine.evaluate(request, false)
    }
    fn decide_json(&self, text: &str) -> rpl::Outcome {
        self.engine.evaluate_json(text, false)
    }
    fn answer(outcome: &rpl::Outcome) -> Answer {
        match outcome {
            rpl::Outcome::Decision(d) => match d.decision {
                rpl::vocab::Verdict::Approve => Some(d.refund.as_ref().unwrap().route.to_string()),
                rpl::vocab::Verdict::Deny => None,
                rpl::vocab::Verdict::Review => panic!("the small rule never reviews"),
            },
            rpl::Outcome::Failure(f) => panic!("RPL failed: {}", f.error.message),
        }
    }
}

/// zen-expression: the compiled `Expression` and one reused `VM`, as its
/// documentation advises for many evaluations.
struct Zen {
    expression: zen_expression::Expression<zen_expression::expression::Standard>,
    vm: zen_expression::vm::VM,
}

impl Zen {
    fn prepare(source: &str) -> Zen {
        Zen {
            expression: zen_expression::compile_expression(source).unwrap(),
            vm: zen_expression::vm::VM::new(),
        }
    }
    fn decode(text: &str) -> zen_expression::Variable {
        serde_json::from_str(text).unwrap()
    }
    fn decide(&mut self, input: &zen_expression::Variable) -> zen_expression::Variable {
        // A clone of a `Variable` is a reference count.
        self.expression
            .evaluate_with(input.clone(), &mut self.vm)
            .unwrap()
    }
    fn decide_json(&mut self, text: &str) -> zen_expression::Variable {
        let input: zen_expression::Variable = serde_json::from_str(text).unwrap();
        self.expression.evaluate_with(input, &mut self.vm).unwrap()
    }
    fn answer(result: &zen_expression::Variable) -> Answer {
        match result {
            zen_expression::Variable::Null => None,
            zen_expression::Variable::String(s) => Some(s.to_string()),
            other => panic!("zen answered {other:?}"),
        }
    }
}

/// regorus: the policy compiled to an RVM program, run by one reused
/// `RegoVM` (what its `hot` benchmarks time).
struct Rego {
    vm: regorus::rvm::RegoVM,
}

impl Rego {
    fn prepare(source: &str) -> Rego {
        let mut engine = regorus::Engine::new();
        engine
            .add_policy("refund.rego".to_owned(), source.to_owned())
            .unwrap();
        let compiled = engine
            .compile_with_entrypoint(&regorus::Rc::from(REGO_ENTRY))
            .unwrap();
        let program = regorus::languages::rego::compiler::Compiler::compile_from_policy(
            &compiled,
            &[REGO_ENTRY],
        )
        .unwrap();
        let mut vm = regorus::rvm::RegoVM::new_with_policy(compiled);
        vm.load_program(program);
        vm.set_data(regorus::Value::new_object()).unwrap();
        Rego { vm }
    }
    fn decode(text: &str) -> regorus::Value {
        regorus::Value::from_json_str(text).unwrap()
    }
    fn decide(&mut self, input: &regorus::Value) -> regorus::Value {
        // A clone of a `Value` is a reference count.
        self.vm.set_input(input.clone());
        self.vm.execute().unwrap()
    }
    fn decide_json(&mut self, text: &str) -> regorus::Value {
        self.vm
            .set_input(regorus::Value::from_json_str(text).unwrap());
        self.vm.execute().unwrap()
    }
    fn answer(result: &regorus::Value) -> Answer {
        match result {
            regorus::Value::Null => None,
            regorus::Value::String(s) => Some(s.to_string()),
            other => panic!("regorus answered {other:?}"),
        }
    }
}

/// cel: the compiled `Program`; a pre-decoded order is a `Context` holding
/// it as `request`; from JSON, the text becomes a `serde_json::Value`, then
/// a CEL value (`cel::to_value`) bound in one reused context.
struct Cel {
    program: cel::Program,
    context: cel::Context<'static, 'static>,
}

impl Cel {
    fn prepare(source: &str) -> Cel {
        Cel {
            program: cel::Program::compile(source).unwrap(),
            context: cel::Context::default(),
        }
    }
    fn value(text: &str) -> cel::Value {
        let json: serde_json::Value = serde_json::from_str(text).unwrap();
        cel::to_value(&json).unwrap()
    }
    fn decode(text: &str) -> cel::Context<'static, 'static> {
        let mut context = cel::Context::default();
        context.add_variable_from_value("request", Cel::value(text));
        context
    }
    fn decide(&self, context: &cel::Context<'static, 'static>) -> cel::Value {
        self.program.execute(context).unwrap()
    }
    fn decide_json(&mut self, text: &str) -> cel::Value {
        self.context
            .add_variable_from_value("request", Cel::value(text));
        self.program.execute(&self.context).unwrap()
    }
    fn answer(result: &cel::Value) -> Answer {
        match result {
            cel::Value::Null => None,
            cel::Value::String(s) => Some(s.to_string()),
            other => panic!("cel answered {other:?}"),
        }
    }
}

/// cedar-policy: the policy set and an `Authorizer`; a pre-decoded order is
/// a `Request` whose context is the order; from JSON, `Context::from_json_str`
/// and `Request::new`. Entities: none.
struct Cedar {
    policies: cedar_policy::PolicySet,
    authorizer: cedar_policy::Authorizer,
    entities: cedar_policy::Entities,
    /// The route each `permit` stands for (its `@route` annotation).
    routes: HashMap<cedar_policy::PolicyId, String>,
    principal: cedar_policy::EntityUid,
    action: cedar_policy::EntityUid,
    resource: cedar_policy::EntityUid,
}

impl Cedar {
    fn prepare(source: &str) -> Cedar {
        let policies = cedar_policy::PolicySet::from_str(source).unwrap();
        let routes = policies
            .policies()
            .filter_map(|p| Some((p.id().clone(), p.annotation("route")?.to_owned())))
            .collect();
        Cedar {
            policies,
            authorizer: cedar_policy::Authorizer::new(),
            entities: cedar_policy::Entities::empty(),
            routes,
            principal: cedar_policy::EntityUid::from_str(r#"Buyer::"buyer""#).unwrap(),
            action: cedar_policy::EntityUid::from_str(r#"Action::"refund""#).unwrap(),
            resource: cedar_policy::EntityUid::from_str(r#"Order::"order""#).unwrap(),
        }
    }
    fn request(&self, text: &str) -> cedar_policy::Request {
        let context = cedar_policy::Context::from_json_str(text, None).unwrap();
        cedar_policy::Request::new(
            self.principal.clone(),
            self.action.clone(),
            self.resource.clone(),
            context,
            None,
        )
        .unwrap()
    }
    fn decide(&self, request: &cedar_policy::Request) -> cedar_policy::Response {
        self.authorizer
            .is_authorized(request, &self.policies, &self.entities)
    }
    fn decide_json(&self, text: &str) -> cedar_policy::Response {
        let request = self.request(text);
        self.authorizer
            .is_authorized(&request, &self.policies, &self.entities)
    }
    fn answer(&self, response: &cedar_policy::Response) -> Answer {
        let errors: Vec<_> = response.diagnostics().errors().collect();
        assert!(errors.is_empty(), "cedar: {errors:?}");
        match response.decision() {
            cedar_policy::Decision::Deny => None,
            cedar_policy::Decision::Allow => {
                let mut routes = response
                    .diagnostics()
                    .reason()
                    .filter_map(|id| self.routes.get(id));
                let route = routes.next().expect("an allow has a permit");
                assert!(routes.next().is_none(), "one route");
                Some(route.clone())
            }
        }
    }
}

// ---------------------------------------------------------------------
// Agreement, then timing

struct Inputs {
    texts: Vec<String>,
    rpl: Vec<rpl::request::Request>,
    zen: Vec<zen_expression::Variable>,
    rego: Vec<regorus::Value>,
    cel: Vec<cel::Context<'static, 'static>>,
    cedar: Vec<cedar_policy::Request>,
}

/// Every engine, from both inputs, answers what RPL answers for every
/// order; returns how many were eligible per route, for the report.
fn check_agreement(
    inputs: &Inputs,
    rpl: &Rpl,
    zen: &mut Zen,
    rego: &mut Rego,
    cel: &mut Cel,
    cedar: &Cedar,
) -> Vec<(String, usize)> {
    let mut counts: HashMap<String, usize> = HashMap::new();
    for (i, text) in inputs.texts.iter().enumerate() {
        let expected = Rpl::answer(&rpl.decide(&inputs.rpl[i]));
        let answers = [
            ("RPL from JSON", Rpl::answer(&rpl.decide_json(text))),
            ("zen", Zen::answer(&zen.decide(&inputs.zen[i]))),
            ("zen from JSON", Zen::answer(&zen.decide_json(text))),
            ("regorus", Rego::answer(&rego.decide(&inputs.rego[i]))),
            ("regorus from JSON", Rego::answer(&rego.decide_json(text))),
            ("cel", Cel::answer(&cel.decide(&inputs.cel[i]))),
            ("cel from JSON", Cel::answer(&cel.decide_json(text))),
            ("cedar", cedar.answer(&cedar.decide(&inputs.cedar[i]))),
            ("cedar from JSON", cedar.answer(&cedar.decide_json(text))),
        ];
        for (engine, answer) in answers {
            if answer != expected {
                panic!("order {i}: {engine} answers {answer:?}, RPL {expected:?}\n{text}");
            }
        }
        *counts
            .entry(expected.unwrap_or_else(|| "(not eligible)".to_owned()))
            .or_default() += 1;
    }
    let mut counts: Vec<_> = counts.into_iter().collect();
    counts.sort();
    counts
}

const ENGINES: [&str; 5] = ["rpl", "zen", "regorus_rvm", "cel", "cedar"];
const PREPARED: [&str; 6] = [
    "rpl_small",
    "rpl_shipped_policies",
    "zen",
    "regorus_rvm",
    "cel",
    "cedar",
];

fn main() {
    let started = SystemTime::now();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    // Read once, outside every timed loop: preparing is timed from memory.
    let small = sources_of(&root.join("small"));
    let shipped = sources_of(&root.join("../../policies"));

    let rpl = Rpl::prepare(&small);
    let mut zen = Zen::prepare(ZEN);
    let mut rego = Rego::prepare(REGO);
    let mut cel = Cel::prepare(CEL);
    let cedar = Cedar::prepare(CEDAR);

    let texts = generate_orders(ORDERS, SEED);
    let inputs = Inputs {
        rpl: texts.iter().map(|t| rpl.decode(t)).collect(),
        zen: texts.iter().map(|t| Zen::decode(t)).collect(),
        rego: texts.iter().map(|t| Rego::decode(t)).collect(),
        cel: texts.iter().map(|t| Cel::decode(t)).collect(),
        cedar: texts.iter().map(|t| cedar.request(t)).collect(),
        texts,
    };
    let counts = check_agreement(&inputs, &rpl, &mut zen, &mut rego, &mut cel, &cedar);
    println!(
        "{} orders ({} bytes of JSON on average): all 5 engines agree, \
         from pre-decoded input and from JSON text",
        inputs.texts.len(),
        inputs.texts.iter().map(String::len).sum::<usize>() / inputs.texts.len()
    );
    for (answer, n) in &counts {
        println!("  {n:5}  {answer}");
    }

    let out = criterion_home(root);
    let mut c = Criterion::default()
        .without_plots()
        .output_directory(&out)
        .configure_from_args();
    let n = inputs.texts.len();

    let mut g = c.benchmark_group("decide_predecoded");
    g.warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    let mut i = 0;
    g.bench_function("rpl", |b| {
        b.iter(|| {
            i = (i + 1) % n;
            rpl.decide(black_box(&inputs.rpl[i]))
        })
    });
    g.bench_function("zen", |b| {
        b.iter(|| {
            i = (i + 1) % n;
            zen.decide(black_box(&inputs.zen[i]))
        })
    });
    g.bench_function("regorus_rvm", |b| {
        b.iter(|| {
            i = (i + 1) % n;
            rego.decide(black_box(&inputs.rego[i]))
        })
    });
    g.bench_function("cel", |b| {
        b.iter(|| {
            i = (i + 1) % n;
            cel.decide(black_box(&inputs.cel[i]))
        })
    });
    g.bench_function("cedar", |b| {
        b.iter(|| {
            i = (i + 1) % n;
            cedar.decide(black_box(&inputs.cedar[i]))
        })
    });
    g.finish();

    let mut g = c.benchmark_group("decide_from_json");
    g.warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    let texts = &inputs.texts;
    g.bench_function("rpl", |b| {
        b.iter(|| {
            i = (i + 1) % n;
            rpl.decide_json(black_box(&texts[i]))
        })
    });
    g.bench_function("zen", |b| {
        b.iter(|| {
            i = (i + 1) % n;
            zen.decide_json(black_box(&texts[i]))
        })
    });
    g.bench_function("regorus_rvm", |b| {
        b.iter(|| {
            i = (i + 1) % n;
            rego.decide_json(black_box(&texts[i]))
        })
    });
    g.bench_function("cel", |b| {
        b.iter(|| {
            i = (i + 1) % n;
            cel.decide_json(black_box(&texts[i]))
        })
    });
    g.bench_function("cedar", |b| {
        b.iter(|| {
            i = (i + 1) % n;
            cedar.decide_json(black_box(&texts[i]))
        })
    });
    g.finish();

    // The ratios the targets are read from: RPL and zen timed back to back.
    let paired_pre = paired(
        n,
        |i| drop(black_box(rpl.decide(black_box(&inputs.rpl[i])))),
        |i| drop(black_box(zen.decide(black_box(&inputs.zen[i])))),
    );
    let paired_json = paired(
        n,
        |i| drop(black_box(rpl.decide_json(black_box(&texts[i])))),
        |i| drop(black_box(zen.decide_json(black_box(&texts[i])))),
    );

    // Not an engine: parsing the same text into a `serde_json::Value`, the
    // floor under any decision from JSON text.
    let mut g = c.benchmark_group("baseline");
    g.warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    g.bench_function("serde_json_value", |b| {
        b.iter(|| {
            i = (i + 1) % n;
            serde_json::from_str::<serde_json::Value>(black_box(&texts[i])).unwrap()
        })
    });
    g.finish();

    let mut g = c.benchmark_group("prepare");
    g.sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    g.bench_function("rpl_small", |b| b.iter(|| Rpl::prepare(black_box(&small))));
    g.bench_function("rpl_shipped_policies", |b| {
        b.iter(|| Rpl::prepare(black_box(&shipped)))
    });
    g.bench_function("zen", |b| b.iter(|| Zen::prepare(black_box(ZEN))));
    g.bench_function("regorus_rvm", |b| b.iter(|| Rego::prepare(black_box(REGO))));
    g.bench_function("cel", |b| b.iter(|| Cel::prepare(black_box(CEL))));
    g.bench_function("cedar", |b| b.iter(|| Cedar::prepare(black_box(CEDAR))));
    g.finish();

    c.final_summary();
    report(&out, started, [&paired_pre, &paired_json]);
}

// ---------------------------------------------------------------------
// The table

/// Where criterion writes its estimates: set explicitly, so that the table
/// reads this run's files (`CRITERION_HOME` is honoured as criterion does).
fn criterion_home(root: &Path) -> PathBuf {
    std::env::var_os("CRITERION_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target/criterion"))
}

/// The median of one benchmark in nanoseconds, if this run measured it
/// (its estimates were written after `started`).
fn median(out: &Path, group: &str, name: &str, started: SystemTime) -> Option<f64> {
    let path = out.join(group).join(name).join("new/estimates.json");
    let written = std::fs::metadata(&path).ok()?.modified().ok()?;
    if written < started {
        return None;
    }
    let estimates: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).ok()?).ok()?;
    estimates["median"]["point_estimate"].as_f64()
}

fn show(ns: Option<f64>) -> String {
    match ns {
        None => "-".to_owned(),
        Some(ns) if ns < 1_000.0 => format!("{ns:.0} ns"),
        Some(ns) if ns < 1_000_000.0 => format!("{:.2} µs", ns / 1e3),
        Some(ns) => format!("{:.2} ms", ns / 1e6),
    }
}

/// The fastest peer's name and median, for a group.
fn fastest_peer(medians: &[(&'static str, Option<f64>)]) -> Option<(&'static str, f64)> {
    medians
        .iter()
        .filter(|(name, _)| !name.starts_with("rpl"))
        .filter_map(|(name, ns)| Some((*name, (*ns)?)))
        .min_by(|a, b| a.1.total_cmp(&b.1))
}

/// How many rounds a paired ratio takes, and how long each side of a
/// round runs.
const ROUNDS: usize = 31;
const SIDE: Duration = Duration::from_millis(30);

/// RPL and zen timed back to back in [`ROUNDS`] rounds.
struct Paired {
    /// `zen ÷ rpl` of each round, sorted.
    ratios: Vec<f64>,
    /// The median round's time per order of each, in nanoseconds.
    rpl_ns: f64,
    zen_ns: f64,
}

/// Times RPL and zen in [`ROUNDS`] rounds that each run the two back to
/// back, which one first alternating. The speed of this shared machine
/// drifts over seconds (by half, at times), so medians timed seconds
/// apart compare two machines; the two sides of a round see one.
fn paired(orders: usize, mut rpl: impl FnMut(usize), mut zen: impl FnMut(usize)) -> Paired {
    // Calls that fill one side of a round, counted once, warming both up.
    let calls = |f: &mut dyn FnMut(usize)| {
        let t = Instant::now();
        let mut k = 0;
        while t.elapsed() < SIDE {
            f(k % orders);
            k += 1;
        }
        k
    };
    let (rpl_calls, zen_calls) = (calls(&mut rpl), calls(&mut zen));
    let per_call = |f: &mut dyn FnMut(usize), calls: usize| {
        let t = Instant::now();
        for k in 0..calls {
            f(k % orders);
        }
        t.elapsed().as_nanos() as f64 / calls as f64
    };
    let rounds: Vec<(f64, f64)> = (0..ROUNDS)
        .map(|round| {
            if round % 2 == 0 {
                let r = per_call(&mut rpl, rpl_calls);
                (r, per_call(&mut zen, zen_calls))
            } else {
                let z = per_call(&mut zen, zen_calls);
                (per_call(&mut rpl, rpl_calls), z)
            }
        })
        .collect();
    let middle = |mut xs: Vec<f64>| {
        xs.sort_by(f64::total_cmp);
        xs[xs.len() / 2]
    };
    let mut ratios: Vec<f64> = rounds.iter().map(|(r, z)| z / r).collect();
    ratios.sort_by(f64::total_cmp);
    Paired {
        ratios,
        rpl_ns: middle(rounds.iter().map(|(r, _)| *r).collect()),
        zen_ns: middle(rounds.iter().map(|(_, z)| *z).collect()),
    }
}

fn report(out: &Path, started: SystemTime, paired: [&Paired; 2]) {
    println!();
    println!("medians of this run (criterion), per order:");
    println!("| engine | pre-decoded | from JSON text |");
    println!("|---|---|---|");
    let pre: Vec<_> = ENGINES
        .iter()
        .map(|e| (*e, median(out, "decide_predecoded", e, started)))
        .collect();
    let json: Vec<_> = ENGINES
        .iter()
        .map(|e| (*e, median(out, "decide_from_json", e, started)))
        .collect();
    for ((engine, p), (_, j)) in pre.iter().zip(&json) {
        println!("| {engine} | {} | {} |", show(*p), show(*j));
    }
    println!(
        "| (baseline: serde_json::Value from the text) | | {} |",
        show(median(out, "baseline", "serde_json_value", started))
    );
    let targets = [("pre-decoded", &pre, 10.0), ("from JSON text", &json, 3.0)];
    for (what, medians, _) in &targets {
        let rpl = medians[0].1;
        if let (Some(rpl), Some((peer, ns))) = (rpl, fastest_peer(medians)) {
            println!(
                "{what}, the medians above: fastest peer {peer} {} ÷ RPL {} = {:.2}×",
                show(Some(ns)),
                show(Some(rpl)),
                ns / rpl
            );
        }
    }
    println!();
    println!("zen ÷ RPL, timed back to back in {ROUNDS} rounds of {SIDE:?} a side:");
    println!(
        "| input | RPL | zen | zen ÷ RPL: median | middle 80% of rounds | slowest–fastest round | target |"
    );
    println!("|---|---|---|---|---|---|---|");
    for ((what, _, target), p) in targets.iter().zip(paired) {
        let at = |q: f64| p.ratios[((p.ratios.len() - 1) as f64 * q).round() as usize];
        println!(
            "| {what} | {} | {} | {:.2}× | {:.2}–{:.2}× | {:.2}–{:.2}× | at least {target}× |",
            show(Some(p.rpl_ns)),
            show(Some(p.zen_ns)),
            at(0.5),
            at(0.1),
            at(0.9),
            at(0.0),
            at(1.0)
        );
    }
    println!();
    println!("preparing from text in memory:");
    println!("| what | median |");
    println!("|---|---|");
    let prepared: Vec<_> = PREPARED
        .iter()
        .map(|e| (*e, median(out, "prepare", e, started)))
        .collect();
    for (what, ns) in &prepared {
        println!("| {what} | {} |", show(*ns));
    }
    if let (Some(rpl), Some((peer, ns))) = (prepared[0].1, fastest_peer(&prepared)) {
        println!(
            "small rule: fastest peer {peer} {} ÷ RPL {} = {:.2}×",
            show(Some(ns)),
            show(Some(rpl)),
            ns / rpl
        );
    }
}
