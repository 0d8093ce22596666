//! The learned first stage: a linear model over hashed word and character
//! n-grams of the normalised text, run on every post.
//!
//! It is cheap (a few microseconds a post) so it can judge the whole
//! stream, and it reads the `folded` view of `rampart-normalise`, so
//! leetspeak, homoglyphs, zero-width characters and spaced-out letters
//! reach it undone. Each output is an independent logistic regression:
//! `harm` (the post is not lawful), one per category, and two tier heads
//! (`lethal`, `assault`; trained on bounty posts only). Because the model
//! is linear, the words that pushed a score up are known exactly: they
//! are the evidence of a learned finding, mapped back to the original
//! text through the view's offset map.
//!
//! Weights are stored quantized to one byte each (per-output scale), in
//! a file small enough to commit (`models/screen.bin`).

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::LearnError;

/// The outputs, in file order.
pub const OUTPUTS: [&str; 7] = [
    "harm",
    "threat",
    "bounty",
    "doxxing",
    "targeted_surveillance",
    "lethal",
    "assault",
];

/// Index of an output by name.
pub fn output_index(name: &str) -> Option<usize> {
    OUTPUTS.iter().position(|o| *o == name)
}

/// Hash space: 2^18 buckets.
pub const DIM_BITS: u32 = 18;
const DIM: usize = 1 << DIM_BITS;

/// One word of the folded view: its text there and where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    /// The token as it reads in the folded view (digits shaped to `0`).
    pub text: String,
    /// Byte range in the folded view.
    pub start: usize,
    /// Exclusive end.
    pub end: usize,
}

/// Splits a folded view into tokens: runs of letters and digits, and
/// each other visible symbol (emoji, `$`, `@`) alone. Digits are shaped to
/// `0` so an amount or a phone generalises beyond its value.
pub fn tokens(folded: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut start = 0;
    for (i, c) in folded.char_indices() {
        if c.is_alphanumeric() {
            if cur.is_empty() {
                start = i;
            }
            cur.push(if c.is_ascii_digit() { '0' } else { c });
            continue;
        }
        if !cur.is_empty() {
            out.push(Token {
                text: std::mem::take(&mut cur),
                start,
                end: i,
            });
        }
        // Keep symbols that carry meaning (money, emoji, handles); skip
        // whitespace and ordinary punctuation.
        if !c.is_whitespace()
            && !matches!(
                c,
                '.' | ','
                    | ';'
                    | ':'
                    | '!'
                    | '?'
                    | '"'
                    | '\''
                    | '('
                    | ')'
                    | '-'
                    | '_'
                    | '/'
                    | '*'
                    | '¿'
                    | '¡'
                    | '['
                    | ']'
                    | '…'
            )
        {
            out.push(Token {
                text: c.to_string(),
                start: i,
                end: i + c.len_utf8(),
            });
        }
    }
    if !cur.is_empty() {
        out.push(Token {
            text: cur,
            start,
            end: folded.len(),
        });
    }
    out
}

/// FNV-1a, 64 bits: fixed forever, so a committed model keeps its
/// meaning whatever hash the standard library or a crate picks next.
fn fnv(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for p in parts {
        for &b in *p {
            h ^= b as u64;
            h = h.wrapping_mul(0x100000001b3);
        }
        h ^= 0xff;
        h = h.wrapping_mul(0x100000001b3);
    }
    h
}

fn bucket(h: u64) -> u32 {
    ((h ^ (h >> 32)) as u32) & (DIM as u32 - 1)
}

/// The hashed features of a folded text: each bucket once, with the
/// token it came from (bigrams name their first token; `usize::MAX` for
/// none). Values are `1/sqrt(n)` so long and short posts weigh alike.
pub fn features(folded: &str) -> (Vec<(u32, usize)>, Vec<Token>, f32) {
    let toks = tokens(folded);
    let mut feats: Vec<(u32, usize)> = Vec::with_capacity(toks.len() * 8);
    let mut buf = String::new();
    for (i, t) in toks.iter().enumerate() {
        feats.push((bucket(fnv(&[b"w", t.text.as_bytes()])), i));
        if let Some(next) = toks.get(i + 1) {
            feats.push((
                bucket(fnv(&[b"b", t.text.as_bytes(), next.text.as_bytes()])),
                i,
            ));
        }
        // Character 3- to 5-grams of the word with boundary marks: they
        // carry morphology across English and Spanish (matar, mataron,
        // mátenlo) and survive a letter changed to evade.
        let chars: Vec<char> = t.text.chars().collect();
        if chars.len() >= 3 && chars.iter().all(|c| c.is_alphabetic()) {
            let padded: Vec<char> = std::iter::once('<')
                .chain(chars.iter().copied())
                .chain(std::iter::once('>'))
                .collect();
            for n in 3..=5 {
                if padded.len() < n {
                    break;
                }
                for w in padded.windows(n) {
                    buf.clear();
                    buf.extend(w);
                    feats.push((bucket(fnv(&[b"c", buf.as_bytes()])), i));
                }
            }
        }
    }
    feats.sort_unstable();
    feats.dedup_by_key(|f| f.0);
    let value = 1.0 / (feats.len().max(1) as f32).sqrt();
    (feats, toks, value)
}

/// Training settings (fixed: the same data gives the same model).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct ScreenConfig {
    /// Passes over the data.
    pub epochs: usize,
    /// AdaGrad step size.
    pub learning_rate: f32,
    /// L2 penalty per step.
    pub l2: f32,
}

impl Default for ScreenConfig {
    fn default() -> Self {
        ScreenConfig {
            epochs: 12,
            learning_rate: 0.5,
            l2: 1e-6,
        }
    }
}

/// One training example for the screen: folded features and targets.
/// A target of `None` means the output does not apply (tier heads on a
/// post that is no bounty).
pub struct ScreenExample {
    feats: Vec<u32>,
    value: f32,
    targets: [Option<bool>; OUTPUTS.len()],
    weight: f32,
}

impl ScreenExample {
    /// Builds an example from a text and its labels (empty: lawful) and
    /// tier. `weight` scales its loss (1.0 normally).
    pub fn new(text: &str, labels: &[String], tier: Option<&str>, weight: f32) -> Self {
        let n = rampart_normalise::normalise(text);
        let (f, _, value) = features(n.folded.as_str());
        let has = |c: &str| labels.iter().any(|l| l == c);
        let bounty = has("bounty");
        let targets = [
            Some(!labels.is_empty()),
            Some(has("threat")),
            Some(bounty),
            Some(has("doxxing")),
            Some(has("targeted_surveillance")),
            bounty.then_some(tier == Some("lethal")),
            bounty.then_some(tier == Some("assault")),
        ];
        ScreenExample {
            feats: f.into_iter().map(|(b, _)| b).collect(),
            value,
            targets,
            weight,
        }
    }
}

/// Weights of one output, in floats while training.
#[derive(Clone)]
struct Dense {
    w: Vec<f32>,
    b: f32,
}

fn sigmoid(z: f32) -> f32 {
    1.0 / (1.0 + (-z).exp())
}

/// Trains every output by AdaGrad SGD in a fixed order (a hash of the
/// index), class-balanced per output so rare categories count.
fn train_dense(examples: &[&ScreenExample], cfg: ScreenConfig) -> Vec<Dense> {
    let mut order: Vec<usize> = (0..examples.len()).collect();
    order.sort_by_key(|&i| fnv(&[&(i as u64).to_le_bytes()]));
    (0..OUTPUTS.len())
        .map(|o| {
            let pos: f32 = examples
                .iter()
                .filter(|e| e.targets[o] == Some(true))
                .map(|e| e.weight)
                .sum::<f32>()
                .max(1.0);
            let neg: f32 = examples
                .iter()
                .filter(|e| e.targets[o] == Some(false))
                .map(|e| e.weight)
                .sum::<f32>()
                .max(1.0);
            let total = pos + neg;
            let (wp, wn) = (total / (2.0 * pos), total / (2.0 * neg));
            let mut d = Dense {
                w: vec![0.0; DIM],
                b: 0.0,
            };
            let mut g2 = vec![1e-6f32; DIM];
            let mut gb2 = 1e-6f32;
            for _ in 0..cfg.epochs {
                for &i in &order {
                    let e = &examples[i];
                    let Some(y) = e.targets[o] else { continue };
                    let z: f32 =
                        e.feats.iter().map(|&f| d.w[f as usize]).sum::<f32>() * e.value + d.b;
                    let err = (sigmoid(z) - if y { 1.0 } else { 0.0 })
                        * if y { wp } else { wn }
                        * e.weight;
                    for &f in &e.feats {
                        let f = f as usize;
                        let g = err * e.value + cfg.l2 * d.w[f];
                        g2[f] += g * g;
                        d.w[f] -= cfg.learning_rate * g / g2[f].sqrt();
                    }
                    gb2 += err * err;
                    d.b -= cfg.learning_rate * err / gb2.sqrt();
                }
            }
            d
        })
        .collect()
}

/// Provenance and quality of a screen model.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct ScreenManifest {
    /// File format.
    pub format: String,
    /// Hash space bits.
    pub dim_bits: u32,
    /// Outputs in order.
    pub outputs: Vec<String>,
    /// Training settings.
    pub config: Option<ScreenConfig>,
    /// Training files (path, SHA-256, examples).
    pub training_data: Vec<crate::DataFile>,
    /// Cross-validated figures, free-form (what `rampart train` measured).
    pub metrics: BTreeMap<String, serde_json::Value>,
    /// When it was trained.
    pub trained_on: String,
}

/// A trained screen: quantized weights and a manifest.
#[derive(Clone)]
pub struct Screen {
    /// Provenance.
    pub manifest: ScreenManifest,
    weights: Vec<Vec<i8>>,
    scales: Vec<f32>,
    biases: Vec<f32>,
}

/// What the screen says of one text.
#[derive(Debug, Clone, PartialEq)]
pub struct ScreenScores {
    /// Probability per output, in [`OUTPUTS`] order.
    pub probs: [f32; OUTPUTS.len()],
}

impl ScreenScores {
    /// Probability of one output by name (0 for an unknown name).
    pub fn get(&self, name: &str) -> f32 {
        output_index(name).map_or(0.0, |i| self.probs[i])
    }
}

const MAGIC: &[u8; 8] = b"RAMPSCR1";

impl Screen {
    /// Trains on `examples` (and, with the same weight, nothing else).
    pub fn train(examples: &[ScreenExample], cfg: ScreenConfig, manifest: ScreenManifest) -> Self {
        let refs: Vec<&ScreenExample> = examples.iter().collect();
        Self::train_refs(&refs, cfg, manifest)
    }

    /// [`Screen::train`] over borrowed examples (folds share them).
    pub fn train_refs(
        examples: &[&ScreenExample],
        cfg: ScreenConfig,
        manifest: ScreenManifest,
    ) -> Self {
        let dense = train_dense(examples, cfg);
        let mut weights = Vec::new();
        let mut scales = Vec::new();
        let mut biases = Vec::new();
        for d in dense {
            let max = d.w.iter().fold(0f32, |m, w| m.max(w.abs())).max(1e-9);
            let scale = max / 127.0;
            weights.push(
                d.w.iter()
                    .map(|w| (w / scale).round().clamp(-127.0, 127.0) as i8)
                    .collect(),
            );
            scales.push(scale);
            biases.push(d.b);
        }
        Screen {
            manifest: ScreenManifest {
                format: "rampart-screen/1".into(),
                dim_bits: DIM_BITS,
                outputs: OUTPUTS.iter().map(|s| s.to_string()).collect(),
                config: Some(cfg),
                ..manifest
            },
            weights,
            scales,
            biases,
        }
    }

    /// Scores a text.
    pub fn score(&self, text: &str) -> ScreenScores {
        let n = rampart_normalise::normalise(text);
        self.score_folded(n.folded.as_str())
    }

    /// Scores an already-folded text (the detector's folded view).
    pub fn score_folded(&self, folded: &str) -> ScreenScores {
        let (feats, _, value) = features(folded);
        let mut probs = [0f32; OUTPUTS.len()];
        for (o, p) in probs.iter_mut().enumerate() {
            let w = &self.weights[o];
            let s: i32 = feats.iter().map(|&(f, _)| w[f as usize] as i32).sum();
            *p = sigmoid(s as f32 * self.scales[o] * value + self.biases[o]);
        }
        ScreenScores { probs }
    }

    /// The tokens of `folded` that raise output `name` the most: byte
    /// ranges in the folded view, strongest first, at most `k`, each with
    /// a positive contribution of at least `min_logit`. Every feature's
    /// weight is credited to the token it came from.
    pub fn top_tokens(
        &self,
        folded: &str,
        name: &str,
        k: usize,
        min_logit: f32,
    ) -> Vec<(usize, usize, f32)> {
        let Some(o) = output_index(name) else {
            return Vec::new();
        };
        let (feats, toks, value) = features(folded);
        let mut per = vec![0f32; toks.len()];
        for &(f, t) in &feats {
            if let Some(p) = per.get_mut(t) {
                *p += self.weights[o][f as usize] as f32 * self.scales[o] * value;
            }
        }
        let mut idx: Vec<usize> = (0..toks.len()).filter(|&i| per[i] >= min_logit).collect();
        idx.sort_by(|&a, &b| per[b].total_cmp(&per[a]));
        idx.truncate(k);
        idx.into_iter()
            .map(|i| (toks[i].start, toks[i].end, per[i]))
            .collect()
    }

    /// Serialises the model: magic, manifest length (u32 LE), manifest
    /// JSON, then per output its bias and scale (f32 LE) and one byte a
    /// bucket.
    pub fn to_bytes(&self) -> Vec<u8> {
        let manifest = serde_json::to_vec(&self.manifest).expect("manifest serialises");
        let mut out = Vec::with_capacity(16 + manifest.len() + OUTPUTS.len() * (DIM + 8));
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&(manifest.len() as u32).to_le_bytes());
        out.extend_from_slice(&manifest);
        for o in 0..OUTPUTS.len() {
            out.extend_from_slice(&self.biases[o].to_le_bytes());
            out.extend_from_slice(&self.scales[o].to_le_bytes());
            out.extend(self.weights[o].iter().map(|&w| w as u8));
        }
        out
    }

    /// Reads a model written by [`Screen::to_bytes`]; `name` is for errors.
    pub fn from_bytes(bytes: &[u8], name: &str) -> Result<Self, LearnError> {
        let bad = |reason: &str| LearnError::Format {
            path: name.into(),
            reason: reason.to_string(),
        };
        if bytes.len() < 12 || &bytes[..8] != MAGIC {
            return Err(bad("not a rampart screen model (bad magic)"));
        }
        let mlen = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes")) as usize;
        let body = bytes
            .get(12..12usize.saturating_add(mlen))
            .ok_or_else(|| bad("truncated manifest"))?;
        let manifest: ScreenManifest =
            serde_json::from_slice(body).map_err(|e| bad(&format!("manifest: {e}")))?;
        if manifest.dim_bits != DIM_BITS || manifest.outputs != OUTPUTS {
            return Err(bad("model was built for other features or outputs"));
        }
        let mut at = 12 + mlen;
        let (mut weights, mut scales, mut biases) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..OUTPUTS.len() {
            let head = bytes
                .get(at..at + 8)
                .ok_or_else(|| bad("truncated weights"))?;
            biases.push(f32::from_le_bytes(head[..4].try_into().expect("4 bytes")));
            scales.push(f32::from_le_bytes(head[4..].try_into().expect("4 bytes")));
            at += 8;
            let w = bytes
                .get(at..at + DIM)
                .ok_or_else(|| bad("truncated weights"))?;
            weights.push(w.iter().map(|&b| b as i8).collect());
            at += DIM;
        }
        if at != bytes.len() {
            return Err(bad("trailing bytes after the weights"));
        }
        Ok(Screen {
            manifest,
            weights,
            scales,
            biases,
        })
    }

    /// Reads a model file.
    pub fn load(path: &Path) -> Result<Self, LearnError> {
        let bytes = std::fs::read(path).map_err(|e| LearnError::Io {
            path: path.to_path_buf(),
            source: e,
        })?;
        Self::from_bytes(&bytes, &path.display().to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ex(text: &str, labels: &[&str], tier: Option<&str>) -> ScreenExample {
        let labels: Vec<String> = labels.iter().map(|s| s.to_string()).collect();
        ScreenExample::new(text, &labels, tier, 1.0)
    }

    #[test]
    fn tokens_shape_digits_and_keep_symbols() {
        let t = tokens("pay $5000 to kill 🔫 him");
        let texts: Vec<&str> = t.iter().map(|t| t.text.as_str()).collect();
        assert_eq!(texts, ["pay", "$", "0000", "to", "kill", "🔫", "him"]);
        assert_eq!(&"pay $5000 to kill 🔫 him"[t[4].start..t[4].end], "kill");
    }

    #[test]
    fn learns_separates_and_survives_a_round_trip() {
        let harmful = [
            "i will kill the judge tonight",
            "we are going to kill that deputy",
            "kill the reporter before friday",
            "voy a matar al juez",
            "vamos a matar al policia",
        ];
        let lawful = [
            "the judge ruled on friday",
            "the deputy helped at the parade",
            "the reporter wrote a great story",
            "el juez dio su fallo",
            "el policia ayudo en el desfile",
        ];
        let mut data: Vec<ScreenExample> =
            harmful.iter().map(|t| ex(t, &["threat"], None)).collect();
        data.extend(lawful.iter().map(|t| ex(t, &[], None)));
        data.push(ex(
            "$500 for whoever kills him",
            &["threat", "bounty"],
            Some("lethal"),
        ));
        data.push(ex("$500 for his address", &["bounty"], Some("info")));
        let m = Screen::train(&data, ScreenConfig::default(), ScreenManifest::default());
        let h = m.score("they will kill the judge");
        let l = m.score("the judge ruled today");
        assert!(h.get("harm") > 0.5 && l.get("harm") < 0.5, "{h:?} {l:?}");
        assert!(h.get("threat") > l.get("threat"));
        // Leetspeak reaches the same features through the folded view.
        assert!(m.score("they will k1ll the judge").get("harm") > 0.5);
        let top = m.top_tokens("they will kill the judge", "harm", 1, 0.0);
        assert_eq!(&"they will kill the judge"[top[0].0..top[0].1], "kill");
        let back = Screen::from_bytes(&m.to_bytes(), "mem").unwrap();
        assert_eq!(back.score("they will kill the judge"), h);
    }

    #[test]
    fn refuses_bad_files_naming_the_problem() {
        let e = Screen::from_bytes(b"nonsense", "x.bin").err().unwrap();
        assert!(e.to_string().contains("bad magic"), "{e}");
        let m = Screen::train(
            &[ex("a", &[], None)],
            ScreenConfig {
                epochs: 1,
                ..Default::default()
            },
            ScreenManifest::default(),
        );
        let mut b = m.to_bytes();
        b.truncate(b.len() - 1);
        assert!(Screen::from_bytes(&b, "x.bin")
            .err()
            .unwrap()
            .to_string()
            .contains("truncated"));
    }
}
