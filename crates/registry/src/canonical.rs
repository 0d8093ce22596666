//! Canonical forms: the one spelling of a fact that is hashed, so that
//! `(312) 555-0147`, `312.555.0147` and `+1 312 555 0147` hash alike, and
//! so do `Calle Roble #45` and `Roble 45`.
//!
//! Everything here is pure and works on text already folded by
//! `rampart_normalise` (lower-case, accents and homoglyphs folded).

use rampart_normalise::{fold_term, normalise};

/// Street-type words dropped from an address's core (`st`, `calle`, ...).
const STREET_TYPES: &[&str] = &[
    "st",
    "street",
    "ave",
    "av",
    "avenue",
    "avenida",
    "rd",
    "road",
    "dr",
    "drive",
    "ln",
    "lane",
    "ct",
    "court",
    "blvd",
    "boulevard",
    "bulevar",
    "way",
    "pl",
    "place",
    "ter",
    "terrace",
    "trace",
    "trce",
    "pkwy",
    "parkway",
    "hwy",
    "highway",
    "cir",
    "circle",
    "calle",
    "c",
    "privada",
    "priv",
    "andador",
    "calzada",
    "callejon",
    "cerrada",
    "circuito",
    "prolongacion",
    "loop",
    "sq",
    "square",
];

/// Directions, articles and unit markers dropped from an address's core.
const ADDRESS_NOISE: &[&str] = &[
    "n", "s", "e", "w", "ne", "nw", "se", "sw", "north", "south", "east", "west", "norte", "sur",
    "oriente", "poniente", "de", "del", "la", "las", "los", "el", "the", "no", "num", "numero",
    "number", "apt", "unit", "suite", "int", "ext",
];

/// US state and Mexican state codes that may prefix a plate ("IL DV 58213").
const REGION_CODES: &[&str] = &[
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID", "IL", "IN", "IA",
    "KS", "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ", "NM",
    "NY", "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VA", "WA",
    "WV", "WI", "WY",
];

/// Common nicknames, folded both ways when names are compared.
const NICKNAMES: &[(&str, &str)] = &[
    ("nate", "nathaniel"),
    ("nat", "nathaniel"),
    ("bob", "robert"),
    ("rob", "robert"),
    ("bill", "william"),
    ("will", "william"),
    ("liz", "elizabeth"),
    ("beth", "elizabeth"),
    ("mike", "michael"),
    ("jim", "james"),
    ("tom", "thomas"),
    ("dave", "david"),
    ("dan", "daniel"),
    ("chuy", "jesus"),
    ("pepe", "jose"),
    ("lupe", "guadalupe"),
    ("paco", "francisco"),
    ("pancho", "francisco"),
    ("memo", "guillermo"),
    ("lalo", "eduardo"),
    ("beto", "alberto"),
    ("toño", "antonio"),
    ("tono", "antonio"),
    ("nacho", "ignacio"),
    ("kate", "katherine"),
    ("katie", "katherine"),
];

/// Folded word tokens of a text (letters and digits), in order.
pub fn tokens(text: &str) -> Vec<String> {
    normalise(text).folded_words()
}

trait FoldedWords {
    fn folded_words(&self) -> Vec<String>;
}

impl FoldedWords for rampart_normalise::NormalisedText {
    fn folded_words(&self) -> Vec<String> {
        // The base view keeps digits as digits (house numbers); letters in
        // it are already de-confused and lower-cased.
        self.base
            .as_str()
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_string)
            .collect()
    }
}

/// A name word folded for comparison (the folded view: lower-case, accents,
/// homoglyphs and leetspeak off, repeated letters squeezed), with common
/// nicknames expanded.
pub fn name_token(word: &str) -> String {
    expand_nickname(fold_term(word))
}

/// Nicknames, folded once.
fn nickname_table() -> &'static std::collections::HashMap<String, String> {
    static TABLE: std::sync::OnceLock<std::collections::HashMap<String, String>> =
        std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        NICKNAMES
            .iter()
            .map(|(n, f)| (fold_term(n), fold_term(f)))
            .collect()
    })
}

fn expand_nickname(folded: String) -> String {
    nickname_table().get(&folded).cloned().unwrap_or(folded)
}

/// Name words of a text, folded (hyphenated names split into their parts).
pub fn name_tokens(text: &str) -> Vec<String> {
    name_tokens_of(&normalise(text))
}

/// Name words of an already normalised text (see [`name_tokens`]).
pub fn name_tokens_of(n: &rampart_normalise::NormalisedText) -> Vec<String> {
    n.folded
        .as_str()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.len() > 1)
        .map(|w| expand_nickname(w.to_string()))
        .collect()
}

/// Whether a token is an address house number.
pub fn is_house_number(t: &str) -> bool {
    (1..=6).contains(&t.len()) && t.bytes().all(|b| b.is_ascii_digit())
}

fn is_core_word(t: &str) -> bool {
    !STREET_TYPES.contains(&t)
        && !ADDRESS_NOISE.contains(&t)
        && !t.bytes().all(|b| b.is_ascii_digit())
}

/// The canonical key of a registered address: house number and the core
/// words of the street name (`4417 W Larkspur Ct, Berwyn` → `4417 larkspur`;
/// `Calle Roble 45, Col. ...` → `45 roble`), and the street alone
/// (`larkspur`) for partial matches.
pub fn address_keys(address: &str) -> Option<(String, String)> {
    let first_part = address.split(',').next().unwrap_or(address);
    let toks = tokens(first_part);
    let number = toks.iter().find(|t| is_house_number(t))?.clone();
    let core: Vec<&str> = toks
        .iter()
        .map(String::as_str)
        .filter(|t| is_core_word(t))
        .collect();
    if core.is_empty() {
        return None;
    }
    let street = core.join(" ");
    Some((format!("{number} {street}"), street))
}

/// Candidate address keys in a post's tokens: for every house number, the
/// core words that follow it and those that precede it, 1 to 3 words each.
pub fn address_candidates<T: AsRef<str>>(toks: &[T]) -> Vec<String> {
    let mut out = Vec::new();
    for_each_address_candidate(toks, &mut String::new(), |c| out.push(c.to_string()));
    out
}

/// Calls `f` with each candidate address key, built in `buf` (no
/// allocation per candidate).
pub fn for_each_address_candidate<T: AsRef<str>>(
    toks: &[T],
    buf: &mut String,
    mut f: impl FnMut(&str),
) {
    for (i, t) in toks.iter().enumerate() {
        let t = t.as_ref();
        if !is_house_number(t) {
            continue;
        }
        buf.clear();
        buf.push_str(t);
        let mut taken = 0;
        for w in toks[i + 1..]
            .iter()
            .take(6)
            .map(AsRef::as_ref)
            .take_while(|w| !is_house_number(w))
        {
            if taken == 3 {
                break;
            }
            if is_core_word(w) {
                buf.push(' ');
                buf.push_str(w);
                taken += 1;
                f(buf);
            }
        }
        // A number after its street ("Calle Roble 45") follows at most two
        // street words.
        let before: Vec<&str> = toks[..i]
            .iter()
            .rev()
            .take(5)
            .map(AsRef::as_ref)
            .take_while(|w| !is_house_number(w))
            .filter(|w| is_core_word(w))
            .take(2)
            .collect();
        for k in 1..=before.len() {
            buf.clear();
            buf.push_str(t);
            for w in before[..k].iter().rev() {
                buf.push(' ');
                buf.push_str(w);
            }
            f(buf);
        }
    }
}

/// A plate, upper-case without separators, with a leading region code
/// dropped when one is written apart (`IL DV 58213` → `DV58213`).
pub fn plate_key(plate: &str) -> String {
    let parts: Vec<&str> = plate
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|p| !p.is_empty())
        .collect();
    let parts: &[&str] = match parts.split_first() {
        Some((first, rest))
            if !rest.is_empty() && REGION_CODES.contains(&first.to_ascii_uppercase().as_str()) =>
        {
            rest
        }
        _ => &parts,
    };
    parts
        .iter()
        .flat_map(|p| p.chars())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// Candidate plates in a post's tokens: windows of one to three short
/// tokens whose joined form has 5 to 8 characters with a digit.
pub fn plate_candidates<T: AsRef<str>>(toks: &[T]) -> Vec<String> {
    let mut out = Vec::new();
    for_each_plate_candidate(toks, &mut String::new(), |c| out.push(c.to_string()));
    out
}

/// Calls `f` with each candidate plate, built in `buf`.
pub fn for_each_plate_candidate<T: AsRef<str>>(
    toks: &[T],
    buf: &mut String,
    mut f: impl FnMut(&str),
) {
    for i in 0..toks.len() {
        buf.clear();
        let mut digit = false;
        for t in toks[i..].iter().take(3).map(AsRef::as_ref) {
            if t.len() > 8 {
                break;
            }
            buf.extend(t.chars().map(|c| c.to_ascii_uppercase()));
            digit |= t.bytes().any(|b| b.is_ascii_digit());
            if buf.len() > 8 {
                break;
            }
            // Plates mix letters and digits; all-digit windows are numbers.
            if buf.len() >= 5 && digit && buf.bytes().any(|b| b.is_ascii_alphabetic()) {
                f(buf);
            }
        }
    }
}

/// Words after which a capitalised word may be a street name
/// ("on Larkspur", "where Larkspur is", "en Roble", "off Cerro Alto").
const STREET_CUES: &[&str] = &[
    "on", "off", "at", "near", "where", "to", "from", "lives", "live", "en", "por", "calle",
    "vive", "rumbo", "hacia", "sobre",
];

/// Capitalised words of a post (names and street names are written with a
/// capital), from the folded view, each with whether it follows a street
/// cue word. These are the only words worth a partial lookup.
pub fn capitalised_words<'a>(
    text: &str,
    n: &'a rampart_normalise::NormalisedText,
) -> Vec<(&'a str, bool)> {
    // Character indices of the capital letters: a handful per post.
    let caps: Vec<usize> = text
        .chars()
        .enumerate()
        .filter(|(_, c)| c.is_uppercase())
        .map(|(i, _)| i)
        .collect();
    if caps.is_empty() {
        return Vec::new();
    }
    let folded = n.folded.as_str();
    let mut out = Vec::new();
    let mut start = None;
    let mut previous = "";
    for (i, c) in folded
        .char_indices()
        .chain(std::iter::once((folded.len(), ' ')))
    {
        match (c.is_alphanumeric(), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                let word = &folded[s..i];
                let upper = n
                    .folded
                    .source_of(s)
                    .is_some_and(|at| caps.binary_search(&at).is_ok());
                if upper && word.len() > 1 {
                    out.push((word, STREET_CUES.contains(&previous)));
                }
                previous = word;
                start = None;
            }
            _ => {}
        }
    }
    out
}

/// Street-name candidates among the capitalised words: one or two words
/// starting right after a street cue.
pub fn for_each_cued_street(words: &[(&str, bool)], buf: &mut String, mut f: impl FnMut(&str)) {
    for (i, &(w, cued)) in words.iter().enumerate() {
        if !cued || !is_core_word(w) {
            continue;
        }
        buf.clear();
        buf.push_str(w);
        f(buf);
        if let Some(&(next, false)) = words.get(i + 1) {
            if is_core_word(next) {
                buf.push(' ');
                buf.push_str(next);
                f(buf);
            }
        }
    }
}

/// Word tokens of the base view with the original character index each
/// starts at.
pub fn word_slices_at(n: &rampart_normalise::NormalisedText) -> Vec<(&str, usize)> {
    let base = n.base.as_str();
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in base
        .char_indices()
        .chain(std::iter::once((base.len(), ' ')))
    {
        match (c.is_alphanumeric(), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                out.push((&base[s..i], n.base.source_of(s).unwrap_or(0)));
                start = None;
            }
            _ => {}
        }
    }
    out
}

/// The full name a folded nickname stands for, or the word itself.
pub fn expand_nickname_ref(folded: &str) -> &str {
    nickname_table()
        .get(folded)
        .map(String::as_str)
        .unwrap_or(folded)
}

/// The key of a US or Mexican phone number: its ten-digit national
/// number, however it is written (`(312) 555-0147`, `+1 312 555 0147`,
/// `+52 33 5555 0142`, `33 5555 0142`). Ten bare digits may be a US or a
/// Mexican number; keying both countries by the national number makes one
/// lookup serve both readings (a US and a Mexican number with the same ten
/// digits would collide: matching errs towards alerting). `None` when it is
/// not a possible US or Mexican number.
pub fn phone_key(raw: &str) -> Option<String> {
    let plus = raw.trim_start().starts_with('+');
    let digits: String = raw.chars().filter(|c| c.is_ascii_digit()).collect();
    let national = match (plus, digits.len()) {
        (_, 11) if digits.starts_with('1') => &digits[1..],
        (_, 12) if digits.starts_with("52") => &digits[2..],
        (false, 10) => &digits[..],
        _ => return None,
    };
    // NANP area codes and Mexican numbers never start with 0 or 1.
    if national.starts_with('0') || (national.starts_with('1') && !plus) {
        return None;
    }
    Some(national.to_string())
}

/// An e-mail, lower-cased, with `[at]`/`arroba` and `[dot]`/`punto` forms
/// written back.
pub fn email_key(raw: &str) -> String {
    rampart_detect::extract::canonical_email(raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_reduce_to_number_and_street() {
        assert_eq!(
            address_keys("4417 W Larkspur Ct, Berwyn, IL 60402")
                .unwrap()
                .0,
            "4417 larkspur"
        );
        assert_eq!(
            address_keys("Calle Roble 45, Col. Jardines del Bosque, 44520 Guadalajara")
                .unwrap()
                .0,
            "45 roble"
        );
        assert_eq!(
            address_keys("Blvd. de los Ríos 908, Col. Valle Verde")
                .unwrap()
                .0,
            "908 rios"
        );
        assert_eq!(
            address_keys("1183 NE Alder Crest Ln, Portland").unwrap(),
            ("1183 alder crest".into(), "alder crest".into())
        );
    }

    #[test]
    fn post_addresses_in_other_orders_produce_the_key() {
        for text in [
            "vive en Calle Roble #45, col. Jardines",
            "Roble 45.",
            "C. Roble No. 45",
            "calle roble 45",
        ] {
            let c = address_candidates(&tokens(text));
            assert!(c.contains(&"45 roble".to_string()), "{text}: {c:?}");
        }
        let c = address_candidates(&tokens("vive en Alder Crest Ln 1183. Que lo visiten"));
        assert!(c.contains(&"1183 alder crest".to_string()), "{c:?}");
    }

    #[test]
    fn plates_with_and_without_separators_and_region() {
        assert_eq!(plate_key("IL DV 58213"), "DV58213");
        assert_eq!(plate_key("JKS-482-B"), "JKS482B");
        assert_eq!(plate_key("OR 482 KTW"), "482KTW");
        assert!(plate_candidates(&tokens("plate DV 58213 parked")).contains(&"DV58213".to_string()));
        assert!(plate_candidates(&tokens("Placas JKS-482-B")).contains(&"JKS482B".to_string()));
    }

    #[test]
    fn phones_key_by_national_number() {
        for raw in [
            "(312) 555-0147",
            "312.555.0147",
            "+1 312 555 0147",
            "1-312-555-0147",
        ] {
            assert_eq!(phone_key(raw).as_deref(), Some("3125550147"), "{raw}");
        }
        assert_eq!(phone_key("+52 33 5555 0142").as_deref(), Some("3355550142"));
        assert_eq!(phone_key("33 5555 0142").as_deref(), Some("3355550142"));
        assert_eq!(phone_key("55-5555-0123").as_deref(), Some("5555550123"));
        assert_eq!(phone_key("12345"), None);
    }

    #[test]
    fn nicknames_fold() {
        assert_eq!(name_token("Nate"), fold_term("nathaniel"));
        assert_eq!(
            name_tokens("Nate Osei-Brandt"),
            name_tokens("Nathaniel Osei-Brandt")
        );
        assert_eq!(name_tokens("m3ndel's"), name_tokens("Mendel s"));
    }
}
