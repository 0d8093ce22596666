//! A SentencePiece unigram tokenizer read straight from a `.model` file:
//! the `nmt_nfkc` normaliser (the model's precompiled darts-clone charsmap,
//! walked for the longest byte prefix as sentencepiece does), whitespace
//! handling (dummy prefix, `▁` for spaces, extra spaces removed) and the
//! unigram Viterbi segmentation.
//!
//! Why not the `tokenizers` crate: it only loads its own JSON format, and
//! converting a `.model` to it needs Python's protobuf stack at set-up.
//! This port follows the encoder package's own tokenizer step by step and
//! a test checks it gives the same ids as that tokenizer on every dev post.

use std::collections::HashMap;

/// The prefix table is looked up once per character and candidate length:
/// a fast non-cryptographic hash (the keys are the model's own pieces).
type Prefixes = HashMap<Box<str>, u32, foldhash::fast::FixedState>;

/// Id of `<unk>`.
pub const UNK: u32 = 0;
/// Id of `<s>`.
pub const BOS: u32 = 1;
/// Id of `</s>`.
pub const EOS: u32 = 2;

const SPACE: &str = "\u{2581}";

/// A loaded unigram model.
pub struct SentencePiece {
    scores: Vec<f32>,
    /// Every piece and every proper prefix of one: piece id + 1, or 0 for
    /// a prefix that only keeps the lattice walk going.
    prefixes: Prefixes,
    max_chars: usize,
    /// Path scores add up in f64, as the reference tokenizer does (ties
    /// between segmentations are decided by exact sums).
    unk_score: f64,
    normaliser: Normaliser,
}

/// Why a `.model` file could not be read.
#[derive(Debug, thiserror::Error)]
#[error("not a SentencePiece model: {0}")]
pub struct ModelError(String);

impl SentencePiece {
    /// Parses a serialized `ModelProto`.
    pub fn from_bytes(data: &[u8]) -> Result<Self, ModelError> {
        let top = fields(data).map_err(ModelError)?;
        let mut pieces = Vec::new();
        let mut scores = Vec::new();
        let mut charsmap: &[u8] = &[];
        for (field, value) in top {
            match (field, value) {
                (1, Value::Bytes(piece)) => {
                    let mut text = None;
                    let mut score = 0f32;
                    for (f, v) in fields(piece).map_err(ModelError)? {
                        match (f, v) {
                            (1, Value::Bytes(b)) => {
                                text = Some(
                                    std::str::from_utf8(b)
                                        .map_err(|e| ModelError(format!("piece: {e}")))?,
                                )
                            }
                            (2, Value::Fixed32(bits)) => score = f32::from_bits(bits),
                            _ => {}
                        }
                    }
                    if let Some(t) = text {
                        pieces.push(t.to_string());
                        scores.push(score);
                    }
                }
                // normalizer_spec: its field 2 is the precompiled charsmap.
                (3, Value::Bytes(spec)) => {
                    for (f, v) in fields(spec).map_err(ModelError)? {
                        if let (2, Value::Bytes(b)) = (f, v) {
                            charsmap = b;
                        }
                    }
                }
                _ => {}
            }
        }
        if pieces.is_empty() {
            return Err(ModelError("no pieces".into()));
        }
        let mut prefixes = Prefixes::default();
        let mut max_chars = 0;
        for (id, piece) in pieces.iter().enumerate() {
            let bounds: Vec<usize> = piece.char_indices().map(|(i, _)| i).skip(1).collect();
            max_chars = max_chars.max(bounds.len() + 1);
            for &end in &bounds {
                prefixes.entry(piece[..end].into()).or_insert(0);
            }
            prefixes.insert(piece.as_str().into(), id as u32 + 1);
        }
        let unk_score = scores.iter().copied().fold(f32::INFINITY, f32::min) as f64 - 10.0;
        Ok(SentencePiece {
            scores,
            prefixes,
            max_chars,
            unk_score,
            normaliser: Normaliser::new(charsmap)?,
        })
    }

    /// Number of pieces.
    pub fn vocab_size(&self) -> usize {
        self.scores.len()
    }

    /// Piece ids of `text`, with `<s>` first and `</s>` last.
    pub fn encode(&self, text: &str) -> Vec<u32> {
        let normalised = self.normaliser.normalise(text);
        let mut ids = Vec::with_capacity(normalised.len() / 3 + 3);
        ids.push(BOS);
        if normalised.is_empty() {
            ids.push(UNK);
        } else {
            self.viterbi(&normalised, &mut ids);
        }
        ids.push(EOS);
        ids
    }

    /// Best segmentation by total piece score. All lattice nodes starting
    /// at a position share one best predecessor, so a left-to-right pass
    /// over positions is the lattice search; ties keep the earlier start,
    /// as sentencepiece's strict comparison does.
    fn viterbi(&self, s: &str, out: &mut Vec<u32>) {
        let bounds: Vec<usize> = s
            .char_indices()
            .map(|(i, _)| i)
            .chain(std::iter::once(s.len()))
            .collect();
        let n = bounds.len() - 1;
        let mut best = vec![f64::MIN; n + 1];
        best[0] = 0.0;
        let mut start_of = vec![0usize; n + 1];
        let mut piece_of = vec![UNK; n + 1];
        for i in 0..n {
            let base = best[i];
            let stop = (i + self.max_chars).min(n);
            let mut has_single = false;
            for j in i + 1..=stop {
                let Some(&v) = self.prefixes.get(&s[bounds[i]..bounds[j]]) else {
                    break;
                };
                if v > 0 {
                    let score = base + self.scores[v as usize - 1] as f64;
                    if score > best[j] {
                        best[j] = score;
                        start_of[j] = i;
                        piece_of[j] = v - 1;
                    }
                    has_single |= j == i + 1;
                }
            }
            if !has_single {
                let score = base + self.unk_score;
                if score > best[i + 1] {
                    best[i + 1] = score;
                    start_of[i + 1] = i;
                    piece_of[i + 1] = UNK;
                }
            }
        }
        let at = out.len();
        let mut p = n;
        while p > 0 {
            out.push(piece_of[p]);
            p = start_of[p];
        }
        out[at..].reverse();
    }
}

/// The `nmt_nfkc` normaliser: a darts-clone double-array trie over UTF-8
/// byte strings, each leaf pointing at a NUL-terminated replacement.
struct Normaliser {
    units: Vec<u32>,
    replacements: Vec<u8>,
}

impl Normaliser {
    fn new(charsmap: &[u8]) -> Result<Self, ModelError> {
        if charsmap.is_empty() {
            return Ok(Normaliser {
                units: Vec::new(),
                replacements: Vec::new(),
            });
        }
        let bad = || ModelError("truncated precompiled charsmap".into());
        let size = u32::from_le_bytes(charsmap.get(..4).ok_or_else(bad)?.try_into().unwrap());
        let trie = charsmap.get(4..4 + size as usize).ok_or_else(bad)?;
        let units = trie
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes(c.try_into().unwrap()))
            .collect();
        Ok(Normaliser {
            units,
            replacements: charsmap[4 + size as usize..].to_vec(),
        })
    }

    fn offset(unit: u32) -> usize {
        ((unit >> 10) << ((unit & 0x200) >> 6)) as usize
    }

    /// The normalised form of the longest charsmap key at the start of
    /// `data` and how many bytes it consumed; a byte string with no key is
    /// kept as one (valid) UTF-8 character.
    fn prefix<'a>(&'a self, data: &'a [u8]) -> (&'a [u8], usize) {
        let mut best_len = 0;
        let mut best_value = 0usize;
        if let Some(&root) = self.units.first() {
            let mut node = Self::offset(root);
            for (i, &c) in data.iter().enumerate() {
                node ^= c as usize;
                let Some(&unit) = self.units.get(node) else {
                    break;
                };
                if unit & 0x8000_00FF != c as u32 {
                    break;
                }
                node ^= Self::offset(unit);
                if unit & 0x100 != 0 {
                    best_len = i + 1;
                    best_value =
                        (self.units.get(node).copied().unwrap_or(0) & 0x7FFF_FFFF) as usize;
                }
            }
        }
        if best_len == 0 || best_value >= self.replacements.len() {
            let first = data[0];
            let mut len = match first {
                b if b < 0x80 => 1,
                b if b >> 5 == 0x6 => 2,
                b if b >> 4 == 0xE => 3,
                b if b >> 3 == 0x1E => 4,
                _ => 1,
            };
            if (1..len).any(|k| data.get(k).is_none_or(|b| b & 0xC0 != 0x80)) {
                len = 1;
            }
            return (&data[..len], len);
        }
        let rest = &self.replacements[best_value..];
        let end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
        (&rest[..end], best_len)
    }

    /// Normalises `text`: charsmap replacements, leading/trailing and
    /// repeated spaces removed, a `▁` before the text and for every space.
    fn normalise(&self, text: &str) -> String {
        let raw = text.as_bytes();
        let mut pos = 0;
        while pos < raw.len() {
            let (p, adv) = self.prefix(&raw[pos..]);
            if p != b" " {
                break;
            }
            pos += adv;
        }
        if pos >= raw.len() {
            return String::new();
        }
        let mut out: Vec<u8> = Vec::with_capacity(raw.len() + 8);
        out.extend_from_slice(SPACE.as_bytes());
        let mut prev_space = true;
        while pos < raw.len() {
            let (mut p, adv) = self.prefix(&raw[pos..]);
            pos += adv;
            if prev_space {
                while let [b' ', rest @ ..] = p {
                    p = rest;
                }
            }
            if let Some(&last) = p.last() {
                for &b in p {
                    if b == b' ' {
                        out.extend_from_slice(SPACE.as_bytes());
                    } else {
                        out.push(b);
                    }
                }
                prev_space = last == b' ';
            }
        }
        while out.ends_with(SPACE.as_bytes()) {
            out.truncate(out.len() - SPACE.len());
        }
        // Replacements are UTF-8 and untouched characters are whole ones,
        // except a stray invalid byte, which is replaced.
        match String::from_utf8(out) {
            Ok(s) => s,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        }
    }
}

enum Value<'a> {
    Varint,
    Fixed32(u32),
    Bytes(&'a [u8]),
}

fn varint(data: &[u8], pos: &mut usize) -> Result<u64, String> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let b = *data.get(*pos).ok_or("truncated varint")?;
        *pos += 1;
        v |= u64::from(b & 0x7F) << shift;
        if b & 0x80 == 0 {
            return Ok(v);
        }
    }
    Err("varint too long".into())
}

/// The fields of one protobuf message, in order (only the wire types a
/// `ModelProto` uses).
fn fields(data: &[u8]) -> Result<Vec<(u64, Value<'_>)>, String> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < data.len() {
        let tag = varint(data, &mut pos)?;
        let value = match tag & 7 {
            0 => {
                varint(data, &mut pos)?;
                Value::Varint
            }
            1 => {
                data.get(pos..pos + 8).ok_or("truncated fixed64")?;
                pos += 8;
                Value::Varint
            }
            2 => {
                // A length from the file: checked, never trusted to add up.
                let len = usize::try_from(varint(data, &mut pos)?).unwrap_or(usize::MAX);
                let end = pos.checked_add(len).ok_or("field length out of range")?;
                let b = data.get(pos..end).ok_or("truncated field")?;
                pos = end;
                Value::Bytes(b)
            }
            5 => {
                let b = data.get(pos..pos + 4).ok_or("truncated fixed32")?;
                pos += 4;
                Value::Fixed32(u32::from_le_bytes(b.try_into().unwrap()))
            }
            w => return Err(format!("unsupported wire type {w}")),
        };
        out.push((tag >> 3, value));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_refused_not_panicked_on() {
        // The last one: a length-delimited field claiming 2^64 - 1 bytes
        // (found by the fuzzer: it overflowed the offset).
        for bytes in [
            &b""[..],
            b"\x0a\xff",
            b"\x0b",
            b"\x0a\x05ab",
            b"\x09\x01",
            b"\x0a\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01",
        ] {
            assert!(SentencePiece::from_bytes(bytes).is_err());
        }
    }

    proptest::proptest! {
        #[test]
        fn any_bytes_parse_or_fail_without_panicking(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..256)) {
            let _ = SentencePiece::from_bytes(&bytes);
        }

        #[test]
        fn any_text_encodes_to_known_ids(text in "\\PC{0,64}") {
            let sp = SentencePiece::from_bytes(&tiny_model()).unwrap();
            let ids = sp.encode(&text);
            proptest::prop_assert_eq!(ids[0], BOS);
            proptest::prop_assert_eq!(*ids.last().unwrap(), EOS);
            proptest::prop_assert!(ids.len() >= 3);
            proptest::prop_assert!(ids.iter().all(|&i| (i as usize) < sp.vocab_size()));
        }
    }

    fn tiny_model() -> Vec<u8> {
        // pieces: <unk>, <s>, </s>, ▁ab (good), ▁a, b
        let mut model = Vec::new();
        for (p, s) in [
            ("<unk>", 0.0f32),
            ("<s>", 0.0),
            ("</s>", 0.0),
            ("\u{2581}ab", -1.0),
            ("\u{2581}a", -2.0),
            ("b", -2.0),
        ] {
            let mut piece = vec![0x0a, p.len() as u8];
            piece.extend_from_slice(p.as_bytes());
            piece.push(0x15);
            piece.extend_from_slice(&s.to_le_bytes());
            model.push(0x0a);
            model.push(piece.len() as u8);
            model.extend(piece);
        }
        model
    }

    #[test]
    fn a_tiny_model_segments_by_score() {
        let sp = SentencePiece::from_bytes(&tiny_model()).unwrap();
        assert_eq!(sp.encode("ab"), vec![BOS, 3, EOS]);
        assert_eq!(sp.encode("  ab   ab "), vec![BOS, 3, 3, EOS]);
        // "c" is in no piece: one <unk> for it.
        assert_eq!(sp.encode("abc"), vec![BOS, 3, UNK, EOS]);
        assert_eq!(sp.encode("   "), vec![BOS, UNK, EOS]);
    }
}
