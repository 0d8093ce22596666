//! Text recognised in a post's media (`ocr_text`) is scanned with the post:
//! an image-only bounty poster is caught, its evidence indexes the media's
//! text (never the post's), and lawful posters stay allowed.

use rampart_decide::{Action, Policy};
use rampart_ingest::{parse_line, Post};
use rampart_pipeline::Scanner;

fn post(text: &str, ocr: &[Option<&str>]) -> Post {
    let media: Vec<serde_json::Value> = ocr
        .iter()
        .map(|t| match t {
            Some(t) => serde_json::json!({"kind": "image", "ocr_text": t}),
            None => serde_json::json!({"kind": "image", "sha256": "00"}),
        })
        .collect();
    let line = serde_json::json!({
        "id": "p1", "author": "a", "created_at": "2025-10-14T00:00:00Z",
        "text": text, "media": media,
    });
    parse_line(1, line.to_string().as_bytes()).unwrap()
}

fn scanner() -> Scanner {
    Scanner::new(Policy::default_policy()).unwrap()
}

fn chars(s: &str, start: usize, end: usize) -> String {
    s.chars().skip(start).take(end - start).collect()
}

#[test]
fn an_image_only_bounty_poster_is_caught_with_evidence_in_the_image_text() {
    let ocr = "SE BUSCA: 50 mil dólares al que mate al agente Ramírez. Con prueba.";
    let p = post("", &[None, Some(ocr)]);
    let v = scanner().verdict(&p);
    assert_eq!(v.action, Action::Escalate, "{v:?}");
    let bounty = v
        .labels
        .iter()
        .find(|l| l.category == rampart_detect::Category::Bounty)
        .expect("a bounty label");
    assert!(bounty.evidence.is_empty(), "nothing in the empty body");
    assert!(!bounty.media_evidence.is_empty());
    for ev in &bounty.media_evidence {
        assert_eq!(ev.media, Some(1), "the second media carries the text");
        assert_eq!(chars(ocr, ev.start, ev.end), ev.text);
    }
    assert!(bounty.media_evidence.iter().any(|e| e.role == "payment"));
    // Serialised, media evidence stays out of `evidence` (which must
    // index the post's text) and names its media.
    let json = serde_json::to_value(&v).unwrap();
    assert!(json["labels"][0]["media_evidence"][0]["media"].is_u64());
}

#[test]
fn a_post_split_between_body_and_image_is_read_whole() {
    let text = "$20k to whoever";
    let ocr = "kills Judge Okafor";
    let v = scanner().verdict(&post(text, &[Some(ocr)]));
    assert_eq!(v.action, Action::Escalate, "{v:?}");
    let (mut in_text, mut in_media) = (0, 0);
    for l in &v.labels {
        for ev in &l.evidence {
            assert_eq!(ev.media, None);
            assert_eq!(chars(text, ev.start, ev.end), ev.text);
            in_text += 1;
        }
        for ev in &l.media_evidence {
            assert_eq!(ev.media, Some(0));
            assert_eq!(chars(ocr, ev.start, ev.end), ev.text);
            in_media += 1;
        }
    }
    assert!(in_text > 0 && in_media > 0);
    // The body alone is not a bounty.
    assert_eq!(scanner().verdict(&post(text, &[])).action, Action::Allow);
}

#[test]
fn lawful_posters_in_images_stay_allowed() {
    for ocr in [
        "CRIME STOPPERS: up to $5,000 reward for information leading to an arrest. Call 800-555-0100.",
        "LOST DOG: brown beagle, $200 reward for his return. Call (312) 555-0126.",
        "Se busca: la fiscalía ofrece recompensa por información sobre la desaparición de la estudiante.",
    ] {
        let v = scanner().verdict(&post("seen at the bus stop", &[Some(ocr)]));
        assert_eq!(v.action, Action::Allow, "{ocr}: {v:?}");
    }
}

/// Words that make findings, and Unicode that shifts offsets.
fn words() -> impl proptest::strategy::Strategy<Value = String> {
    use proptest::prelude::*;
    let w = prop::sample::select(vec![
        "$50,000",
        "to whoever",
        "kills",
        "Agent Mora",
        "lives at",
        "4417 W Larkspur Ct",
        "(312) 555-0147",
        "k\u{200b}i\u{200b}l\u{200b}l",
        "👀",
        "é",
        "Ａ",
        "\n",
        " ",
    ]);
    prop::collection::vec(w, 0..10).prop_map(|v| v.concat())
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 300, ..Default::default() })]
    #[test]
    fn evidence_indexes_the_text_or_the_media_it_names(
        text in words(), a in words(), b in words()
    ) {
        let p = post(&text, &[Some(&a), None, Some(&b)]);
        let v = scanner().verdict(&p);
        for l in &v.labels {
            for ev in &l.evidence {
                proptest::prop_assert_eq!(ev.media, None);
                proptest::prop_assert_eq!(chars(&text, ev.start, ev.end), ev.text.clone());
                proptest::prop_assert!(ev.start < ev.end && ev.end <= text.chars().count());
            }
            for ev in &l.media_evidence {
                let src = match ev.media {
                    Some(0) => &a,
                    Some(2) => &b,
                    other => panic!("media {other:?} has no text"),
                };
                proptest::prop_assert!(ev.start < ev.end && ev.end <= src.chars().count());
                proptest::prop_assert_eq!(chars(src, ev.start, ev.end), ev.text.clone());
            }
        }
    }
}
