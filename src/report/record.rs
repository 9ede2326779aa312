//! A batch's output records. A decision without its trace is written
//! field by field, straight into the output buffer: a batch writes one
//! per line, and serde's general path cost more than deciding. Every other
//! record, and every string that is not plain printable ASCII, goes through
//! serde_json with the escaping formatter. The bytes are the same either
//! way: tests hold this writer to
//! [`json_line`](super::escape::json_line)'s.

use super::escape::{json_line_into, json_str_into};
use crate::engine::Outcome;
use crate::eval::output::{Decision, with_amount_text, with_date_text};

/// `outcome` as one line of compact JSON appended to `out`: the bytes
/// [`json_line`](super::escape::json_line) writes for it. On an error
/// (which only a failed serialisation gives) part of the line may have
/// been appended.
pub fn record_into(out: &mut Vec<u8>, outcome: &Outcome) -> serde_json::Result<()> {
    match outcome {
        Outcome::Decision(d) if d.trace.is_none() => {
            decision_into(out, d);
            Ok(())
        }
        other => json_line_into(out, other),
    }
}

fn decision_into(out: &mut Vec<u8>, d: &Decision) {
    out.extend_from_slice(b"{\"request_id\":");
    optional(out, d.request_id.as_deref());
    out.extend_from_slice(b",\"decision\":");
    string(out, d.decision.as_str());
    out.extend_from_slice(b",\"policy\":");
    string(out, d.policy());
    out.extend_from_slice(b",\"policy_version\":");
    optional(out, d.policy_version());
    out.extend_from_slice(b",\"rule\":");
    string(out, d.rule());
    out.extend_from_slice(b",\"refund\":");
    match &d.refund {
        Some(r) => {
            out.extend_from_slice(b"{\"amount\":");
            with_amount_text(&r.amount, |a| string(out, a));
            out.extend_from_slice(b",\"currency\":");
            string(out, r.currency);
            out.extend_from_slice(b",\"route\":");
            string(out, r.route);
            out.push(b'}');
        }
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"installments\":");
    optional(out, d.installments);
    out.extend_from_slice(b",\"return_shipping_paid_by\":");
    optional(out, d.return_shipping_paid_by);
    out.extend_from_slice(b",\"settlement\":");
    match &d.settlement {
        Some(s) => {
            out.extend_from_slice(b"{\"earliest\":");
            with_date_text(s.earliest, |t| string(out, t));
            out.extend_from_slice(b",\"latest\":");
            with_date_text(s.latest, |t| string(out, t));
            out.push(b'}');
        }
        None => out.extend_from_slice(b"null"),
    }
    for (key, words) in [
        (&b",\"documents\":"[..], &d.documents),
        (b",\"offers\":", &d.offers),
    ] {
        out.extend_from_slice(key);
        out.push(b'[');
        for (i, w) in words.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            string(out, w);
        }
        out.push(b']');
    }
    out.extend_from_slice(b",\"message\":");
    string(out, d.message());
    out.extend_from_slice(b"}\n");
}

fn optional(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        Some(s) => string(out, s),
        None => out.extend_from_slice(b"null"),
    }
}

/// A JSON string: printable ASCII other than `"` and `\` as it is, anything
/// else through serde_json and the escaping formatter.
fn string(out: &mut Vec<u8>, s: &str) {
    if s.bytes()
        .all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\')
    {
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else {
        json_str_into(out, s);
    }
}

#[cfg(test)]
mod tests {

    use super::*;
    use crate::Engine;
    use crate::report::escape::json_line;

    fn same(outcome: &Outcome) {
        let mut fast = Vec::new();
        record_into(&mut fast, outcome).unwrap();
        assert_eq!(
            String::from_utf8(fast).unwrap(),
            json_line(outcome).unwrap()
        );
    }

    /// Every path through the frozen policies (each sample the analysis
    /// finds), and each decision again with hostile text where the request
    /// or a template puts text: the same bytes as serde's.
    #[test]
    fn decisions_are_written_as_serde_writes_them() {
        let dir = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/frozen/policies"
        );
        let engine = Engine::load(dir).unwrap();
        let mut decided = 0;
        for (_, requests) in crate::analysis::samples(engine.compiled()) {
            for request in requests {
                let outcome = engine.evaluate_json(&request.to_string(), false);
                same(&outcome);
                let Outcome::Decision(d) = outcome else {
                    continue;
                };
                decided += 1;
                for text in [
                    "",
                    "a\"b\\c",
                    "\u{1b}[2J\u{7f}\u{9b}\u{202e}\u{2028}",
                    "退货 é\n\t",
                ] {
                    let hostile = Decision {
                        request_id: Some(text.into()),
                        own_message: Some(text.into()),
                        ..d.clone()
                    };
                    same(&Outcome::Decision(hostile));
                }
                same(&Outcome::Decision(Decision {
                    request_id: None,
                    ..d
                }));
            }
        }
        assert!(decided > 20, "{decided}");
        // With the trace, and errors, serde writes them.
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/frozen/requests/24-high-value-threshold-over.json"
        ))
        .unwrap();
        same(&engine.evaluate_json(&text, true));
        same(&engine.evaluate_json("{", false));
    }
}
