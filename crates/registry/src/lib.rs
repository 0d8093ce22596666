//! The protected-person registry: people who opted in, held only as keyed
//! hashes (HMAC-SHA256) of canonical identifiers, matched against posts.
//!
//! A registry is built from the plaintext import file (contract section 4)
//! and keeps no plaintext: every identifier is put in canonical form
//! ([`canonical`]), hashed with the secret key and the plaintext dropped.
//! Matching puts candidate spans of a post in the same canonical forms,
//! hashes them with the same key and looks them up, so `(312) 555-0147`
//! in the registry matches `312.555.0147` in a post.
//!
//! Full matches (home address with number, phone, plate, e-mail) are
//! exposures. Partial matches (a street without its number, a family
//! member's first name with the family's surname) only count when
//! corroborated, and lead to review, not removal. A name alone never
//! matches: naming a person is not exposing them.

pub mod canonical;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use hmac::{Hmac, Mac};
use rampart_detect::{Category, Detection, EntityKind};
use serde::Deserialize;
use sha2::Sha256;

/// A partial fact (street name, first name, surname) held by more people
/// than this is too common to identify anyone and is not matched.
pub const PARTIAL_FACT_MAX_PEOPLE: usize = 64;

/// Environment variable holding the registry key.
pub const KEY_ENV: &str = "RAMPART_REGISTRY_KEY";

/// Errors building or loading a registry.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// No key was given.
    #[error("no registry key: set {KEY_ENV} or pass --key-file PATH (a file readable only by its owner, mode 0600)")]
    MissingKey,
    /// The key is too short to be a secret.
    #[error("registry key is {0} bytes; at least 16 are required")]
    WeakKey(usize),
    /// The key file is readable by others.
    #[error("key file {path} has mode {mode:o}; it must be 0600 (readable only by its owner)")]
    KeyFileMode {
        /// The file.
        path: String,
        /// Its permission bits.
        mode: u32,
    },
    /// A file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The reason.
        source: std::io::Error,
    },
    /// The persons file is not valid (contract section 4).
    #[error("{path}: not a valid protected-persons file: {reason}")]
    Invalid {
        /// The file.
        path: String,
        /// The reason.
        reason: String,
    },
}

/// The secret HMAC key. Never printed: `Debug` shows only its length.
#[derive(Clone)]
pub struct RegistryKey {
    len: usize,
    /// HMAC state with the key already absorbed: cloning it is far cheaper
    /// than keying a new HMAC for every candidate.
    prepared: Hmac<Sha256>,
}

impl std::fmt::Debug for RegistryKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RegistryKey({} bytes)", self.len)
    }
}

impl RegistryKey {
    /// A key from raw bytes (at least 16).
    pub fn new(bytes: impl Into<Vec<u8>>) -> Result<Self, RegistryError> {
        let bytes = bytes.into();
        if bytes.len() < 16 {
            return Err(RegistryError::WeakKey(bytes.len()));
        }
        let prepared =
            <Hmac<Sha256> as Mac>::new_from_slice(&bytes).expect("HMAC takes any key length");
        Ok(RegistryKey {
            len: bytes.len(),
            prepared,
        })
    }

    /// The key from `--key-file` if given, else from [`KEY_ENV`].
    pub fn load(key_file: Option<&Path>) -> Result<Self, RegistryError> {
        match key_file {
            Some(path) => Self::from_file(path),
            None => match std::env::var(KEY_ENV) {
                Ok(v) if !v.is_empty() => Self::new(v.into_bytes()),
                _ => Err(RegistryError::MissingKey),
            },
        }
    }

    /// Reads a key file, refusing one that others can read.
    pub fn from_file(path: &Path) -> Result<Self, RegistryError> {
        let io = |source| RegistryError::Io {
            path: path.display().to_string(),
            source,
        };
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(path).map_err(io)?.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                return Err(RegistryError::KeyFileMode {
                    path: path.display().to_string(),
                    mode,
                });
            }
        }
        let raw = std::fs::read(path).map_err(io)?;
        let trimmed = raw.strip_suffix(b"\n").unwrap_or(&raw);
        Self::new(trimmed.to_vec())
    }

    /// A fingerprint that identifies the key without revealing it: the HMAC
    /// of a fixed label. Stored beside the hashes so a wrong key is refused.
    pub fn fingerprint(&self) -> [u8; 32] {
        self.hash("rampart-key-check", "v1")
    }

    /// HMAC-SHA256 of a canonical value, domain-separated by field.
    pub fn hash(&self, field: &str, value: &str) -> [u8; 32] {
        let mut mac = self.prepared.clone();
        mac.update(field.as_bytes());
        mac.update(&[0]);
        mac.update(value.as_bytes());
        mac.finalize().into_bytes().into()
    }
}

/// One person in the import file (contract section 4). Plaintext: held
/// only while the registry is built.
#[derive(Debug, Clone, Deserialize, Default)]
pub struct PersonRecord {
    /// Registry id.
    pub person_id: String,
    /// Names the person goes by.
    #[serde(default)]
    pub names: Vec<String>,
    /// Home addresses.
    #[serde(default)]
    pub home_addresses: Vec<String>,
    /// Phone numbers.
    #[serde(default)]
    pub phones: Vec<String>,
    /// Licence plates.
    #[serde(default)]
    pub plates: Vec<String>,
    /// E-mail addresses.
    #[serde(default)]
    pub emails: Vec<String>,
    /// Family members' names.
    #[serde(default)]
    pub family_names: Vec<String>,
}

impl PersonRecord {
    /// Which fields the person registered, with how many values each
    /// (never the values): what `registry list` shows.
    pub fn field_counts(&self) -> BTreeMap<&'static str, usize> {
        [
            ("names", self.names.len()),
            ("home_addresses", self.home_addresses.len()),
            ("phones", self.phones.len()),
            ("plates", self.plates.len()),
            ("emails", self.emails.len()),
            ("family_names", self.family_names.len()),
        ]
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .collect()
    }
}

/// Reads a persons file (contract section 4).
pub fn read_persons(path: &Path) -> Result<Vec<PersonRecord>, RegistryError> {
    let raw = std::fs::read_to_string(path).map_err(|source| RegistryError::Io {
        path: path.display().to_string(),
        source,
    })?;
    let people: Vec<PersonRecord> =
        serde_json::from_str(&raw).map_err(|e| RegistryError::Invalid {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
    let mut seen = BTreeSet::new();
    for p in &people {
        if p.person_id.is_empty() || !seen.insert(p.person_id.clone()) {
            return Err(RegistryError::Invalid {
                path: path.display().to_string(),
                reason: format!("person_id {:?} is empty or repeated", p.person_id),
            });
        }
    }
    Ok(people)
}

/// What kind of fact a hash stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    /// House number and street: a full address.
    HomeAddress,
    /// The street without a number (partial).
    HomeStreet,
    /// A phone number.
    Phone,
    /// A plate.
    Plate,
    /// An e-mail.
    Email,
    /// A family member's first name (partial, needs a surname too).
    FamilyFirstName,
    /// A surname of the person or their family (corroboration only).
    Surname,
}

impl Field {
    /// Domain-separation label for hashing.
    pub fn label(self) -> &'static str {
        match self {
            // One label for both, so a word of a post is hashed once and the
            // posting says which it is.
            Field::FamilyFirstName | Field::Surname => "name_word",
            other => other.name(),
        }
    }

    /// Every field.
    pub const ALL: [Field; 7] = [
        Field::HomeAddress,
        Field::HomeStreet,
        Field::Phone,
        Field::Plate,
        Field::Email,
        Field::FamilyFirstName,
        Field::Surname,
    ];

    /// Stable name, as stored.
    pub fn name(self) -> &'static str {
        match self {
            Field::HomeAddress => "home_address",
            Field::HomeStreet => "home_street",
            Field::Phone => "phone",
            Field::Plate => "plate",
            Field::Email => "email",
            Field::FamilyFirstName => "family_first_name",
            Field::Surname => "surname",
        }
    }

    /// The field a stored name stands for.
    pub fn from_name(name: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|f| f.name() == name)
    }

    /// A full identifier (an exposure by itself).
    pub fn is_full(self) -> bool {
        matches!(
            self,
            Field::HomeAddress | Field::Phone | Field::Plate | Field::Email
        )
    }
}

/// One hashed fact: the hash, the person and the field. This is what a
/// store persists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HashedFact {
    /// HMAC of the canonical value.
    pub hash: [u8; 32],
    /// Person id.
    pub person_id: String,
    /// Field.
    pub field: Field,
}

/// Hashes one person's facts. Only hashes come out.
pub fn hash_person(key: &RegistryKey, p: &PersonRecord) -> Vec<HashedFact> {
    let mut facts = BTreeMap::new();
    let mut add = |field: Field, value: String| {
        if !value.is_empty() {
            facts.insert((key.hash(field.label(), &value), field), ());
        }
    };
    for a in &p.home_addresses {
        if let Some((full, street)) = canonical::address_keys(a) {
            add(Field::HomeAddress, full);
            add(Field::HomeStreet, street);
        }
    }
    for ph in &p.phones {
        if let Some(k) = canonical::phone_key(ph) {
            add(Field::Phone, k);
        }
    }
    for pl in &p.plates {
        add(Field::Plate, canonical::plate_key(pl));
    }
    for e in &p.emails {
        add(Field::Email, canonical::email_key(e));
    }
    for n in &p.names {
        // Surnames: every word of a name but the first.
        for t in canonical::name_tokens(n).into_iter().skip(1) {
            add(Field::Surname, t);
        }
    }
    for f in &p.family_names {
        let toks = canonical::name_tokens(f);
        if let Some(first) = toks.first() {
            add(Field::FamilyFirstName, first.clone());
        }
        for t in toks.into_iter().skip(1) {
            add(Field::Surname, t);
        }
    }
    facts
        .into_keys()
        .map(|(hash, field)| HashedFact {
            hash,
            person_id: p.person_id.clone(),
            field,
        })
        .collect()
}

/// A registry match in a post: the person and the fields, never values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryMatch {
    /// Person id.
    pub person_id: String,
    /// Fields matched, by their contract names (`home_address`, `phone`,
    /// `plate`, `email`, `family_names`, `home_street`).
    pub fields: Vec<String>,
    /// Whether only partial facts matched.
    pub partial: bool,
}

/// The in-memory registry: hashes only.
pub struct ProtectedRegistry {
    key: RegistryKey,
    /// Hash → range of `postings`. Keys are already uniformly random (HMAC
    /// output), so the table hashes them by their first eight bytes.
    index: HashMap<[u8; 32], (u32, u32), std::hash::BuildHasherDefault<PrefixHasher>>,
    /// (person, field) pairs, grouped by hash: one flat allocation instead
    /// of a vector per fact, which fragments the heap at 100,000 people.
    postings: Vec<(u32, Field)>,
    ids: Vec<String>,
}

impl ProtectedRegistry {
    /// Builds a registry from plaintext records; the plaintext is not kept.
    pub fn build(key: RegistryKey, people: &[PersonRecord]) -> Self {
        let facts: Vec<HashedFact> = people.iter().flat_map(|p| hash_person(&key, p)).collect();
        Self::from_facts(key, facts)
    }

    /// Builds a registry from stored hashes.
    pub fn from_facts(key: RegistryKey, facts: impl IntoIterator<Item = HashedFact>) -> Self {
        let mut ids: Vec<String> = Vec::new();
        let mut id_index: HashMap<String, u32> = HashMap::new();
        let mut flat = Vec::new();
        for f in facts {
            let idx = *id_index.entry(f.person_id.clone()).or_insert_with(|| {
                ids.push(f.person_id.clone());
                (ids.len() - 1) as u32
            });
            flat.push((f.hash, idx, f.field));
        }
        flat.sort_unstable();
        flat.dedup();
        let mut index: HashMap<[u8; 32], (u32, u32), _> = HashMap::default();
        let mut postings = Vec::with_capacity(flat.len());
        for (hash, person, field) in flat {
            let at = postings.len() as u32;
            let entry = index.entry(hash).or_insert((at, 0));
            entry.1 += 1;
            postings.push((person, field));
        }
        index.shrink_to_fit();
        ProtectedRegistry {
            key,
            index,
            postings,
            ids,
        }
    }
}

/// Hashes a key that is already a cryptographic hash by taking its first
/// eight bytes.
#[derive(Default)]
pub struct PrefixHasher(u64);

impl std::hash::Hasher for PrefixHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // `[u8; 32]` hashes as its bytes (the length prefix of slices is not
        // written for arrays); fold whatever arrives.
        for chunk in bytes.chunks(8) {
            let mut buf = [0u8; 8];
            buf[..chunk.len()].copy_from_slice(chunk);
            self.0 = self.0.rotate_left(5) ^ u64::from_le_bytes(buf);
        }
    }
}

impl ProtectedRegistry {
    /// People in the registry.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether the registry is empty.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Bytes held by the hashed facts and ids, roughly.
    pub fn memory_bytes(&self) -> usize {
        self.index.capacity() * (32 + 8 + 8)
            + self.postings.capacity() * std::mem::size_of::<(u32, Field)>()
            + self.ids.iter().map(|s| s.capacity() + 24).sum::<usize>()
    }

    fn lookup(&self, field: Field, value: &str, hits: &mut BTreeMap<u32, BTreeSet<Field>>) {
        let Some(&(at, len)) = self.index.get(&self.key.hash(field.label(), value)) else {
            return;
        };
        let list = &self.postings[at as usize..(at + len) as usize];
        // A partial fact shared by many people (a common first name, a
        // common street name) identifies nobody: skip it. This also bounds
        // the cost of a lookup in a large registry.
        if !field.is_full() && list.len() > PARTIAL_FACT_MAX_PEOPLE {
            return;
        }
        for &(person, f) in list {
            if f == field || (field == Field::Surname && f == Field::FamilyFirstName) {
                hits.entry(person).or_default().insert(f);
            }
        }
    }

    /// The protected people a post exposes. `detection` is the post's
    /// detection: its extracted phones and e-mails are reused, and partial
    /// facts are only looked at when it found harm.
    pub fn matches(&self, text: &str, detection: &Detection) -> Vec<RegistryMatch> {
        if self.is_empty() {
            return Vec::new();
        }
        let mut hits: BTreeMap<u32, BTreeSet<Field>> = BTreeMap::new();
        for e in &detection.entities {
            match e.kind {
                EntityKind::Phone => {
                    // The extractor's E.164 value reads spelled-out digits too.
                    if let Some(k) = canonical::phone_key(&e.value) {
                        self.lookup(Field::Phone, &k, &mut hits);
                    }
                }
                EntityKind::Email => self.lookup(Field::Email, &e.value, &mut hits),
                _ => {}
            }
        }
        let has_digit = text.bytes().any(|b| b.is_ascii_digit());
        let harm = !detection.labels.is_empty();
        let has = |k: EntityKind| detection.entities.iter().any(|e| e.kind == k);
        // Addresses and plates are looked for where the extractors saw one,
        // or where the post carries harm (where a leak matters most and may
        // be written in a form no extractor knows).
        let want_address =
            has_digit && (harm || has(EntityKind::Address) || has(EntityKind::StreetOnly));
        let want_plate = has_digit && (harm || has(EntityKind::Plate));
        let norm = &detection.norm;
        let mut buf = String::with_capacity(64);
        if want_address || want_plate {
            // Numbers that are part of a phone, an amount or a time are not
            // house numbers or plates: leave them out, which also keeps the
            // number of hashes per post small.
            let taken: Vec<(usize, usize)> = detection
                .entities
                .iter()
                .filter(|e| {
                    matches!(
                        e.kind,
                        EntityKind::Phone
                            | EntityKind::Money
                            | EntityKind::Time
                            | EntityKind::Email
                    )
                })
                .map(|e| (e.start, e.end))
                .collect();
            let toks: Vec<&str> = canonical::word_slices_at(norm)
                .into_iter()
                .filter(|(_, at)| !taken.iter().any(|&(s, e)| *at >= s && *at < e))
                .map(|(w, _)| w)
                .collect();
            if want_address {
                canonical::for_each_address_candidate(&toks, &mut buf, |c| {
                    self.lookup(Field::HomeAddress, c, &mut hits)
                });
            }
            if want_plate {
                canonical::for_each_plate_candidate(&toks, &mut buf, |c| {
                    self.lookup(Field::Plate, c, &mut hits)
                });
            }
        }
        // Partial facts (a street, a family member's name) are exposure only
        // in a post that exposes someone: one with doxxing or surveillance
        // findings. They are looked up only for words written with a
        // capital (names, street names): a handful per post.
        let exposing = detection.labels.iter().any(|l| {
            matches!(
                l.category,
                Category::Doxxing | Category::TargetedSurveillance
            )
        });
        if exposing {
            let words = canonical::capitalised_words(text, norm);
            canonical::for_each_cued_street(&words, &mut buf, |c| {
                self.lookup(Field::HomeStreet, c, &mut hits)
            });
            for &(t, _) in &words {
                // One hash finds first names and surnames alike.
                self.lookup(Field::Surname, canonical::expand_nickname_ref(t), &mut hits);
            }
        }
        let mut out = Vec::new();
        for (person, fields) in hits {
            let full: Vec<Field> = fields.iter().copied().filter(|f| f.is_full()).collect();
            let surname = fields.contains(&Field::Surname);
            let family = fields.contains(&Field::FamilyFirstName) && surname;
            let street =
                fields.contains(&Field::HomeStreet) && (surname || family || !full.is_empty());
            if full.is_empty() && !family && !street {
                continue;
            }
            let mut names: Vec<String> = full.iter().map(|f| f.label().to_string()).collect();
            if family {
                names.push("family_names".into());
            }
            if street && !full.contains(&Field::HomeAddress) {
                names.push("home_street".into());
            }
            out.push(RegistryMatch {
                person_id: self.ids[person as usize].clone(),
                fields: names,
                partial: full.is_empty(),
            });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rampart_detect::Detector;

    fn person() -> PersonRecord {
        PersonRecord {
            person_id: "pp-x".into(),
            names: vec!["Travis Mendel".into()],
            home_addresses: vec!["4417 W Larkspur Ct, Berwyn, IL 60402".into()],
            phones: vec!["(312) 555-0147".into()],
            plates: vec!["IL DV 58213".into()],
            emails: vec!["tmendel.home@example.com".into()],
            family_names: vec!["Renee Mendel".into()],
        }
    }

    fn key(s: &str) -> RegistryKey {
        RegistryKey::new(s.as_bytes().to_vec()).unwrap()
    }

    fn matches(reg: &ProtectedRegistry, text: &str) -> Vec<RegistryMatch> {
        let d = Detector::new().unwrap().detect(text);
        reg.matches(text, &d)
    }

    #[test]
    fn reformatted_identifiers_match() {
        let reg = ProtectedRegistry::build(key("0123456789abcdef-test"), &[person()]);
        for (text, field) in [
            ("call 312.555.0147 tonight", "phone"),
            ("his cell +1 312 555 0147", "phone"),
            ("plate DV58213 parked outside", "plate"),
            ("he lives at 4417 Larkspur, go", "home_address"),
            ("mail TMendel.Home [at] example [dot] com", "email"),
        ] {
            let m = matches(&reg, text);
            assert_eq!(m.len(), 1, "{text}");
            assert_eq!(m[0].fields, vec![field.to_string()], "{text}");
            assert!(!m[0].partial);
        }
    }

    #[test]
    fn names_alone_never_match_and_partials_need_corroboration() {
        let reg = ProtectedRegistry::build(key("0123456789abcdef-test"), &[person()]);
        assert!(matches(&reg, "Officer Travis Mendel testified in court today.").is_empty());
        assert!(matches(&reg, "I'm going to kill whoever lives on Larkspur").is_empty());
        let m = matches(
            &reg,
            "Mendel's wife Renee better watch her back. We know where Larkspur is.",
        );
        assert_eq!(m.len(), 1);
        assert!(m[0].partial);
        assert!(m[0].fields.contains(&"family_names".to_string()));
    }

    #[test]
    fn another_key_does_not_match() {
        let reg = ProtectedRegistry::build(key("0123456789abcdef-test"), &[person()]);
        let facts: Vec<HashedFact> = hash_person(&key("another-key-0123456789"), &person());
        let other = ProtectedRegistry::from_facts(key("0123456789abcdef-test"), facts);
        assert!(!matches(&reg, "call 312.555.0147").is_empty());
        assert!(matches(&other, "call 312.555.0147").is_empty());
    }

    #[test]
    fn weak_or_exposed_keys_are_refused() {
        assert!(matches!(
            RegistryKey::new(b"short".to_vec()),
            Err(RegistryError::WeakKey(5))
        ));
        let dir = std::env::temp_dir().join(format!("rampart-key-{}", std::process::id()));
        std::fs::write(&dir, "0123456789abcdef0123").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o644)).unwrap();
            assert!(matches!(
                RegistryKey::from_file(&dir),
                Err(RegistryError::KeyFileMode { .. })
            ));
            std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o600)).unwrap();
            assert!(RegistryKey::from_file(&dir).is_ok());
        }
        std::fs::remove_file(&dir).ok();
        assert!(!format!("{:?}", key("0123456789abcdef-test")).contains("0123"));
    }
}
