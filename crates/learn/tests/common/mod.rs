//! Where the installed encoders are, for tests that need them.

use std::path::{Path, PathBuf};

/// The installed model directory `rel` (relative to the repository root)
/// if `probe` exists in it. Without it the test is skipped, unless
/// RAMPART_REQUIRE_MODELS is set (as `scripts/test.sh` does), which makes
/// a missing model a failure.
pub fn model_dir(rel: &str, probe: &str) -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel);
    if dir.join(probe).exists() {
        return Some(dir);
    }
    assert!(
        std::env::var("RAMPART_REQUIRE_MODELS").is_err(),
        "RAMPART_REQUIRE_MODELS is set but {} is missing",
        dir.join(probe).display()
    );
    eprintln!("skipping: run scripts/setup-models.sh first");
    None
}

/// Largest absolute difference between two vectors.
pub fn max_difference(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0f32, f32::max)
}

/// Checks an encoder against a committed reference (`sentences`,
/// `embeddings`): every sentence embedded in one batch and alone is within
/// 1e-4 of the reference vector.
pub fn assert_matches_reference(
    encoder: &dyn rampart_learn::SentenceEncoder,
    fixture: &serde_json::Value,
) {
    let sentences: Vec<&str> = fixture["sentences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    let together = encoder.embed(&sentences).unwrap();
    assert_eq!(together.len(), sentences.len());
    for (i, s) in sentences.iter().enumerate() {
        let alone = encoder.embed(&[s]).unwrap().remove(0);
        let want: Vec<f32> = fixture["embeddings"][i]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap() as f32)
            .collect();
        assert_eq!(want.len(), encoder.dim());
        for (name, got) in [("batched", &together[i]), ("alone", &alone)] {
            let worst = max_difference(got, &want);
            assert!(
                worst <= 1e-4,
                "sentence {i} ({s:?}) {name}: max difference {worst}"
            );
        }
    }
}
