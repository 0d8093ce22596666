//! Normalisation: turns a post's text into two matchable *views* that keep a
//! map back to character offsets in the original text.
//!
//! Evasion (homoglyphs, zero-width characters, leetspeak, letters split by
//! spaces or dots, repeated letters, accents) is undone here, once, so the
//! detectors downstream can match plain lower-case words. Every byte of a view
//! remembers which original character it came from, so a match in a view
//! becomes an evidence span over the original text (contract section 2).
//!
//! * [`NormalisedText::base`]: NFKC, confusables folded to Latin, invisible
//!   and bidi controls removed, lower-cased, accents removed, letters split
//!   by single separators joined again. Digits and symbols are kept: money,
//!   phones, plates and addresses are read from this view.
//! * [`NormalisedText::folded`]: the base view with leetspeak folded
//!   (`k1ll` → `kill`, `a$$a$$inate` → `assassinate`) and runs of a repeated
//!   letter squeezed to one (`kiiiill` → `kil`). Lexicons are matched here,
//!   after the same [`fold_term`] is applied to every lexicon entry.
//!
//! The module is pure: no I/O, no global state beyond constant tables.

use unicode_normalization::UnicodeNormalization;

/// One matchable view of a text: the string, and for every byte of it the
/// index (in Unicode scalar values) of the original character it came from.
#[derive(Debug, Clone, Default)]
pub struct View {
    text: String,
    /// Original character index each byte starts at.
    source: Vec<u32>,
    /// Original character index (exclusive) each byte reaches: larger than
    /// `source + 1` when several original characters were squeezed into one.
    reach: Vec<u32>,
    /// Whether each byte came from letters that were written split apart
    /// (`k i l l`): word boundaries inside such runs are unknown.
    split: Vec<bool>,
}

impl View {
    /// The normalised string.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Maps a byte range of this view to a character range `[start, end)` of
    /// the original text. Returns `None` for an empty or out-of-range span.
    pub fn original_span(&self, start: usize, end: usize) -> Option<(usize, usize)> {
        if start >= end || end > self.source.len() {
            return None;
        }
        let first = self.source[start] as usize;
        let reach = self.reach[start..end].iter().copied().max()? as usize;
        Some((first, reach))
    }

    /// An empty view with room for `bytes` bytes: one allocation per
    /// vector instead of repeated growth (normalisation runs for every post).
    fn with_capacity(bytes: usize) -> Self {
        View {
            text: String::with_capacity(bytes),
            source: Vec::with_capacity(bytes),
            reach: Vec::with_capacity(bytes),
            split: Vec::with_capacity(bytes),
        }
    }

    /// Whether the byte at `at` came from a run of split letters, where
    /// word boundaries are unknown (`a m a t a r` may be `a matar`).
    pub fn in_split_run(&self, at: usize) -> bool {
        self.split.get(at).copied().unwrap_or(false)
    }

    /// Original character index of the byte at `at`.
    pub fn source_of(&self, at: usize) -> Option<usize> {
        self.source.get(at).map(|&c| c as usize)
    }

    fn push(&mut self, c: char, source: u32) {
        self.push_unit(Unit {
            c,
            source,
            split: false,
        });
    }

    fn push_unit(&mut self, u: Unit) {
        let before = self.text.len();
        self.text.push(u.c);
        for _ in before..self.text.len() {
            self.source.push(u.source);
            self.reach.push(u.source + 1);
            self.split.push(u.split);
        }
    }

    /// Extends the last byte's reach over a squeezed original character.
    fn extend_last(&mut self, source: u32) {
        if let Some(r) = self.reach.last_mut() {
            *r = (*r).max(source + 1);
        }
    }
}

/// A text with its two views. See the crate documentation.
#[derive(Debug, Clone, Default)]
pub struct NormalisedText {
    /// Lower-cased, de-confused, de-accented view that keeps digits and symbols.
    pub base: View,
    /// The base view with leetspeak and repeated letters folded.
    pub folded: View,
}

/// Normalises `text` into its views.
pub fn normalise(text: &str) -> NormalisedText {
    let chars = clean_chars(text);
    let joined = join_split_letters(&chars);
    let mut base = View::with_capacity(joined.len() + 8);
    for unit in &joined {
        base.push_unit(*unit);
    }
    let folded = fold_view(&joined);
    NormalisedText { base, folded }
}

/// Applies the folded view's transformation to a lexicon term, so that terms
/// and texts meet in the same form (`"kill"` → `"kil"`, `"matar"` → `"matar"`).
pub fn fold_term(term: &str) -> String {
    normalise(term).folded.text
}

/// Slices `text` by character offsets `[start, end)`.
pub fn char_slice(text: &str, start: usize, end: usize) -> &str {
    if text.is_ascii() {
        // One byte a character: slicing needs no walk (the common case).
        let to = end.max(start).min(text.len());
        return &text[start.min(text.len())..to];
    }
    let mut indices = text
        .char_indices()
        .map(|(i, _)| i)
        .chain(std::iter::once(text.len()));
    let from = indices.nth(start).unwrap_or(text.len());
    let to = if end > start {
        indices.nth(end - start - 1).unwrap_or(text.len())
    } else {
        from
    };
    &text[from..to]
}

#[derive(Debug, Clone, Copy)]
struct Unit {
    c: char,
    source: u32,
    split: bool,
}

/// True for characters that carry no visible content and are used to break
/// up words: zero-width spaces and joiners, bidi controls, soft hyphens,
/// variation selectors, word joiners.
pub fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}'
        | '\u{180B}'..='\u{180F}'
        | '\u{200B}'..='\u{200F}'
        | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}'
        | '\u{3164}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}' | '\u{FFA0}'
        | '\u{E0000}'..='\u{E007F}')
}

/// Step 1: drop invisibles, NFKC, fold confusables to Latin, strip accents,
/// lower-case. Output units remember their original character index.
fn clean_chars(text: &str) -> Vec<Unit> {
    let mut out = Vec::with_capacity(text.len());
    for (index, c) in text.chars().enumerate() {
        let source = index as u32;
        if c.is_ascii() {
            out.push(Unit {
                c: c.to_ascii_lowercase(),
                source,
                split: false,
            });
            continue;
        }
        if is_invisible(c) {
            continue;
        }
        // NFKC first (fullwidth letters, ligatures, superscripts), then
        // canonical decomposition to drop combining accents.
        let mut buf = [0u8; 4];
        for k in c.encode_utf8(&mut buf).nfkc() {
            for d in std::iter::once(k).nfd() {
                if is_combining_mark(d) {
                    continue;
                }
                push_folded_char(&mut out, d, source);
            }
        }
    }
    out
}

fn is_combining_mark(c: char) -> bool {
    matches!(c, '\u{0300}'..='\u{036F}' | '\u{1AB0}'..='\u{1AFF}' | '\u{1DC0}'..='\u{1DFF}' | '\u{20D0}'..='\u{20FF}' | '\u{FE20}'..='\u{FE2F}')
}

fn push_folded_char(out: &mut Vec<Unit>, c: char, source: u32) {
    if c.is_ascii() {
        out.push(Unit {
            c: c.to_ascii_lowercase(),
            source,
            split: false,
        });
        return;
    }
    if is_invisible(c) {
        return;
    }
    if c.is_alphabetic() {
        // Letters from other scripts that look Latin (Cyrillic а, Greek ο...)
        // are folded by decancer's confusables table. Letters it maps to
        // nothing Latin (CJK, Arabic...) are kept as they are.
        match decancer::cure_char(c, decancer::Options::default()) {
            decancer::Translation::Character(t) if t.is_ascii_alphanumeric() => {
                out.push(Unit {
                    c: t.to_ascii_lowercase(),
                    source,
                    split: false,
                });
            }
            decancer::Translation::String(s)
                if s.chars().all(|t| t.is_ascii_alphanumeric()) && !s.is_empty() =>
            {
                for t in s.chars() {
                    out.push(Unit {
                        c: t.to_ascii_lowercase(),
                        source,
                        split: false,
                    });
                }
            }
            _ => {
                for t in c.to_lowercase() {
                    out.push(Unit {
                        c: t,
                        source,
                        split: false,
                    });
                }
            }
        }
        return;
    }
    // Typographic punctuation to ASCII, so quotes and dashes are easy to match.
    let ascii = match c {
        '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}' | '\u{2032}' => Some('\''),
        '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{201F}' | '\u{00AB}' | '\u{00BB}'
        | '\u{2033}' => Some('"'),
        '\u{2010}'..='\u{2015}' | '\u{2212}' => Some('-'),
        '\u{00A0}' | '\u{2000}'..='\u{200A}' | '\u{202F}' | '\u{205F}' | '\u{3000}' => Some(' '),
        '\u{2026}' => Some('.'),
        _ => None,
    };
    out.push(Unit {
        c: ascii.unwrap_or(c),
        source,
        split: false,
    });
}

fn is_split_separator(c: char) -> bool {
    matches!(c, ' ' | '.' | '-' | '_' | '*' | '\u{00B7}' | '/')
}

/// Step 2: letters split by single separators (`k i l l`, `k.i.l.l`,
/// `d i e z   m i l`) are joined. A run needs at least three single
/// characters so ordinary one-letter words ("a", "y", "I") stay apart. A
/// wider gap (two or more spaces) between runs becomes one space, so split
/// words stay separate words.
fn join_split_letters(units: &[Unit]) -> Vec<Unit> {
    let n = units.len();
    let mut out = Vec::with_capacity(n);
    let mut i = 0;
    let is_alnum = |u: &Unit| u.c.is_alphanumeric() || is_leet_candidate(u.c);
    while i < n {
        // Try to read a run: X sep X sep X ... where each X is a single
        // alphanumeric char bounded by separators (or text edges).
        let starts_token = i == 0 || !is_alnum(&units[i - 1]);
        // Cheap pre-check before any allocation: a single character, one
        // separator, then another single character.
        let single_at =
            |j: usize| j < n && is_alnum(&units[j]) && (j + 1 >= n || !is_alnum(&units[j + 1]));
        let could_run = single_at(i) && i + 1 < n && is_split_separator(units[i + 1].c) && {
            let mut j = i + 1;
            while j < n && is_split_separator(units[j].c) {
                j += 1;
            }
            single_at(j)
        };
        if starts_token && could_run {
            let mut singles = vec![i];
            let mut j = i + 1;
            let mut gaps: Vec<(usize, usize)> = Vec::new();
            loop {
                // Count separators after the current single.
                let gap_start = j;
                while j < n && is_split_separator(units[j].c) {
                    j += 1;
                }
                let gap = j - gap_start;
                if gap == 0 || j >= n {
                    break;
                }
                let single = is_alnum(&units[j]) && (j + 1 >= n || !is_alnum(&units[j + 1]));
                if !single {
                    break;
                }
                gaps.push((gap_start, gap));
                singles.push(j);
                j += 1;
            }
            if singles.len() >= 3 {
                // Smallest gap is the letter gap; larger gaps are word gaps.
                let letter_gap = gaps.iter().map(|g| g.1).min().unwrap_or(1);
                for (k, &s) in singles.iter().enumerate() {
                    out.push(Unit {
                        split: true,
                        ..units[s]
                    });
                    if let Some(&(gap_start, gap)) = gaps.get(k) {
                        if gap > letter_gap {
                            out.push(Unit {
                                c: ' ',
                                source: units[gap_start].source,
                                split: false,
                            });
                        }
                    }
                }
                i = singles[singles.len() - 1] + 1;
                continue;
            }
        }
        out.push(units[i]);
        i += 1;
    }
    out
}

fn is_leet_candidate(c: char) -> bool {
    leet_letter(c).is_some()
}

/// The letter a leetspeak character stands for.
pub fn leet_letter(c: char) -> Option<char> {
    Some(match c {
        '0' => 'o',
        '1' | '!' | '|' => 'i',
        '3' | '\u{20AC}' => 'e',
        '4' | '@' => 'a',
        '5' | '$' => 's',
        '7' | '+' => 't',
        '\u{00A5}' => 'y',
        _ => return None,
    })
}

/// Step 3: leetspeak and repeated letters. A leet character is folded only
/// inside a token that has at least two real letters and only next to a
/// letter or another folded character, so money (`$50k`, `50`) and plain
/// numbers stay numbers.
fn fold_view(units: &[Unit]) -> View {
    let n = units.len();
    let mut view = View::with_capacity(units.len() + 8);
    let mut scratch: Vec<Unit> = Vec::with_capacity(32);
    let mut i = 0;
    while i < n {
        let c = units[i].c;
        if !(c.is_alphanumeric() || is_leet_candidate(c)) {
            // Squeeze runs of spaces so "kill   him" matches "kill him".
            if c.is_whitespace() {
                if !view.text.ends_with(' ') {
                    view.push(' ', units[i].source);
                }
            } else {
                view.push(c, units[i].source);
            }
            i += 1;
            continue;
        }
        let start = i;
        while i < n && (units[i].c.is_alphanumeric() || is_leet_candidate(units[i].c)) {
            i += 1;
        }
        let token = &units[start..i];
        let letters = token.iter().filter(|u| u.c.is_alphabetic()).count();
        let has_leet = token
            .iter()
            .any(|u| !u.c.is_alphabetic() && is_leet_candidate(u.c));
        // One reusable buffer: this runs for every token of every post.
        scratch.clear();
        scratch.extend_from_slice(token);
        let folded = &mut scratch;
        if letters >= 2 && has_leet {
            // Fold leet characters touching a letter, repeatedly, so chains
            // like "$$" in "a$$a$$inate" fold from their lettered ends.
            loop {
                let mut changed = false;
                for k in 0..folded.len() {
                    let c = folded[k].c;
                    if c.is_alphabetic() {
                        continue;
                    }
                    let Some(letter) = leet_letter(c) else {
                        continue;
                    };
                    let prev = k > 0 && folded[k - 1].c.is_alphabetic();
                    let next = k + 1 < folded.len() && folded[k + 1].c.is_alphabetic();
                    // Punctuation-like symbols ("!", "|", "+") fold only
                    // between letters, so "estimates!" stays a word.
                    let inner_only = matches!(c, '!' | '|' | '+');
                    if (inner_only && prev && next) || (!inner_only && (prev || next)) {
                        folded[k].c = letter;
                        changed = true;
                    }
                }
                if !changed {
                    break;
                }
            }
        }
        // Trailing punctuation-like leet ("kill!") that did not fold is kept.
        let mut last: Option<char> = None;
        for &u in folded.iter() {
            if u.c.is_alphabetic() && last == Some(u.c) {
                view.extend_last(u.source);
                continue;
            }
            last = Some(u.c);
            view.push_unit(u);
        }
    }
    view
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folded(s: &str) -> String {
        normalise(s).folded.as_str().to_string()
    }

    fn base(s: &str) -> String {
        normalise(s).base.as_str().to_string()
    }

    #[test]
    fn leetspeak_folds_but_money_stays() {
        assert_eq!(folded("k1ll"), "kil");
        assert_eq!(folded("a$$a$$inate"), "asasinate");
        assert_eq!(folded("$50k"), "$50k");
        assert_eq!(folded("p0l1c1a"), "policia");
        assert_eq!(folded("@ddr3ss"), "adres");
        assert_eq!(base("$50,000"), "$50,000");
    }

    #[test]
    fn homoglyphs_fold_to_latin() {
        // Cyrillic Т, е, М inside Latin words.
        assert_eq!(base("Тravis Меndеl"), "travis mendel");
        assert_eq!(base("plоmazо"), "plomazo");
    }

    #[test]
    fn invisibles_are_removed() {
        assert_eq!(base("m\u{200d}a\u{200d}t\u{200d}a\u{200d}r"), "matar");
        assert_eq!(
            base("q\u{200b}u\u{200b}i\u{200b}e\u{200b}b\u{200b}r\u{200b}e"),
            "quiebre"
        );
    }

    #[test]
    fn split_letters_are_joined() {
        assert_eq!(base("k i l l him"), "kill him");
        assert_eq!(base("k.i.l.l"), "kill");
        assert_eq!(base("d i e z   m i l por"), "diez mil por");
        assert_eq!(base("5 0 k for"), "50k for");
        // Ordinary one-letter words stay words.
        assert_eq!(base("a b"), "a b");
        assert_eq!(base("I a m"), "iam");
    }

    #[test]
    fn accents_and_case_fold() {
        assert_eq!(base("UBICACIÓN"), "ubicacion");
        assert_eq!(base("Saldívar"), "saldivar");
    }

    #[test]
    fn repeated_letters_squeeze() {
        assert_eq!(folded("kiiiilllll"), "kil");
        assert_eq!(fold_term("kill"), folded("killll"));
    }

    #[test]
    fn spans_map_back_to_original() {
        let text = "gonna k\u{200b}i\u{200b}l\u{200b}l him";
        let n = normalise(text);
        let at = n.folded.as_str().find("kil").unwrap();
        let (s, e) = n.folded.original_span(at, at + 3).unwrap();
        assert_eq!(char_slice(text, s, e), "k\u{200b}i\u{200b}l\u{200b}l");
    }

    #[test]
    fn char_slice_handles_multibyte() {
        assert_eq!(char_slice("añob", 1, 3), "ño");
        assert_eq!(char_slice("abc", 3, 3), "");
    }
}
