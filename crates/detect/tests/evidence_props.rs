//! Property: evidence offsets always slice the original text exactly, for
//! any input, including evasive Unicode.

use proptest::prelude::*;
use rampart_detect::Detector;
use rampart_normalise::char_slice;
use std::sync::OnceLock;

fn detector() -> &'static Detector {
    static D: OnceLock<Detector> = OnceLock::new();
    D.get_or_init(|| Detector::new().unwrap())
}

fn fragments() -> impl Strategy<Value = String> {
    let parts = prop::sample::select(vec![
        "kill",
        "k1ll",
        "k i l l",
        "m\u{200b}a\u{200b}t\u{200b}a\u{200b}r",
        "$50,000",
        "50 grand",
        "whoever",
        "al que",
        "Agent Mora",
        "Тravis Меndеl",
        "(312) 555-0147",
        "4417 W Larkspur Ct",
        "placas JKS-482-B",
        "🔫",
        "💰",
        "e\u{301}",
        "ß",
        "ﬁ",
        "Ａ",
        " ",
        ".",
        "\n",
        "'",
        "\"",
        "señora",
        "lives at",
        "right now",
        "just left",
        "a$$a$$inate",
    ]);
    prop::collection::vec(
        prop_oneof![
            parts.prop_map(String::from),
            any::<char>().prop_map(|c| c.to_string())
        ],
        0..24,
    )
    .prop_map(|v| v.join(" "))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 600, ..ProptestConfig::default() })]
    #[test]
    fn evidence_spans_slice_the_original(text in fragments()) {
        let d = detector().detect(&text);
        let n = text.chars().count();
        for label in &d.labels {
            for ev in &label.evidence {
                prop_assert!(ev.start < ev.end && ev.end <= n, "{ev:?} in {n} chars");
                prop_assert_eq!(char_slice(&text, ev.start, ev.end), ev.text.as_str());
            }
        }
        for e in &d.entities {
            prop_assert!(e.start <= e.end && e.end <= n);
        }
    }
}

/// A post repeating one phrase thousands of times still gets its finding,
/// with a bounded number of spans of each role, all slicing the text (the
/// bound is what keeps detection linear in the post's length).
#[test]
fn a_long_repetitive_post_keeps_a_bounded_set_of_exact_spans() {
    for phrase in [
        "kill him now Agent Mora ",
        "$5,000 al que mate al juez Ortega 🔪 ",
    ] {
        let text = phrase.repeat(4_000);
        let d = detector().detect(&text);
        assert!(!d.labels.is_empty(), "{phrase}");
        for label in &d.labels {
            let mut by_role = std::collections::BTreeMap::new();
            for ev in &label.evidence {
                *by_role.entry(ev.role).or_insert(0) += 1;
                assert_eq!(char_slice(&text, ev.start, ev.end), ev.text.as_str());
            }
            for (role, n) in by_role {
                assert!(
                    n <= rampart_detect::MAX_SPANS_PER_ROLE,
                    "{phrase}: {n} spans of role {role}"
                );
            }
        }
    }
}
