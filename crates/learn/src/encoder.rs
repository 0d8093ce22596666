//! Sentence encoders run in pure Rust: a BERT-family model (candle) with
//! its Hugging Face tokenizer, mean-pooled and L2-normalised exactly as
//! sentence-transformers does, so embeddings match the model's own Python
//! stack (checked against a committed fixture).

use std::path::Path;

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use sha2::{Digest, Sha256};
use tokenizers::{PaddingParams, PaddingStrategy, Tokenizer, TruncationParams};

use crate::LearnError;

/// Anything that turns texts into fixed-size, unit-length vectors.
pub trait SentenceEncoder: Send + Sync {
    /// Model name (recorded in trained heads' manifests).
    fn name(&self) -> &str;
    /// SHA-256 of the weights file (recorded too: a head only fits the
    /// encoder it was trained on).
    fn weights_sha256(&self) -> &str;
    /// Embedding width.
    fn dim(&self) -> usize;
    /// Embeds a batch of texts.
    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, LearnError>;
}

/// A BERT sentence-transformer (all-MiniLM-L6-v2 and its relatives).
pub struct BertEncoder {
    name: String,
    sha256: String,
    model: BertModel,
    tokenizer: Tokenizer,
    dim: usize,
    device: Device,
}

/// The files a BERT sentence-transformer directory must hold.
pub const BERT_FILES: [&str; 3] = ["config.json", "tokenizer.json", "model.safetensors"];

impl BertEncoder {
    /// Loads a sentence-transformer directory (`config.json`,
    /// `tokenizer.json`, `model.safetensors`, optionally
    /// `sentence_bert_config.json` for the maximum sequence length).
    pub fn load(dir: &Path, name: &str) -> Result<Self, LearnError> {
        crate::require_files(dir, &BERT_FILES)?;
        let io = |p: &Path, e: std::io::Error| LearnError::Io {
            path: p.to_path_buf(),
            source: e,
        };
        let config_path = dir.join("config.json");
        let raw = std::fs::read_to_string(&config_path).map_err(|e| io(&config_path, e))?;
        let config: Config = serde_json::from_str(&raw).map_err(|e| LearnError::Format {
            path: config_path.clone(),
            reason: e.to_string(),
        })?;
        let max_len = std::fs::read_to_string(dir.join("sentence_bert_config.json"))
            .ok()
            .and_then(|s| serde_json::from_str::<serde_json::Value>(&s).ok())
            .and_then(|v| v["max_seq_length"].as_u64())
            .unwrap_or(256) as usize;
        let tok_path = dir.join("tokenizer.json");
        let mut tokenizer = Tokenizer::from_file(&tok_path).map_err(|e| LearnError::Format {
            path: tok_path.clone(),
            reason: e.to_string(),
        })?;
        tokenizer.with_padding(Some(PaddingParams {
            strategy: PaddingStrategy::BatchLongest,
            ..Default::default()
        }));
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: max_len,
                ..Default::default()
            }))
            .map_err(|e| LearnError::Format {
                path: tok_path.clone(),
                reason: e.to_string(),
            })?;
        let weights = dir.join("model.safetensors");
        let bytes = std::fs::read(&weights).map_err(|e| io(&weights, e))?;
        let sha256 = hex::encode(Sha256::digest(&bytes));
        let device = Device::Cpu;
        let vb = VarBuilder::from_buffered_safetensors(bytes, DType::F32, &device)?;
        let model = BertModel::load(vb, &config)?;
        Ok(BertEncoder {
            name: name.to_string(),
            sha256,
            model,
            tokenizer,
            dim: config.hidden_size,
            device,
        })
    }
}

impl SentenceEncoder for BertEncoder {
    fn name(&self) -> &str {
        &self.name
    }

    fn weights_sha256(&self) -> &str {
        &self.sha256
    }

    fn dim(&self) -> usize {
        self.dim
    }

    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, LearnError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let enc = self
            .tokenizer
            .encode_batch(texts.to_vec(), true)
            .map_err(|e| LearnError::Tokenize(e.to_string()))?;
        let len = enc[0].get_ids().len();
        let n = enc.len();
        let mut ids = Vec::with_capacity(n * len);
        let mut types = Vec::with_capacity(n * len);
        let mut mask = Vec::with_capacity(n * len);
        for e in &enc {
            ids.extend(e.get_ids().iter().map(|&x| x as i64));
            types.extend(e.get_type_ids().iter().map(|&x| x as i64));
            mask.extend(e.get_attention_mask().iter().map(|&x| x as i64));
        }
        let ids = Tensor::from_vec(ids, (n, len), &self.device)?;
        let types = Tensor::from_vec(types, (n, len), &self.device)?;
        let mask = Tensor::from_vec(mask, (n, len), &self.device)?;
        let hidden = self.model.forward(&ids, &types, Some(&mask))?;
        // Mean over real tokens, then unit length (sentence-transformers'
        // Pooling(mean) + Normalize).
        let m = mask.to_dtype(DType::F32)?.unsqueeze(2)?;
        let summed = hidden.broadcast_mul(&m)?.sum(1)?;
        let counts = m.sum(1)?.clamp(1e-9, f64::MAX)?;
        let mean = summed.broadcast_div(&counts)?;
        let norm = mean.sqr()?.sum_keepdim(1)?.sqrt()?.clamp(1e-12, f64::MAX)?;
        let unit = mean.broadcast_div(&norm)?;
        Ok(unit.to_vec2::<f32>()?)
    }
}
