//! The learned first stage in the pipeline: it judges every post, its
//! findings carry evidence spans of the original text, and turning it off
//! leaves the rules alone.

use rampart_decide::{Action, Policy};
use rampart_ingest::parse_line;
use rampart_learn::screen::{Screen, ScreenConfig, ScreenExample, ScreenManifest};
use rampart_pipeline::Scanner;

/// A model that learns one invented word ("zorblat") as a threat: no rule
/// knows it, so whatever flags it is the learned stage.
fn toy_screen() -> Screen {
    let harmful = [
        "we will zorblat the judge",
        "zorblat that deputy tonight",
        "time to zorblat the reporter",
        "vamos a zorblat al juez",
    ];
    let lawful = [
        "the judge spoke tonight",
        "that deputy was at the parade",
        "the reporter wrote about the game",
        "el juez habló hoy",
    ];
    let threat = vec!["threat".to_string()];
    let mut ex: Vec<ScreenExample> = harmful
        .iter()
        .map(|t| ScreenExample::new(t, &threat, None, 1.0))
        .collect();
    ex.extend(lawful.iter().map(|t| ScreenExample::new(t, &[], None, 1.0)));
    Screen::train(&ex, ScreenConfig::default(), ScreenManifest::default())
}

fn policy() -> Policy {
    Policy::parse(
        "test.toml",
        "name = \"t\"\nversion = 1\n[[rules]]\nid = \"review.learned\"\naction = \"review\"\nwhen = \"judge_harm >= 0.6\"\n",
    )
    .unwrap()
}

fn post(text: &str) -> rampart_ingest::Post {
    let line = serde_json::json!({"id": "p1", "author": "@a", "created_at": "2026-12-01T00:00:00Z", "text": text});
    parse_line(1, line.to_string().as_bytes()).unwrap()
}

#[test]
fn a_learned_finding_without_any_rule_carries_spans_of_the_original_text() {
    let scanner = Scanner::new(policy())
        .unwrap()
        .with_screen(Some(toy_screen()));
    // Leetspeak and a capital: the first stage reads the folded view.
    let text = "Gonna Z0RBLAT the judge after court";
    let v = scanner.verdict(&post(text));
    assert_eq!(v.action, Action::Review, "{v:?}");
    assert!(
        v.rules.iter().any(|r| r == "policy.review.learned"),
        "{:?}",
        v.rules
    );
    let label = v
        .labels
        .iter()
        .find(|l| l.category.as_str() == "threat")
        .expect("a learned threat label");
    assert!(!label.evidence.is_empty(), "{label:?}");
    let chars: Vec<char> = text.chars().collect();
    for e in &label.evidence {
        assert_eq!(chars[e.start..e.end].iter().collect::<String>(), e.text);
    }
    assert!(
        label.evidence.iter().any(|e| e.text == "Z0RBLAT"),
        "{label:?}"
    );
}

#[test]
fn lawful_posts_stay_up_and_the_rules_alone_do_not_know_the_word() {
    let scanner = Scanner::new(policy())
        .unwrap()
        .with_screen(Some(toy_screen()));
    assert_eq!(
        scanner.verdict(&post("the judge spoke after court")).action,
        Action::Allow
    );
    let rules_only = Scanner::new(policy()).unwrap().with_screen(None);
    assert!(!rules_only.has_screen());
    assert_eq!(
        rules_only
            .verdict(&post("Gonna zorblat the judge after court"))
            .action,
        Action::Allow
    );
}

#[test]
fn the_built_in_model_loads_and_judges_every_post() {
    let scanner = Scanner::new(Policy::default_policy())
        .unwrap()
        .with_screen(Some(rampart_pipeline::builtin_screen()));
    assert!(scanner.has_screen());
    let f = scanner.findings(&post("see you at the game on sunday"));
    assert!(f.screen().is_some());
}
