//! `rpl generate` (hidden): JSON Lines of realistic requests for
//! benchmarks and demos, seeded, covering every path through every policy,
//! with a share of bad lines.

use std::io::Write as _;
use std::path::PathBuf;

use clap::Args;
use serde_json::Value;

use super::ExitCode;
use super::eval::engine;
use super::output::Output;
use crate::report::escape::visible;
use crate::testing::SplitMix64;

#[derive(Args, Debug)]
#[command(after_help = concat!(
    "Examples:
  rpl generate --count 1000000 --seed 7 -o requests.jsonl
  rpl generate --count 100 --bad 0                       only valid requests

What it writes: one request a line. Each comes from the analysis of the
policies: a sample of one way through a policy, so that the first lines
take every path there is (every reject, rule and `after` rule any request
reaches, in every channel) and later lines pick paths at random, with
their own request id, order id and amount (a cent either side of the
sample's, so decisions may differ at the thresholds). A share (--bad) of
those later lines is broken, each in one of the ways real input is: cut
short, a field missing, a value of the wrong type, a key given twice, a
line not JSON at all. Paths that end in an error (a `reject`, a date past
the calendar) are paths too: --bad 0 breaks no line, but not every line
is decided. The same seed gives the same lines.

Exit codes:
  0  written
  2  usage or I/O error, or the policies do not load

",
    super::policies_help!(),
))]
pub struct GenerateArgs {
    /// How many lines
    #[arg(long, value_name = "N", default_value_t = 1000)]
    pub count: u64,
    /// Seed of the random choices
    #[arg(long, value_name = "S", default_value_t = 1)]
    pub seed: u64,
    /// Share of broken lines after the first (those taking every path), from 0 to 1
    #[arg(long, value_name = "SHARE", default_value_t = 0.01, value_parser = share)]
    pub bad: f64,
    /// Policy directory [default: found as below]
    #[arg(long, value_name = "DIR")]
    pub policies: Option<PathBuf>,
    /// Where the lines go [default: stdout]
    #[arg(short, long, value_name = "OUT.jsonl")]
    pub output: Option<PathBuf>,
}

fn share(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(x) if (0.0..=1.0).contains(&x) => Ok(x),
        _ => Err(format!("`{text}` is not a share from 0 to 1")),
    }
}

/// Draws from a seeded sequence: an index below `n`, or true with
/// probability `p` (in millionths, so the choice is exact).
struct Mix(SplitMix64);

impl Mix {
    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.0.below(n as u64)).unwrap_or(0)
    }

    fn chance(&mut self, p: f64) -> bool {
        let millionths = (p * 1_000_000.0).round() as u64;
        self.0.below(1_000_000) < millionths
    }
}

pub fn run(args: GenerateArgs) -> ExitCode {
    let engine = match engine(args.policies.as_deref(), "nothing was generated") {
        Ok(e) => e,
        Err(code) => return code,
    };
    let groups = crate::analysis::samples(engine.compiled());
    if groups.is_empty() {
        eprintln!("error: the policies decide no request: there is nothing to generate");
        return ExitCode::Usage;
    }
    let mut out = match &args.output {
        Some(p) => match Output::file(p, &[]) {
            Ok(o) => o,
            Err(message) => {
                eprintln!("error: {}", visible(&message));
                return ExitCode::Usage;
            }
        },
        None => Output::stdout(),
    };
    let mut rng = Mix(SplitMix64::new(args.seed));
    for n in 0..args.count {
        // The first lines take every path once; then paths at random.
        let group = match usize::try_from(n).ok().filter(|i| *i < groups.len()) {
            Some(i) => i,
            None => rng.below(groups.len()),
        };
        let Some((_, samples)) = groups.get(group) else {
            continue;
        };
        let Some(sample) = samples.get(rng.below(samples.len())) else {
            continue;
        };
        let mut request = sample.clone();
        vary(&mut request, n, &mut rng);
        let mut line = request.to_string();
        if n >= groups.len() as u64 && rng.chance(args.bad) {
            line = broken(&request, &mut rng);
        }
        line.push('\n');
        if let Err(e) = out.write_all(line.as_bytes()) {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                return ExitCode::Ok;
            }
            eprintln!("error: cannot write: {}", crate::load::io_reason(&e));
            return ExitCode::Usage;
        }
    }
    match out.commit() {
        Ok(()) => ExitCode::Ok,
        Err(e) => {
            eprintln!("error: cannot write: {}", crate::load::io_reason(&e));
            ExitCode::Usage
        }
    }
}

/// Its own ids, and the amount paid a cent either side of the sample's
/// (or the same).
fn vary(request: &mut Value, n: u64, rng: &mut Mix) {
    if let Some(id) = request.get_mut("request_id") {
        *id = Value::String(format!("GEN-{n:08}"));
    }
    if let Some(id) = request.pointer_mut("/order/order_id") {
        *id = Value::String(format!("O-{:010}", rng.0.below(10_000_000_000)));
    }
    if let Some(Value::String(amount)) = request.pointer_mut("/item/paid_amount")
        && let Ok(d) = amount.parse::<rust_decimal::Decimal>()
    {
        let cents = rust_decimal::Decimal::new(rng.below(3) as i64 - 1, 2);
        let moved = d + cents;
        if !moved.is_sign_negative() {
            *amount = format!("{moved:.2}");
        }
    }
}

/// A line broken in one of the ways real input is (not JSON at all, when
/// the way drawn found nothing to break in this request).
fn broken(request: &Value, rng: &mut Mix) -> String {
    let text = request.to_string();
    let line = match rng.below(5) {
        // Cut short (at a character boundary).
        0 => {
            let mut cut = text.len() / 2;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text.get(..cut).unwrap_or_default().to_owned()
        }
        // A required field missing.
        1 => {
            let mut r = request.clone();
            if let Some(item) = r.get_mut("item").and_then(Value::as_object_mut) {
                item.remove("paid_amount");
            }
            r.to_string()
        }
        // A value of the wrong type.
        2 => {
            let mut r = request.clone();
            if let Some(q) = r.pointer_mut("/item/quantity") {
                *q = Value::String("one".into());
            }
            r.to_string()
        }
        // A key given twice.
        3 => text.replacen('{', "{\"channel\":\"offline_store\",", 1),
        _ => String::new(),
    };
    if line.is_empty() || line == text {
        "this is not JSON".to_owned()
    } else {
        line
    }
}
