//! The analysis on the generated 200-rule policy of the analysis
//! benchmark, untimed: the generator checks cleanly, the planted
//! unreachable rule is found, and the findings stay what they were.

use rpl::analysis::{FindingKind, findings};

use crate::generated_policy;

#[test]
fn the_generated_policy_is_analysed() {
    let compiled = generated_policy::compiled();
    let policy = compiled.policies.first().unwrap();
    assert_eq!(policy.rules.len(), generated_policy::RULES);
    let found = findings(&compiled);

    let dead = found
        .iter()
        .find(|f| f.rule.as_ref() == "planted_dead")
        .expect("the planted unreachable rule is found");
    let FindingKind::Unreachable { covering } = &dead.kind else {
        panic!("planted_dead: {:?}", dead.kind);
    };
    assert!(
        covering.iter().any(|c| c.as_ref() == "planted_cover"),
        "{covering:?}"
    );
    assert!(dead.witness.is_some());
    // Every request is decided: the policy ends in a rule without `when`.
    assert!(
        !found
            .iter()
            .any(|f| matches!(f.kind, FindingKind::NoFallback { .. }))
    );

    let count = |k: fn(&FindingKind) -> bool| found.iter().filter(|f| k(&f.kind)).count();
    let counts = [
        count(|k| matches!(k, FindingKind::Unreachable { .. })),
        count(|k| matches!(k, FindingKind::AlwaysFalse)),
        count(|k| matches!(k, FindingKind::AlwaysTrue)),
        count(|k| matches!(k, FindingKind::PastCalendar { .. })),
    ];
    // Pinned: a change to the generator or to the analysis shows here.
    assert_eq!(
        counts,
        [45, 4, 0, 0],
        "unreachable, false, true, past calendar"
    );
}
