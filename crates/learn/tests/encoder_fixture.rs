//! The Rust encoder reproduces the package's own Python stack: embeddings
//! of a few sentences (English, Spanish, leetspeak with emoji, empty) match
//! the committed reference within 1e-4. Needs the weights
//! (`scripts/setup-models.sh`); `scripts/test.sh` installs them and sets
//! RAMPART_REQUIRE_MODELS=1 so a missing model fails instead of skipping.

mod common;

use rampart_learn::{BertEncoder, SentenceEncoder};

#[test]
fn embeddings_match_the_python_reference() {
    let Some(dir) = common::model_dir(rampart_learn::MINILM_DIR, "model.safetensors") else {
        return;
    };
    let encoder = BertEncoder::load(&dir, "minilm").unwrap();
    let fixture: serde_json::Value =
        serde_json::from_str(include_str!("data/minilm_reference.json")).unwrap();
    assert_eq!(
        encoder.weights_sha256(),
        fixture["weights_sha256"].as_str().unwrap()
    );
    // Embedded together (padding in play) and one by one: same vectors.
    common::assert_matches_reference(&encoder, &fixture);
}

#[test]
fn a_missing_model_is_a_clear_error_naming_the_files_and_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let err = match BertEncoder::load(dir.path(), "x") {
        Err(e) => e.to_string(),
        Ok(_) => panic!("loaded a model from an empty directory"),
    };
    assert!(
        err.contains("model.safetensors") && err.contains("tokenizer.json"),
        "{err}"
    );
    assert!(err.contains("scripts/setup-models.sh"), "{err}");
}
