//! Near-duplicate text as link keys: MinHash over character 5-grams of the
//! folded text (leetspeak, homoglyphs, accents, case, emoji and punctuation
//! already gone), cut into LSH bands. Two posts share a band key with high
//! probability when their shingle sets are similar (Jaccard ≥ ~0.7) and
//! rarely when not (≤ 3% at 0.3), so a repost with a few words changed
//! links to the original even when it names no one.
//!
//! Written here rather than taken from a MinHash crate because the band
//! keys must live in the detector's own time-windowed key map: evicted,
//! checkpointed and restored with it. Hashes are fixed functions (FNV-1a,
//! splitmix64), so keys are stable across runs and checkpoints.

/// Bands and rows per band: 10 × 5 = 50 hashes per post.
const BANDS: usize = 10;
const ROWS: usize = 5;
/// Shingle width, in characters.
const SHINGLE: usize = 5;
/// Texts shorter than this (in kept characters) are too generic to link
/// on wording alone ("kill him").
const MIN_CHARS: usize = 40;

/// The band keys of a text, or none when it is too short.
pub fn band_keys(text: &str) -> Vec<String> {
    let norm = rampart_normalise::normalise(text);
    let chars = clean(norm.folded.as_str());
    if chars.len() < MIN_CHARS {
        return Vec::new();
    }
    let signature = minhash(&chars);
    signature
        .chunks(ROWS)
        .enumerate()
        .map(|(band, rows)| {
            let mut h = FNV_OFFSET ^ band as u64;
            for r in rows {
                h = fnv_step(h, &r.to_le_bytes());
            }
            format!("dup:{h:016x}")
        })
        .collect()
}

/// Alphanumeric characters, with every run of anything else as one space.
fn clean(folded: &str) -> Vec<char> {
    let mut out = Vec::with_capacity(folded.len());
    let mut gap = false;
    for c in folded.chars() {
        if c.is_alphanumeric() {
            if gap && !out.is_empty() {
                out.push(' ');
            }
            gap = false;
            out.push(c);
        } else {
            gap = true;
        }
    }
    out
}

fn minhash(chars: &[char]) -> [u64; BANDS * ROWS] {
    let mut sig = [u64::MAX; BANDS * ROWS];
    let mut buf = [0u8; 4 * SHINGLE];
    for w in chars.windows(SHINGLE) {
        let mut n = 0;
        for c in w {
            n += c.encode_utf8(&mut buf[n..]).len();
        }
        let base = fnv_step(FNV_OFFSET, &buf[..n]);
        for (i, slot) in sig.iter_mut().enumerate() {
            let h = splitmix64(base ^ SEEDS[i % SEEDS.len()].wrapping_mul(i as u64 + 1));
            if h < *slot {
                *slot = h;
            }
        }
    }
    sig
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const SEEDS: [u64; 4] = [
    0x9e37_79b9_7f4a_7c15,
    0xbf58_476d_1ce4_e5b9,
    0x94d0_49bb_1331_11eb,
    0x2545_f491_4f6c_dd1d,
];

fn fnv_step(mut h: u64, bytes: &[u8]) -> u64 {
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shared(a: &str, b: &str) -> usize {
        let ka = band_keys(a);
        band_keys(b).iter().filter(|k| ka.contains(k)).count()
    }

    #[test]
    fn small_edits_emoji_and_leetspeak_still_link() {
        let a = "Everyone go to the north parking lot tonight and wait for the grey truck";
        assert!(
            shared(
                a,
                "everyone go to the n0rth parking lot tonight 🔥🔥 and wait for the gray truck!!"
            ) > 0
        );
        assert!(
            shared(
                a,
                "EVERYONE go to the north parking lot TONIGHT and wait for that grey truck"
            ) > 0
        );
    }

    #[test]
    fn different_texts_do_not_link_and_short_ones_never_do() {
        let a = "Everyone go to the north parking lot tonight and wait for the grey truck";
        let b = "The council meets on Tuesday to discuss the new budget for the library";
        assert_eq!(shared(a, b), 0);
        assert!(band_keys("kill him now").is_empty());
        assert_eq!(band_keys(a), band_keys(a), "keys are deterministic");
    }
}
