//! Extractors: money, phones, emails, street addresses, plates, times,
//! coordinates, handles and named people, each with a span in the original
//! text and, for identifiers, a canonical value (what the protected-person
//! registry hashes).
//!
//! Regexes run on the base view (digits and symbols kept, evasion undone);
//! names are read from the original text because capitalisation matters.

use std::sync::OnceLock;

use rampart_normalise::NormalisedText;
use regex::Regex;

use crate::numbers;

/// What an extracted entity is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntityKind {
    /// An amount of money or a payment channel.
    Money,
    /// A phone number (value: E.164).
    Phone,
    /// An e-mail address (value: lower-case, de-obfuscated).
    Email,
    /// A street address with a house number.
    Address,
    /// A street named without a number ("lives on Orchard Ln").
    StreetOnly,
    /// A vehicle licence plate (value: upper-case, no separators).
    Plate,
    /// A clock time ("7:10", "5pm", "a las 8").
    Time,
    /// Latitude/longitude.
    Coordinates,
    /// A social-media handle.
    Handle,
    /// A role followed by a name ("Officer Pratt", "la jueza Sandoval").
    NamedRole,
    /// A capitalised full name ("Travis Mendel").
    Name,
}

/// One extracted entity.
#[derive(Debug, Clone, PartialEq)]
pub struct Entity {
    /// What it is.
    pub kind: EntityKind,
    /// Character start in the original text.
    pub start: usize,
    /// Character end (exclusive) in the original text.
    pub end: usize,
    /// Canonical value where one makes sense (phones, plates, emails).
    pub value: String,
}

fn re(cell: &'static OnceLock<Regex>, pattern: &str) -> &'static Regex {
    cell.get_or_init(|| Regex::new(pattern).expect("built-in pattern compiles"))
}

macro_rules! pattern {
    ($name:ident, $pat:expr) => {
        fn $name() -> &'static Regex {
            static CELL: OnceLock<Regex> = OnceLock::new();
            re(&CELL, $pat)
        }
    };
}

pattern!(
    money_symbol,
    r"(?:us\$|mx\$|\$|usd ?|€|£)\s?\d(?:[\d,.]*\d)?(?:\s?(?:k|m|mil|grand|thousand|million|bands?|bandz|racks?))?(?-u:\b)|\$\$+"
);
pattern!(
    money_suffix,
    r"(?-u:\b)\d+(?:[.,]\d+)*\s?(?:(?:k|mil|thousand|grand|g)(?:\s(?:pesos|dolares|dollars|dls|dlls|usd|usdt|btc|verdes|varos|bucks|cash))?|bands?|bandz|racks?|stacks?|bucks|dollars|dolares|dls|dlls|usd|usdt|btc|pesos|verdes|varos)(?-u:\b)"
);
pattern!(phone_candidate, r"(?:\+\s?)?\(?\d[\d\s().\-]{8,17}\d");
pattern!(
    email,
    r"[a-z0-9][a-z0-9._%+\-]*(?:@|\s?\[at\]\s?|\s?\(at\)\s?|\s+arroba\s+)[a-z0-9\-]+(?:(?:\.|\s?\[dot\]\s?|\s?\(dot\)\s?|\s+punto\s+)[a-z0-9\-]+)*(?:\.|\s?\[dot\]\s?|\s?\(dot\)\s?|\s+punto\s+)[a-z]{2,}"
);
pattern!(
    us_address,
    r"(?-u:\b)\d{1,6}\s+(?:[nsew]\.?\s+|north\s|south\s|east\s|west\s)?(?:[a-z0-9']+\s+){0,3}?(?:st|street|ave|avenue|rd|road|dr|drive|ln|lane|ct|court|blvd|boulevard|way|pl|place|ter|terrace|trace|trce|crossing|xing|pkwy|parkway|hwy|highway|cir|circle|hollow|ridge|bend|point|pt|grove|trail|trl|loop|row|sq|square)(?-u:\b)\.?"
);
pattern!(
    mx_address,
    r"(?-u:\b)(?:calle|c\.|av\.?|avenida|blvd\.?|bulevar|boulevard|privada|priv\.|andador|calzada|callejon|prolongacion|circuito|cerrada)\s+(?:de\s+(?:la\s+|los\s+|las\s+)?)?[a-z][a-z .]{1,30}?\s*(?:#\s?|no\.?\s?|num\.?\s?|numero\s)?\d{1,5}(?-u:\b)"
);
pattern!(
    number_first_es,
    r"(?-u:\b)vive en el\s+\d{1,6}(?:[,\s]+(?:de\s+)?(?:la|el)?\s*[a-z]+)?"
);
pattern!(
    reversed_address,
    r"(?-u:\b)[a-z]+(?:\s[a-z]+){0,2}\s(?:st|ave|rd|dr|ln|ct|blvd|way|pl|ter)\.?\s\d{1,6}(?-u:\b)"
);
pattern!(
    street_only,
    r"(?-u:\b)(?:on|off|en|por)\s+(?:la\s+|el\s+|calle\s+)?(?:[a-z]+\s){0,2}?(?:st|street|ave|avenue|rd|road|dr|drive|ln|lane|ct|court|blvd|way|pl|place|ter|terrace|trace|calle\s+[a-z]+)(?-u:\b)|(?-u:\b)(?:calle|la calle)\s+[a-z]{3,}(?-u:\b)|(?-u:\b)[a-z]+\s(?:terrace|ter|ln|lane|ct|court|dr|drive|way|pl)(?-u:\b)"
);
pattern!(
    plate_keyword,
    r"(?-u:\b)(?:plates?|placas?|tags?|matricula)(?-u:\b)(?:\s*(?:number|es|son|is|#|:|de)?)?\s*(?:[a-z]{2}\s)?([a-z0-9]{1,4}[\s\-]?[a-z0-9]{2,5}(?:[\s\-][a-z0-9]{1,3})?)"
);
pattern!(
    plate_shape,
    r"(?-u:\b)(?:[a-z]{3}-\d{3}-[a-z]|[a-z]{3}[\s-]?\d{4}|[a-z]{2}\s?\d{5}|\d[a-z]{3}\d{3}|[a-z]{3}[\s-]\d{3})(?-u:\b)"
);
pattern!(
    time,
    r"(?-u:\b)\d{1,2}(?::\d{2})?\s?(?:am|pm|a\.m\.|p\.m\.)|(?-u:\b)\d{1,2}:\d{2}(?-u:\b)|(?-u:\b)a las \d{1,2}(?-u:\b)|(?-u:\b)(?:at|around|by|from)\s(?:0\d|1\d|2[0-3])[0-5]\d(?-u:\b)"
);
pattern!(coordinates, r"-?\d{1,2}\.\d{3,},\s*-?\d{1,3}\.\d{3,}");
pattern!(handle, r"(?:^|[^a-z0-9_])(@[a-z0-9_]{2,30})");
pattern!(
    named_role,
    r"(?i)(?-u:\b)(?:officer|ofc\.?|agent|deputy|sheriff|sgt\.?|sergeant|lt\.?|lieutenant|judge|justice|prosecutor|da|ausa|senator|sen\.|rep\.|councilman|councilwoman|councilmember|alderman|mayor|clerk|reporter|journalist|activist|teacher|supervisor|commander|trooper|marshal|agente|oficial|polic[ií]a|juez|jueza|fiscal|periodista|reportera|reportero|activista|diputada|diputado|senadora|senador|regidora|regidor|alcaldesa|alcalde|comandante|maestra|maestro|supervisora|migra)\s+(?:de\s+(?:ice|la\s+migra|migraci[oó]n)\s+|of\s+ice\s+|ice\s+|cbp\s+|bp\s+|us\s+marshal\s+)?(\p{Lu}[\p{L}'’\-]+(?:\s\p{Lu}[\p{L}'’\-]+){0,2})"
);
pattern!(
    numbered_proper_street,
    r"(?-u:\b)\d{2,6}\s+(?:(?:[NSEW]|[NS][EW])\.?\s+)?\p{Lu}[\p{Ll}]{2,}(?:\s\p{Lu}[\p{Ll}]{2,}){0,2}"
);
pattern!(
    proper_noun,
    r"[^.!?¿¡:\s]\s+(\p{Lu}[\p{Ll}]+(?:\s\p{Lu}[\p{Ll}]+)*)"
);
pattern!(
    full_name,
    r"(?:^|[^\p{L}\p{N}'’])(\p{Lu}[\p{Ll}'’]+(?:-\p{Lu}[\p{Ll}]+)?)(?:\s\p{Lu}\.)?\s(\p{Lu}[\p{Ll}'’]+(?:-\p{Lu}[\p{Ll}]+)?)"
);

/// Words that start capitalised pairs that are not people.
const NOT_NAMES: &[&str] = &[
    "The",
    "This",
    "That",
    "Here",
    "Here's",
    "There",
    "If",
    "When",
    "Just",
    "Saw",
    "La",
    "El",
    "Los",
    "Las",
    "Esta",
    "Este",
    "Ese",
    "Esa",
    "Se",
    "Ya",
    "Su",
    "Sus",
    "Al",
    "Del",
    "De",
    "Lo",
    "Le",
    "Que",
    "Si",
    "Por",
    "Para",
    "En",
    "Con",
    "Un",
    "Una",
    "Our",
    "We",
    "My",
    "Mi",
    "Federal",
    "Border",
    "Home",
    "Little",
    "County",
    "Police",
    "Crime",
    "Court",
    "State",
    "City",
    "New",
    "North",
    "South",
    "East",
    "West",
    "Calle",
    "Av",
    "Avenida",
    "Lake",
    "Grand",
    "Saturday",
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Red",
    "Blue",
    "Black",
    "White",
    "Channel",
    "Canal",
    "Noticias",
    "Patrulla",
    "Guardia",
    "Departamento",
    "Ciudad",
    "Col",
    "Fracc",
    "Privada",
];

/// Words after a house number that show it is not a street
/// ("50 Cent", "3 Doors"): units, money and time words.
const NOT_STREET_WORDS: &[&str] = &[
    "Pesos", "Dollars", "Thousand", "Mil", "Grand", "Days", "Years", "Hours", "Minutes", "Posts",
    "People", "Ballots", "Agents", "Officers", "Degrees", "Percent",
];

/// Every entity in the text.
pub fn extract(text: &str, norm: &NormalisedText) -> Vec<Entity> {
    let mut out = Vec::new();
    let base = norm.base.as_str();
    let has_digit = base.bytes().any(|b| b.is_ascii_digit());
    let push = |out: &mut Vec<Entity>, kind, s: usize, e: usize, value: String| {
        if let Some((start, end)) = norm.base.original_span(s, e) {
            out.push(Entity {
                kind,
                start,
                end,
                value,
            });
        }
    };
    if has_digit || base.contains('$') {
        for m in money_symbol().find_iter(base) {
            push(
                &mut out,
                EntityKind::Money,
                m.start(),
                m.end(),
                m.as_str().trim().to_string(),
            );
        }
        for m in money_suffix().find_iter(base) {
            push(
                &mut out,
                EntityKind::Money,
                m.start(),
                m.end(),
                m.as_str().to_string(),
            );
        }
    }
    for (s, e) in numbers::money_words(base) {
        push(&mut out, EntityKind::Money, s, e, base[s..e].to_string());
    }
    if has_digit {
        extract_phones(norm, &mut out);
        for m in us_address()
            .find_iter(base)
            .chain(mx_address().find_iter(base))
            .chain(number_first_es().find_iter(base))
        {
            push(
                &mut out,
                EntityKind::Address,
                m.start(),
                m.end(),
                m.as_str().to_string(),
            );
        }
        for m in reversed_address().find_iter(base) {
            push(
                &mut out,
                EntityKind::Address,
                m.start(),
                m.end(),
                m.as_str().to_string(),
            );
        }
        for c in plate_keyword().captures_iter(base) {
            let g = c.get(1).expect("group 1");
            let raw = g.as_str();
            let has_d = raw.bytes().any(|b| b.is_ascii_digit());
            let digits = raw.bytes().filter(|b| b.is_ascii_digit()).count();
            if has_d && digits >= 2 && raw.len() >= 5 {
                push(
                    &mut out,
                    EntityKind::Plate,
                    g.start(),
                    g.end(),
                    canonical_plate(raw),
                );
            }
        }
        for m in plate_shape().find_iter(base) {
            push(
                &mut out,
                EntityKind::Plate,
                m.start(),
                m.end(),
                canonical_plate(m.as_str()),
            );
        }
        for m in time().find_iter(base) {
            push(
                &mut out,
                EntityKind::Time,
                m.start(),
                m.end(),
                m.as_str().to_string(),
            );
        }
        for m in coordinates().find_iter(base) {
            push(
                &mut out,
                EntityKind::Coordinates,
                m.start(),
                m.end(),
                m.as_str().to_string(),
            );
        }
    }
    for (s, e) in numbers::spelled_phone(base) {
        let digits = numbers::digits_of_words(&base[s..e]);
        if let Some(e164) = canonical_phone(&digits) {
            push(&mut out, EntityKind::Phone, s, e, e164);
        }
    }
    if base.contains('@')
        || base.contains("[at]")
        || base.contains("arroba")
        || base.contains("(at)")
    {
        for m in email().find_iter(base) {
            push(
                &mut out,
                EntityKind::Email,
                m.start(),
                m.end(),
                canonical_email(m.as_str()),
            );
        }
        for c in handle().captures_iter(base) {
            let g = c.get(1).expect("group 1");
            if !out.iter().any(|e| e.kind == EntityKind::Email) {
                push(
                    &mut out,
                    EntityKind::Handle,
                    g.start(),
                    g.end(),
                    g.as_str().to_string(),
                );
            }
        }
    }
    for m in street_only().find_iter(base) {
        push(
            &mut out,
            EntityKind::StreetOnly,
            m.start(),
            m.end(),
            m.as_str().to_string(),
        );
    }
    extract_names(text, &mut out);
    out
}

fn extract_phones(norm: &NormalisedText, out: &mut Vec<Entity>) {
    let base = norm.base.as_str();
    for m in phone_candidate().find_iter(base) {
        let raw = m.as_str();
        let digits: String = raw.chars().filter(|c| c.is_ascii_digit()).collect();
        if !(10..=13).contains(&digits.len()) {
            continue;
        }
        let international = raw.trim_start().starts_with('+');
        if let Some(e164) = canonical_phone(&if international {
            format!("+{digits}")
        } else {
            digits
        }) {
            if let Some((start, end)) = norm.base.original_span(m.start(), m.end()) {
                out.push(Entity {
                    kind: EntityKind::Phone,
                    start,
                    end,
                    value: e164,
                });
            }
        }
    }
}

/// A phone number in E.164 form, trying US then Mexican numbering. Accepts
/// any punctuation; `None` when it is not a possible US or MX number.
pub fn canonical_phone(raw: &str) -> Option<String> {
    let digits: String = raw
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == '+')
        .collect();
    let bare: String = digits.chars().filter(|c| c.is_ascii_digit()).collect();
    let candidates: Vec<(Option<phonenumber::country::Id>, String)> = if digits.starts_with('+') {
        vec![(None, digits.clone())]
    } else if bare.len() == 10 {
        // Ten digits: a US number, or a Mexican one (MX numbers are also 10
        // digits). Prefer US unless the area code is not a valid NANP one.
        vec![
            (Some(phonenumber::country::Id::US), bare.clone()),
            (Some(phonenumber::country::Id::MX), bare.clone()),
        ]
    } else if bare.len() == 11 && bare.starts_with('1') {
        vec![(Some(phonenumber::country::Id::US), bare.clone())]
    } else if bare.len() == 12 && bare.starts_with("52") {
        vec![(None, format!("+{bare}"))]
    } else {
        return None;
    };
    for (region, number) in candidates {
        if let Ok(parsed) = phonenumber::parse(region, &number) {
            if phonenumber::is_viable(&number) || parsed.national().value() > 0 {
                let formatted = parsed.format().mode(phonenumber::Mode::E164).to_string();
                let d = formatted.trim_start_matches('+');
                if d.len() >= 11 && (d.starts_with('1') || d.starts_with("52")) {
                    return Some(formatted);
                }
            }
        }
    }
    None
}

/// Upper-case, no spaces or dashes: `JKS-482-B` → `JKS482B`.
pub fn canonical_plate(raw: &str) -> String {
    raw.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// Lower-case with `[at]`/`arroba` and `[dot]`/`punto` written back as `@`/`.`.
pub fn canonical_email(raw: &str) -> String {
    let s = raw.to_lowercase();
    let s = s
        .replace("[at]", "@")
        .replace("(at)", "@")
        .replace(" arroba ", "@");
    let s = s
        .replace("[dot]", ".")
        .replace("(dot)", ".")
        .replace(" punto ", ".");
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

fn extract_names(text: &str, out: &mut Vec<Entity>) {
    // Regexes over the original text give byte offsets; convert to chars.
    let to_char = |byte: usize| text[..byte].chars().count();
    let has_upper = text.chars().any(|c| c.is_uppercase());
    if !has_upper {
        return;
    }
    for c in named_role().captures_iter(text) {
        let m = c.get(0).expect("group 0");
        out.push(Entity {
            kind: EntityKind::NamedRole,
            start: to_char(m.start()),
            end: to_char(m.end()),
            value: c.get(1).map(|g| g.as_str().to_string()).unwrap_or_default(),
        });
    }
    for m in numbered_proper_street().find_iter(text) {
        // "2718 Desert Willow", "8823 Palo Blanco": a house number and a
        // proper name, the way people write an address they know.
        let words: Vec<&str> = m.as_str().split_whitespace().skip(1).collect();
        if words.iter().any(|w| NOT_STREET_WORDS.contains(w)) {
            continue;
        }
        out.push(Entity {
            kind: EntityKind::Address,
            start: to_char(m.start()),
            end: to_char(m.end()),
            value: m.as_str().to_string(),
        });
    }
    for c in full_name().captures_iter(text) {
        let first = c.get(1).expect("group 1").as_str();
        let first = first.trim_end_matches("'s").trim_end_matches("’s");
        if NOT_NAMES.contains(&first) {
            continue;
        }
        // The span runs from the first name to the last: group 0 may
        // include the character before the name.
        let (from, to) = (
            c.get(1).expect("group 1").start(),
            c.get(2).expect("group 2").end(),
        );
        out.push(Entity {
            kind: EntityKind::Name,
            start: to_char(from),
            end: to_char(to),
            value: text[from..to].to_string(),
        });
    }
}

/// Capitalised words or phrases mid-sentence (a name, a school, a place),
/// as character ranges of the original text. Only computed when a
/// detector needs it: it matches often.
pub fn proper_nouns(text: &str) -> Vec<(usize, usize)> {
    let to_char = |byte: usize| text[..byte].chars().count();
    proper_noun()
        .captures_iter(text)
        .filter_map(|c| c.get(1))
        .filter(|g| !NOT_NAMES.contains(&g.as_str()))
        .map(|g| (to_char(g.start()), to_char(g.end())))
        .collect()
}
