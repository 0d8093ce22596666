//! Classifier heads: one logistic regression per category plus a lawful
//! head, over sentence embeddings. Trained by full-batch gradient descent
//! from zero weights in a fixed order, so training is deterministic.

use serde::{Deserialize, Serialize};

/// The heads, in file order.
pub const HEADS: [&str; 5] = [
    "threat",
    "bounty",
    "doxxing",
    "targeted_surveillance",
    "lawful",
];

/// One logistic-regression head.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LogisticHead {
    /// One weight per embedding dimension.
    pub weights: Vec<f32>,
    /// Bias.
    pub bias: f32,
}

impl LogisticHead {
    /// Probability of the head's class for one embedding.
    pub fn score(&self, x: &[f32]) -> f32 {
        let z: f32 = self.weights.iter().zip(x).map(|(w, v)| w * v).sum::<f32>() + self.bias;
        sigmoid(z)
    }
}

fn sigmoid(z: f32) -> f32 {
    1.0 / (1.0 + (-z).exp())
}

/// Training settings (fixed: the same data gives the same head).
#[derive(Debug, Clone, Copy)]
pub struct TrainConfig {
    /// Gradient steps over the whole set.
    pub epochs: usize,
    /// Step size.
    pub learning_rate: f32,
    /// L2 penalty.
    pub l2: f32,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            epochs: 600,
            learning_rate: 4.0,
            l2: 1e-4,
        }
    }
}

/// Trains one head. Positives and negatives weigh the same in total (the
/// sets are unbalanced), so a rare category is not ignored.
pub fn train(x: &[Vec<f32>], y: &[bool], cfg: TrainConfig) -> LogisticHead {
    let dim = x.first().map_or(0, Vec::len);
    let mut w = vec![0f32; dim];
    let mut b = 0f32;
    let pos = y.iter().filter(|&&v| v).count().max(1) as f32;
    let neg = y.iter().filter(|&&v| !v).count().max(1) as f32;
    let n = x.len().max(1) as f32;
    let (wp, wn) = (n / (2.0 * pos), n / (2.0 * neg));
    let mut grad = vec![0f32; dim];
    for _ in 0..cfg.epochs {
        grad.iter_mut().for_each(|g| *g = 0.0);
        let mut gb = 0f32;
        for (xi, &yi) in x.iter().zip(y) {
            let z: f32 = w.iter().zip(xi).map(|(a, v)| a * v).sum::<f32>() + b;
            let p = sigmoid(z);
            let weight = if yi { wp } else { wn };
            let err = weight * (p - if yi { 1.0 } else { 0.0 });
            for (g, v) in grad.iter_mut().zip(xi) {
                *g += err * v;
            }
            gb += err;
        }
        for (wi, g) in w.iter_mut().zip(&grad) {
            *wi -= cfg.learning_rate * (g / n + cfg.l2 * *wi);
        }
        b -= cfg.learning_rate * gb / n;
    }
    LogisticHead {
        weights: w,
        bias: b,
    }
}

/// Precision, recall, F1 at 0.5 and ROC AUC of scores against truth.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct HeadMetrics {
    /// Positives in the data.
    pub positives: usize,
    /// Precision at 0.5.
    pub precision: f64,
    /// Recall at 0.5.
    pub recall: f64,
    /// F1 at 0.5.
    pub f1: f64,
    /// Area under the ROC curve.
    pub auc: f64,
}

/// Metrics of scores against truth.
pub fn metrics(scores: &[f32], truth: &[bool]) -> HeadMetrics {
    let (mut tp, mut fp, mut fn_) = (0f64, 0f64, 0f64);
    for (&s, &t) in scores.iter().zip(truth) {
        match (s >= 0.5, t) {
            (true, true) => tp += 1.0,
            (true, false) => fp += 1.0,
            (false, true) => fn_ += 1.0,
            _ => {}
        }
    }
    let precision = if tp + fp > 0.0 { tp / (tp + fp) } else { 0.0 };
    let recall = if tp + fn_ > 0.0 { tp / (tp + fn_) } else { 0.0 };
    let f1 = if precision + recall > 0.0 {
        2.0 * precision * recall / (precision + recall)
    } else {
        0.0
    };
    // AUC: probability a random positive outscores a random negative.
    let mut pairs: Vec<(f32, bool)> = scores.iter().copied().zip(truth.iter().copied()).collect();
    pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (mut rank_sum, mut pos) = (0f64, 0f64);
    let mut i = 0;
    while i < pairs.len() {
        let mut j = i;
        while j < pairs.len() && pairs[j].0 == pairs[i].0 {
            j += 1;
        }
        let avg_rank = (i + j + 1) as f64 / 2.0;
        for p in &pairs[i..j] {
            if p.1 {
                rank_sum += avg_rank;
                pos += 1.0;
            }
        }
        i = j;
    }
    let neg = pairs.len() as f64 - pos;
    let auc = if pos > 0.0 && neg > 0.0 {
        (rank_sum - pos * (pos + 1.0) / 2.0) / (pos * neg)
    } else {
        0.0
    };
    let r = |x: f64| (x * 1000.0).round() / 1000.0;
    HeadMetrics {
        positives: truth.iter().filter(|&&t| t).count(),
        precision: r(precision),
        recall: r(recall),
        f1: r(f1),
        auc: r(auc),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_separable_set_is_learned_and_training_is_deterministic() {
        // Two clusters on the unit circle.
        let mut x = Vec::new();
        let mut y = Vec::new();
        for i in 0..40 {
            let a = i as f32 * 0.01;
            x.push(vec![a.cos(), a.sin()]);
            y.push(true);
            x.push(vec![-(a.cos()), a.sin() - 0.5]);
            y.push(false);
        }
        let h = train(&x, &y, TrainConfig::default());
        let scores: Vec<f32> = x.iter().map(|v| h.score(v)).collect();
        let m = metrics(&scores, &y);
        assert_eq!((m.precision, m.recall, m.auc), (1.0, 1.0, 1.0), "{m:?}");
        assert_eq!(h, train(&x, &y, TrainConfig::default()));
    }

    #[test]
    fn auc_of_random_order_is_a_half_and_of_reversed_order_zero() {
        let truth = [true, false, true, false];
        assert_eq!(metrics(&[0.5, 0.5, 0.5, 0.5], &truth).auc, 0.5);
        assert_eq!(metrics(&[0.1, 0.9, 0.2, 0.8], &truth).auc, 0.0);
    }
}
