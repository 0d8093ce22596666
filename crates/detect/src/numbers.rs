//! Numbers written in words, English and Spanish: amounts of money
//! ("fifty thousand", "cincuenta mil", "a hundred grand", "Five. Hundred.")
//! and phone numbers spelled digit by digit ("three one two five five five").
//!
//! Works on the base view (lower-case, accents folded). Punctuation between
//! number words is allowed, so amounts split across sentences still read.

/// Value of a number word, and whether it is a multiplier.
fn word_value(w: &str) -> Option<(u64, bool)> {
    Some(match w {
        "zero" | "cero" | "oh" => (0, false),
        "a" | "un" | "una" => (1, false),
        "one" | "uno" => (1, false),
        "two" | "dos" => (2, false),
        "three" | "tres" => (3, false),
        "four" | "cuatro" => (4, false),
        "five" | "cinco" => (5, false),
        "six" | "seis" => (6, false),
        "seven" | "siete" => (7, false),
        "eight" | "ocho" => (8, false),
        "nine" | "nueve" => (9, false),
        "ten" | "diez" => (10, false),
        "eleven" | "once" => (11, false),
        "twelve" | "doce" => (12, false),
        "thirteen" | "trece" => (13, false),
        "fourteen" | "catorce" => (14, false),
        "fifteen" | "quince" => (15, false),
        "sixteen" | "dieciseis" => (16, false),
        "seventeen" | "diecisiete" => (17, false),
        "eighteen" | "dieciocho" => (18, false),
        "nineteen" | "diecinueve" => (19, false),
        "twenty" | "veinte" => (20, false),
        "veinticinco" => (25, false),
        "thirty" | "treinta" => (30, false),
        "forty" | "cuarenta" => (40, false),
        "fifty" | "cincuenta" => (50, false),
        "sixty" | "sesenta" => (60, false),
        "seventy" | "setenta" => (70, false),
        "eighty" | "ochenta" => (80, false),
        "ninety" | "noventa" => (90, false),
        "hundred" | "cien" | "ciento" => (100, true),
        "doscientos" => (200, false),
        "trescientos" => (300, false),
        "quinientos" => (500, false),
        "thousand" | "mil" | "grand" => (1000, true),
        "million" | "millon" | "millones" => (1_000_000, true),
        _ => return None,
    })
}

fn single_digit(w: &str) -> Option<u8> {
    match word_value(w) {
        Some((v, false)) if v <= 9 && !matches!(w, "a" | "un" | "una") => Some(v as u8),
        _ => None,
    }
}

/// Word tokens of `s` with byte ranges; hyphens split words ("seventy-five").
fn words(s: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in s.char_indices() {
        if c.is_alphanumeric() {
            if start.is_none() {
                start = Some(i);
            }
        } else if let Some(st) = start.take() {
            out.push((st, i));
        }
    }
    if let Some(st) = start {
        out.push((st, s.len()));
    }
    out
}

/// Only spaces and light punctuation between two words (so an amount can be
/// split across sentences, but not across unrelated text).
fn joinable(gap: &str) -> bool {
    gap.len() <= 4
        && gap
            .chars()
            .all(|c| matches!(c, ' ' | '.' | ',' | '-' | '!' | '\n' | 'y'))
}

/// Multipliers an amount in words must contain; a text with none of them
/// has no amount in words, which spares tokenising most posts.
const MULTIPLIERS: [&str; 8] = [
    "hundred", "thousand", "grand", "million", "mil", "cien", "millon", "ientos",
];

/// Amounts written in words that contain a multiplier (hundred, thousand,
/// mil, grand, million): byte ranges in `base`.
pub fn money_words(base: &str) -> Vec<(usize, usize)> {
    if !MULTIPLIERS.iter().any(|m| base.contains(m)) {
        return Vec::new();
    }
    let ws = words(base);
    let mut out = Vec::new();
    let mut i = 0;
    while i < ws.len() {
        let (s, e) = ws[i];
        let Some((_, _)) = word_value(&base[s..e]) else {
            i += 1;
            continue;
        };
        let mut j = i;
        let mut has_multiplier = false;
        let mut has_number = false;
        let mut end = e;
        while j < ws.len() {
            let (ws_, we) = ws[j];
            if j > i && !joinable(&base[ws[j - 1].1..ws_]) {
                break;
            }
            // "y" joins Spanish tens and units: "treinta y cinco".
            let w = &base[ws_..we];
            if w == "y" && j > i {
                j += 1;
                continue;
            }
            match word_value(w) {
                Some((_, mult)) => {
                    has_multiplier |= mult;
                    has_number |= !matches!(w, "a" | "un" | "una" | "oh");
                    end = we;
                }
                None => break,
            }
            j += 1;
        }
        // A lone "mil" or "cien" is a word, not an amount; "a grand" and
        // "un millón" are amounts.
        let phrase = &base[s..end];
        if has_multiplier
            && (has_number || phrase.contains(' '))
            && !matches!(phrase, "mil" | "cien")
        {
            out.push((s, end));
        }
        i = j.max(i + 1);
    }
    out
}

/// Runs of at least seven spelled single digits: a phone number in words.
pub fn spelled_phone(base: &str) -> Vec<(usize, usize)> {
    // Seven digit words make at least 20 bytes, and contain a digit word:
    // skip the texts that cannot hold one without tokenising them.
    const DIGIT_WORDS: [&str; 20] = [
        "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "cero",
        "uno", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve",
    ];
    if base.len() < 20 || !DIGIT_WORDS.iter().any(|d| base.contains(d)) {
        return Vec::new();
    }
    let ws = words(base);
    let mut out = Vec::new();
    let mut i = 0;
    while i < ws.len() {
        let mut j = i;
        while j < ws.len() && single_digit(&base[ws[j].0..ws[j].1]).is_some() {
            if j > i && !joinable(&base[ws[j - 1].1..ws[j].0]) {
                break;
            }
            j += 1;
        }
        if j - i >= 7 {
            out.push((ws[i].0, ws[j - 1].1));
        }
        i = j.max(i + 1);
    }
    out
}

/// The digits spelled by a run of digit words.
pub fn digits_of_words(s: &str) -> String {
    words(s)
        .into_iter()
        .filter_map(|(a, b)| single_digit(&s[a..b]))
        .map(|d| char::from(b'0' + d))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn amounts(s: &str) -> Vec<&str> {
        money_words(s).into_iter().map(|(a, b)| &s[a..b]).collect()
    }

    #[test]
    fn reads_amounts_in_words() {
        assert_eq!(
            amounts("gets a hundred thousand. he"),
            vec!["a hundred thousand"]
        );
        assert_eq!(amounts("cincuenta mil verdes"), vec!["cincuenta mil"]);
        assert_eq!(
            amounts("seventy-five thousand dollars"),
            vec!["seventy-five thousand"]
        );
        assert_eq!(amounts("five. hundred. per day."), vec!["five. hundred"]);
        assert_eq!(amounts("pago dos mil por"), vec!["dos mil"]);
        assert_eq!(amounts("un millon de pesos"), vec!["un millon"]);
        assert!(amounts("one of the two agents").is_empty());
    }

    #[test]
    fn reads_spelled_phone_numbers() {
        let s = "call three one two five five five zero one four seven now";
        let spans = spelled_phone(s);
        assert_eq!(spans.len(), 1);
        assert_eq!(digits_of_words(&s[spans[0].0..spans[0].1]), "3125550147");
        let es = "tres tres cinco cinco cinco cinco cero uno cuatro dos";
        assert_eq!(
            digits_of_words(&es[spelled_phone(es)[0].0..spelled_phone(es)[0].1]),
            "3355550142"
        );
    }
}
