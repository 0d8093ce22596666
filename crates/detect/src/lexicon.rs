//! Lexicons: per-language word lists (data files under `lexicons/`) compiled
//! into one Aho-Corasick automaton over the folded view.
//!
//! Both languages are always matched: the `lang` hint is never used, so a
//! post's language can neither hide it nor raise its risk.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use rampart_normalise::{fold_term, NormalisedText};
use std::collections::BTreeMap;

/// The signal classes a lexicon entry can belong to. The names are the keys
/// of the lexicon TOML files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Class {
    /// A lethal act (kill, matar, dar piso).
    Lethal,
    /// A non-lethal attack or kidnapping (beat, levantar).
    Assault,
    /// Gathering a person's details or movements (address, placas).
    Info,
    /// A solicitation frame (whoever, al que, I'll pay).
    Solicit,
    /// A money word (grand, bands, lana, USDT).
    MoneyWord,
    /// Intent or call to act (I'm going to, vamos a).
    Intent,
    /// Veiled menace (watch her back, que se cuide).
    Menace,
    /// A request to watch or follow someone (spotters, vigilen).
    Surveil,
    /// A real-time location frame (just left, va rumbo).
    LiveLocation,
    /// A routine or schedule (every night, todos los días).
    Schedule,
    /// Personal-life context (lives at, su esposa, school).
    Personal,
    /// News or reported speech (says, según, charged).
    News,
    /// Official reward programmes (Crime Stoppers, information leading to).
    Official,
    /// Security bug bounties.
    BugBounty,
    /// Games, fiction, drama.
    GameFiction,
    /// Sports.
    Sports,
    /// Violent-sounding idioms (kill it, me muero de risa).
    Idiom,
    /// Condemnation of violence or doxxing.
    Condemn,
    /// Lost property, lost pets, missing people.
    LostFound,
    /// A business's or office's own contact details.
    Business,
    /// A role that names a person at risk (agent, juez, periodista).
    Targets,
    /// A pronoun that can point at a person.
    Pronoun,
    /// A vehicle.
    Vehicle,
    /// A family member (wife, hija).
    Family,
    /// A question or request put to the crowd (anyone know, alguien sabe).
    Ask,
    /// A person's private details as such (where she lives, su domicilio,
    /// his plate): what an unpaid request for details asks for.
    Private,
}

impl Class {
    /// Every class with its key in the lexicon files.
    pub const ALL: [(Class, &'static str); 26] = [
        (Class::Lethal, "lethal"),
        (Class::Assault, "assault"),
        (Class::Info, "info"),
        (Class::Solicit, "solicit"),
        (Class::MoneyWord, "money_word"),
        (Class::Intent, "intent"),
        (Class::Menace, "menace"),
        (Class::Surveil, "surveil"),
        (Class::LiveLocation, "live_location"),
        (Class::Schedule, "schedule"),
        (Class::Personal, "personal"),
        (Class::News, "news"),
        (Class::Official, "official"),
        (Class::BugBounty, "bug_bounty"),
        (Class::GameFiction, "game_fiction"),
        (Class::Sports, "sports"),
        (Class::Idiom, "idiom"),
        (Class::Condemn, "condemn"),
        (Class::LostFound, "lost_found"),
        (Class::Business, "business"),
        (Class::Targets, "targets"),
        (Class::Pronoun, "pronoun"),
        (Class::Vehicle, "vehicle"),
        (Class::Family, "family"),
        (Class::Ask, "ask"),
        (Class::Private, "private"),
    ];

    /// The key used in lexicon files and rule ids.
    pub fn key(self) -> &'static str {
        Class::ALL
            .iter()
            .find(|(c, _)| *c == self)
            .map(|(_, k)| *k)
            .unwrap_or("?")
    }
}

/// The lexicon files shipped with rampart, by language.
pub const BUILTIN: [(&str, &str); 2] = [
    ("en", include_str!("../../../lexicons/en.toml")),
    ("es", include_str!("../../../lexicons/es.toml")),
];

/// Errors loading a lexicon.
#[derive(Debug, thiserror::Error)]
pub enum LexiconError {
    /// The TOML did not parse.
    #[error("lexicon {lang}: {source}")]
    Toml {
        /// Language of the file.
        lang: String,
        /// Parser error (names the line).
        source: toml::de::Error,
    },
    /// A key that is not a known class.
    #[error("lexicon {lang}: unknown class `{key}`")]
    UnknownClass {
        /// Language of the file.
        lang: String,
        /// The key.
        key: String,
    },
    /// The automaton could not be built.
    #[error("lexicon automaton: {0}")]
    Build(String),
}

/// One source entry, as written in a lexicon file.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Language of the file it came from.
    pub lang: String,
    /// Its class.
    pub class: Class,
    /// The term as written.
    pub term: String,
}

#[derive(Debug, Clone)]
struct Pattern {
    prefix: bool,
    classes: Vec<Class>,
}

/// A lexicon match in the folded view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    /// Its class.
    pub class: Class,
    /// Byte start in the folded view.
    pub start: usize,
    /// Byte end in the folded view.
    pub end: usize,
}

/// All lexicons compiled into one matcher.
pub struct Lexicon {
    automaton: AhoCorasick,
    patterns: Vec<Pattern>,
    entries: Vec<Entry>,
}

impl Lexicon {
    /// The lexicons shipped with rampart.
    pub fn builtin() -> Result<Self, LexiconError> {
        Self::from_sources(&BUILTIN)
    }

    /// Compiles lexicons given as `(lang, toml)` pairs.
    pub fn from_sources(sources: &[(&str, &str)]) -> Result<Self, LexiconError> {
        let mut entries = Vec::new();
        for (lang, src) in sources {
            let table: BTreeMap<String, Vec<String>> =
                toml::from_str(src).map_err(|source| LexiconError::Toml {
                    lang: lang.to_string(),
                    source,
                })?;
            for (key, terms) in table {
                let class = Class::ALL
                    .iter()
                    .find(|(_, k)| *k == key)
                    .map(|(c, _)| *c)
                    .ok_or_else(|| LexiconError::UnknownClass {
                        lang: lang.to_string(),
                        key: key.clone(),
                    })?;
                for term in terms {
                    entries.push(Entry {
                        lang: lang.to_string(),
                        class,
                        term,
                    });
                }
            }
        }
        let mut index: BTreeMap<(String, bool), Vec<Class>> = BTreeMap::new();
        for e in &entries {
            let (raw, prefix) = match e.term.strip_suffix('*') {
                Some(stem) => (stem, true),
                None => (e.term.as_str(), false),
            };
            let folded = fold_term(raw.trim());
            if folded.is_empty() {
                continue;
            }
            let classes = index.entry((folded, prefix)).or_default();
            if !classes.contains(&e.class) {
                classes.push(e.class);
            }
        }
        let mut keys = Vec::with_capacity(index.len());
        let mut patterns = Vec::with_capacity(index.len());
        for ((term, prefix), classes) in index {
            keys.push(term);
            patterns.push(Pattern { prefix, classes });
        }
        let automaton = AhoCorasickBuilder::new()
            .match_kind(MatchKind::Standard)
            .build(&keys)
            .map_err(|e| LexiconError::Build(e.to_string()))?;
        Ok(Lexicon {
            automaton,
            patterns,
            entries,
        })
    }

    /// Every entry, for tests and documentation.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// All whole-word matches of every class in the folded view.
    pub fn scan(&self, text: &NormalisedText) -> Vec<Hit> {
        let hay = text.folded.as_str();
        let bytes = hay.as_bytes();
        let mut hits = Vec::new();
        for m in self.automaton.find_overlapping_iter(hay) {
            let p = &self.patterns[m.pattern().as_usize()];
            let (s, e) = (m.start(), m.end());
            // Inside letters written apart (`a m a t a r`) word boundaries
            // are unknown, so a match there needs none.
            // Only a one-letter word at the run's edge may be glued on:
            // `a m a t a r` is "a matar", `l e v a n t e a` is "levante a".
            let split = |i: usize| text.folded.in_split_run(i);
            let glue = |b: u8| matches!(b, b'a' | b'y' | b'o' | b'e' | b'i');
            let split_before = s > 0
                && split(s - 1)
                && split(s)
                && (s == 1 || !split(s - 2))
                && glue(bytes[s - 1]);
            let split_after = e < bytes.len()
                && split(e)
                && split(e - 1)
                && (e + 1 >= bytes.len() || !split(e + 1))
                && glue(bytes[e]);
            if s > 0
                && !split_before
                && is_word_byte(hay, s - 1, true)
                && starts_with_word(bytes, s)
            {
                continue;
            }
            if !p.prefix
                && e < bytes.len()
                && !split_after
                && is_word_byte(hay, e, false)
                && ends_with_word(bytes, e)
            {
                continue;
            }
            for &class in &p.classes {
                hits.push(Hit {
                    class,
                    start: s,
                    end: e,
                });
            }
        }
        hits
    }
}

fn starts_with_word(bytes: &[u8], at: usize) -> bool {
    bytes[at].is_ascii_alphanumeric() || bytes[at] >= 0x80
}

fn ends_with_word(bytes: &[u8], end: usize) -> bool {
    end > 0 && (bytes[end - 1].is_ascii_alphanumeric() || bytes[end - 1] >= 0x80)
}

/// Whether the character around byte `at` is a word character. Non-ASCII
/// letters count as word characters; emoji and punctuation do not.
fn is_word_byte(hay: &str, at: usize, backwards: bool) -> bool {
    let b = hay.as_bytes()[at];
    if b.is_ascii() {
        return b.is_ascii_alphanumeric() || b == b'\'';
    }
    // `at + 1` (backwards) and `at` (forwards) are character boundaries:
    // they are a match's start and end.
    let c = if backwards {
        hay.get(..at + 1).and_then(|p| p.chars().next_back())
    } else {
        hay.get(at..).and_then(|p| p.chars().next())
    };
    c.is_some_and(|c| c.is_alphanumeric())
}
