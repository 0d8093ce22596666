//! Campaign detection: many accounts, one target.
//!
//! Each harmful post (one the policy did not allow) is reduced to *link
//! keys*: the people it names (capitalised names, named roles, protected
//! person ids), the identifiers it exposes (plates, phones, e-mails,
//! addresses) and its group. Posts that share a key within a time window
//! are joined (union-find); a component with at least three posts from at
//! least two accounts is a campaign, reported again each time it grows.
//!
//! Reposts with small edits that name no one link through near-duplicate
//! text keys ([`near_dup`]). A capitalised word that is common across the whole
//! stream (seen in more than 1% of a sample of all posts) stops being a
//! name key, so a popular word cannot merge unrelated campaigns.
//!
//! Only harmful posts are ever members, so coordinated lawful posts (a
//! shared protest flyer, a news story) can never form a harmful campaign.
//! Event time (`created_at`) drives the window, not arrival time.

pub mod near_dup;

use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Duration, FixedOffset};
use rampart_detect::{Entity, EntityKind};
use serde::{Deserialize, Serialize};

/// Tuning of the detector.
#[derive(Debug, Clone)]
pub struct CampaignConfig {
    /// Posts further apart than this do not link.
    pub window: Duration,
    /// Smallest campaign, in posts.
    pub min_posts: usize,
    /// Smallest campaign, in accounts.
    pub min_accounts: usize,
    /// How late (in event time) a post may arrive and still link.
    pub lateness: Duration,
}

impl Default for CampaignConfig {
    fn default() -> Self {
        CampaignConfig {
            window: Duration::hours(3),
            min_posts: 3,
            min_accounts: 2,
            lateness: Duration::minutes(30),
        }
    }
}

/// What the detector needs to know about one post.
#[derive(Debug, Clone)]
pub struct PostFacts<'a> {
    /// Post id.
    pub id: &'a str,
    /// Account.
    pub author: &'a str,
    /// Event time.
    pub created_at: DateTime<FixedOffset>,
    /// Group, if any.
    pub group: Option<&'a str>,
    /// Post it replies to, if any.
    pub reply_to: Option<&'a str>,
    /// The post's text.
    pub text: &'a str,
    /// Entities extracted from it (identifiers link posts).
    pub entities: &'a [Entity],
    /// The policy did not allow it.
    pub harmful: bool,
    /// Allowed, but with some harm signal and no lawful context: it may
    /// join a campaign that already exists, and is then raised to review.
    pub weak_signal: bool,
    /// Categories of its findings.
    pub categories: Vec<&'static str>,
    /// Protected people it exposes.
    pub protected: Vec<String>,
    /// Whether it carries a bounty.
    pub bounty: bool,
}

/// A campaign record (contract section 3).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Campaign {
    /// Always `"campaign"`.
    pub kind: &'static str,
    /// Stable id (`c-1`, `c-2`, ...).
    pub id: String,
    /// The target: a protected person id, or the name most members share.
    pub target: String,
    /// Categories found across members.
    pub labels: Vec<String>,
    /// Member post ids, in arrival order.
    pub members: Vec<String>,
    /// Accounts that posted members.
    pub accounts: Vec<String>,
    /// Earliest member time.
    pub first_seen: String,
    /// Latest member time.
    pub last_seen: String,
    /// `escalate` with a bounty or a protected-person exposure, else `remove`.
    pub action: &'static str,
    /// Groups carrying the campaign, with how many members each.
    pub groups: Vec<(String, usize)>,
}

/// A linked set of posts, with what is needed to decide cheaply whether to
/// report it.
#[derive(Default, Serialize, Deserialize)]
struct Component {
    members: Vec<usize>,
    accounts: HashSet<String>,
    /// Size when last reported (0: never).
    reported_size: usize,
    /// Latest member time: once older than the window, it cannot grow.
    last_at: Option<DateTime<FixedOffset>>,
}

#[derive(Serialize, Deserialize)]
struct Member {
    id: String,
    author: String,
    at: DateTime<FixedOffset>,
    group: Option<String>,
    categories: Vec<String>,
    protected: Vec<String>,
    bounty: bool,
    names: Vec<String>,
}

/// One post in this many is sampled for how common capitalised words are.
const DF_SAMPLE_EVERY: u64 = 16;
/// Sample counts are halved after this many samples: recent posts weigh
/// most and the table stays small.
const DF_DECAY_EVERY: u32 = 4096;
/// A word needs this many samples behind it before it can be called common.
const DF_MIN_SAMPLES: u32 = 512;
/// A word in more than this share of sampled posts is common, not a name.
const DF_COMMON_SHARE: f64 = 0.01;

impl Member {
    fn tombstone(at: DateTime<FixedOffset>) -> Self {
        Member {
            id: String::new(),
            author: String::new(),
            at,
            group: None,
            categories: Vec::new(),
            protected: Vec::new(),
            bounty: false,
            names: Vec::new(),
        }
    }
}

/// How often (in observed posts) old state is evicted.
const EVICT_EVERY: u64 = 1024;

/// Everything the detector remembers: what a checkpoint holds.
#[derive(Default, Serialize, Deserialize)]
struct State {
    members: Vec<Member>,
    parent: Vec<usize>,
    keys: HashMap<String, (usize, DateTime<FixedOffset>)>,
    by_post: HashMap<String, usize>,
    components: HashMap<usize, Component>,
    reported: HashMap<usize, String>,
    next_id: usize,
    watermark: Option<DateTime<FixedOffset>>,
    observed: u64,
    /// Every post seen (harmful or not), for sampling.
    #[serde(default)]
    seen: u64,
    /// Sampled posts containing each capitalised word (decayed).
    #[serde(default)]
    name_df: HashMap<String, u32>,
    /// Sampled posts (decayed alongside).
    #[serde(default)]
    df_samples: u32,
}

/// The streaming detector.
pub struct CampaignDetector {
    config: CampaignConfig,
    stop_words: HashSet<String>,
    /// Link keys map to (last member holding it, its time); post ids map
    /// to members (for replies); component roots map to their members and
    /// to their campaign id once reported.
    state: State,
    /// Final records of campaigns that stopped growing (evicted).
    finished: Vec<Campaign>,
}

impl CampaignDetector {
    /// A detector. `stop_words` are words that never identify a target
    /// (role words, agencies, common words): pass the lexicon's entries.
    pub fn new(config: CampaignConfig, stop_words: impl IntoIterator<Item = String>) -> Self {
        let mut stop: HashSet<String> = stop_words.into_iter().collect();
        for w in COMMON_WORDS {
            stop.insert(rampart_normalise::fold_term(w));
        }
        CampaignDetector {
            config,
            stop_words: stop,
            state: State {
                next_id: 1,
                ..State::default()
            },
            finished: Vec::new(),
        }
    }

    fn find(&mut self, mut x: usize) -> usize {
        while self.state.parent[x] != x {
            self.state.parent[x] = self.state.parent[self.state.parent[x]];
            x = self.state.parent[x];
        }
        x
    }

    fn find_const(&self, mut x: usize) -> usize {
        while self.state.parent[x] != x {
            x = self.state.parent[x];
        }
        x
    }

    fn union(&mut self, a: usize, b: usize) -> usize {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra == rb {
            return ra;
        }
        // Keep the older root so a reported campaign keeps its id.
        let (keep, gone) = if ra < rb { (ra, rb) } else { (rb, ra) };
        self.state.parent[gone] = keep;
        let moved = self.state.components.remove(&gone).unwrap_or_default();
        let into = self.state.components.entry(keep).or_default();
        into.members.extend(moved.members);
        into.accounts.extend(moved.accounts);
        into.reported_size = into.reported_size.max(moved.reported_size);
        into.last_at = into.last_at.max(moved.last_at);
        if let Some(id) = self.state.reported.remove(&gone) {
            self.state.reported.entry(keep).or_insert(id);
        }
        keep
    }

    /// The keys that link a post to others.
    fn link_keys(&self, p: &PostFacts<'_>) -> (Vec<String>, Vec<String>) {
        let mut keys = Vec::new();
        let mut names = Vec::new();
        for pid in &p.protected {
            keys.push(format!("pp:{pid}"));
        }
        for e in p.entities {
            match e.kind {
                EntityKind::Plate | EntityKind::Phone | EntityKind::Email => {
                    keys.push(format!("id:{}", e.value.to_lowercase()));
                }
                _ => {}
            }
        }
        for w in capitalised_words(p.text) {
            let folded = rampart_normalise::fold_term(&w);
            if folded.len() < 4 || self.stop_words.contains(&folded) || self.is_common(&folded) {
                continue;
            }
            names.push(w.clone());
            keys.push(format!("name:{folded}"));
        }
        if keys.is_empty() && p.harmful {
            // Wording links only posts that name no one and expose nothing:
            // posts that do name someone link by that, and two near-identical
            // posts naming different people are one template used against
            // two targets, not one campaign. Weak posts skip this (they join
            // only through a name or an identifier): many allowed posts carry
            // some cue, and hashing them all would cost a third of the scan.
            keys.extend(near_dup::band_keys(p.text));
        }
        if let Some(g) = p.group {
            keys.push(format!("group:{g}"));
        }
        // One account's harmful posts in a short window are one effort.
        keys.push(format!("author:{}", p.author));
        (keys, names)
    }

    /// Feeds one post; returns the campaign it belongs to when that
    /// campaign is new or has grown. A harmful post always joins the
    /// linking; an allowed post with a weak signal joins only a campaign
    /// already reported (the caller then raises it to review), and an
    /// allowed post without signal never joins.
    pub fn observe(&mut self, p: &PostFacts<'_>) -> Option<Campaign> {
        self.state.seen += 1;
        if self.state.seen.is_multiple_of(DF_SAMPLE_EVERY) {
            self.sample_words(p.text);
        }
        if !p.harmful && !p.weak_signal {
            return None;
        }
        let (keys, names) = self.link_keys(p);
        if !p.harmful {
            // Only strong keys (a named person, an identifier, a protected
            // id) let a weak post in, and only into a reported campaign.
            let joins = keys
                .iter()
                .filter(|k| k.starts_with("name:") || k.starts_with("id:") || k.starts_with("pp:"))
                .any(|k| {
                    self.state.keys.get(k).is_some_and(|&(other, at)| {
                        (p.created_at - at).abs() <= self.config.window && {
                            let root = self.find_const(other);
                            self.state.reported.contains_key(&root)
                        }
                    })
                });
            if !joins {
                return None;
            }
        }
        let idx = self.state.members.len();
        self.state.members.push(Member {
            id: p.id.to_string(),
            author: p.author.to_string(),
            at: p.created_at,
            group: p.group.map(str::to_string),
            categories: p.categories.iter().map(|c| c.to_string()).collect(),
            protected: p.protected.clone(),
            bounty: p.bounty,
            names,
        });
        self.state.parent.push(idx);
        self.state.components.insert(
            idx,
            Component {
                last_at: Some(p.created_at),
                members: vec![idx],
                accounts: HashSet::from([p.author.to_string()]),
                reported_size: 0,
            },
        );
        self.state.by_post.insert(p.id.to_string(), idx);
        if let Some(parent) = p.reply_to.and_then(|r| self.state.by_post.get(r).copied()) {
            self.union(idx, parent);
        }
        for k in keys {
            if let Some(&(other, at)) = self.state.keys.get(&k) {
                if (p.created_at - at).abs() <= self.config.window {
                    self.union(idx, other);
                }
            }
            self.state.keys.insert(k, (idx, p.created_at));
        }
        let root = self.find(idx);
        if let Some(c) = self.state.components.get_mut(&root) {
            c.last_at = c.last_at.max(Some(p.created_at));
        }
        self.state.watermark = self.state.watermark.max(Some(p.created_at));
        self.state.observed += 1;
        if self.state.observed.is_multiple_of(EVICT_EVERY) {
            self.evict();
        }
        self.report(root)
    }

    /// Counts the capitalised words of one sampled post (any post, harmful
    /// or not) towards how common each word is.
    fn sample_words(&mut self, text: &str) {
        let mut words: Vec<String> = capitalised_words(text)
            .iter()
            .map(|w| rampart_normalise::fold_term(w))
            .filter(|w| w.len() >= 4)
            .collect();
        words.sort_unstable();
        words.dedup();
        for w in words {
            *self.state.name_df.entry(w).or_default() += 1;
        }
        self.state.df_samples += 1;
        if self.state.df_samples >= DF_DECAY_EVERY {
            self.state.df_samples /= 2;
            self.state.name_df.retain(|_, n| {
                *n /= 2;
                *n > 0
            });
        }
    }

    /// Whether a folded capitalised word is too common in the stream to
    /// identify a target.
    fn is_common(&self, folded: &str) -> bool {
        let samples = self.state.df_samples;
        samples >= DF_MIN_SAMPLES
            && self
                .state
                .name_df
                .get(folded)
                .is_some_and(|&n| f64::from(n) > DF_COMMON_SHARE * f64::from(samples))
    }

    /// Whether a post with this id is already a member (a post sent twice
    /// must not count twice).
    pub fn knows(&self, post_id: &str) -> bool {
        self.state.by_post.contains_key(post_id)
    }

    /// Forgets what can no longer link: keys last seen, and components last
    /// grown, more than the window plus the allowed lateness before the
    /// latest event time. A reported campaign that grew since its last
    /// record gets a final record (see [`CampaignDetector::take_finished`]).
    /// Keeps memory bounded on an endless stream.
    pub fn evict(&mut self) {
        let Some(watermark) = self.state.watermark else {
            return;
        };
        let horizon = watermark - self.config.window - self.config.lateness;
        self.state.keys.retain(|_, (_, at)| *at >= horizon);
        let stale: Vec<usize> = self
            .state
            .components
            .iter()
            .filter(|(_, c)| c.last_at.is_some_and(|t| t < horizon))
            .map(|(&r, _)| r)
            .collect();
        for root in stale {
            let grown = self
                .state
                .components
                .get(&root)
                .is_some_and(|c| c.reported_size > 0 && c.members.len() > c.reported_size);
            if grown {
                if let Some(c) = self.build(root) {
                    self.finished.push(c);
                }
            }
            if let Some(c) = self.state.components.remove(&root) {
                for m in c.members {
                    let member = &mut self.state.members[m];
                    self.state.by_post.remove(&member.id);
                    // Keep the slot (indices are union-find nodes) but drop
                    // its contents.
                    *member = Member::tombstone(member.at);
                }
            }
            self.state.reported.remove(&root);
        }
    }

    /// Final records of campaigns evicted since the last call.
    pub fn take_finished(&mut self) -> Vec<Campaign> {
        std::mem::take(&mut self.finished)
    }

    /// The detector's state as JSON, to restore after a restart.
    pub fn checkpoint(&self) -> String {
        serde_json::to_string(&self.state).expect("state serialises")
    }

    /// Restores a checkpoint into a detector built with the same
    /// configuration and stop words.
    pub fn restore(&mut self, checkpoint: &str) -> Result<(), serde_json::Error> {
        self.state = serde_json::from_str(checkpoint)?;
        Ok(())
    }

    /// Reports a component when it qualifies and has grown enough since it
    /// was last reported: every new member while it is small, then each
    /// 10% of growth, so a huge campaign does not rewrite its member list
    /// for every post. [`CampaignDetector::flush`] reports the rest.
    fn report(&mut self, root: usize) -> Option<Campaign> {
        let comp = self.state.components.get(&root)?;
        let size = comp.members.len();
        if size < self.config.min_posts || comp.accounts.len() < self.config.min_accounts {
            return None;
        }
        let step = (comp.reported_size / 10).max(1);
        if comp.reported_size > 0 && size < comp.reported_size + step {
            return None;
        }
        self.build(root)
    }

    /// Reports every campaign that grew since it was last reported (at the
    /// end of a stream).
    pub fn flush(&mut self) -> Vec<Campaign> {
        let roots: Vec<usize> = self
            .state
            .components
            .iter()
            .filter(|(_, c)| c.reported_size > 0 && c.members.len() > c.reported_size)
            .map(|(&r, _)| r)
            .collect();
        let mut out: Vec<Campaign> = roots.into_iter().filter_map(|r| self.build(r)).collect();
        out.sort_by(|a, b| a.id.cmp(&b.id));
        out
    }

    fn build(&mut self, root: usize) -> Option<Campaign> {
        let comp = self.state.components.get_mut(&root)?;
        comp.reported_size = comp.members.len();
        let mut members = comp.members.clone();
        members.sort_unstable();
        let accounts: BTreeSet<&str> = members
            .iter()
            .map(|&m| self.state.members[m].author.as_str())
            .collect();
        let id = match self.state.reported.get(&root) {
            Some(id) => id.clone(),
            None => {
                let id = format!("c-{}", self.state.next_id);
                self.state.next_id += 1;
                self.state.reported.insert(root, id.clone());
                id
            }
        };
        let ms: Vec<&Member> = members.iter().map(|&m| &self.state.members[m]).collect();
        let mut labels: BTreeSet<String> = BTreeSet::new();
        let mut protected: BTreeSet<&str> = BTreeSet::new();
        let mut name_counts: HashMap<&str, usize> = HashMap::new();
        let mut groups: HashMap<&str, usize> = HashMap::new();
        for m in &ms {
            labels.extend(m.categories.iter().cloned());
            protected.extend(m.protected.iter().map(String::as_str));
            for n in &m.names {
                *name_counts.entry(n.as_str()).or_default() += 1;
            }
            if let Some(g) = &m.group {
                *groups.entry(g.as_str()).or_default() += 1;
            }
        }
        let target = protected
            .iter()
            .next()
            .map(|s| s.to_string())
            .or_else(|| {
                name_counts
                    .iter()
                    .max_by_key(|(n, c)| (**c, n.len()))
                    .map(|(n, _)| n.to_string())
            })
            .unwrap_or_default();
        let mut groups: Vec<(String, usize)> = groups
            .into_iter()
            .map(|(g, c)| (g.to_string(), c))
            .collect();
        groups.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let escalate = !protected.is_empty() || ms.iter().any(|m| m.bounty);
        Some(Campaign {
            kind: "campaign",
            id,
            target,
            labels: labels.into_iter().collect(),
            members: ms.iter().map(|m| m.id.clone()).collect(),
            accounts: accounts.iter().map(|a| a.to_string()).collect(),
            first_seen: ms
                .iter()
                .map(|m| m.at)
                .min()
                .map(|t| t.to_rfc3339())
                .unwrap_or_default(),
            last_seen: ms
                .iter()
                .map(|m| m.at)
                .max()
                .map(|t| t.to_rfc3339())
                .unwrap_or_default(),
            action: if escalate { "escalate" } else { "remove" },
            groups,
        })
    }
}

/// Capitalised words of the original text that can name a target: not
/// the first word of a sentence, not a place after "in"/"en"/"on", not a
/// street name followed by a street type.
fn capitalised_words(text: &str) -> Vec<String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let mut out = Vec::new();
    for (i, raw) in words.iter().enumerate() {
        let w: String = raw
            .trim_matches(|c: char| !c.is_alphanumeric() && c != '-')
            .to_string();
        let w = w.trim_end_matches("'s").trim_end_matches("’s").to_string();
        let Some(first) = w.chars().next() else {
            continue;
        };
        if !first.is_uppercase() || w.chars().all(|c| c.is_uppercase() || !c.is_alphabetic()) {
            // Lower-case, or an acronym (ICE, CBP): not a name.
            continue;
        }
        let prev = if i > 0 {
            words[i - 1].to_lowercase()
        } else {
            String::new()
        };
        if matches!(
            prev.trim_matches(|c: char| !c.is_alphanumeric()),
            "in" | "en" | "on" | "near" | "de" | "del" | "at"
        ) {
            continue;
        }
        let next = words
            .get(i + 1)
            .map(|n| {
                n.trim_matches(|c: char| !c.is_alphanumeric())
                    .to_lowercase()
            })
            .unwrap_or_default();
        if matches!(
            next.as_str(),
            "st" | "ave" | "rd" | "dr" | "ln" | "ct" | "blvd" | "street" | "avenue" | "road"
        ) {
            continue;
        }
        for part in w.split('-') {
            if part.chars().next().is_some_and(char::is_uppercase) {
                out.push(part.to_string());
            }
        }
    }
    out
}

/// Words that are capitalised often but never identify a target.
const COMMON_WORDS: &[&str] = &[
    "this",
    "that",
    "these",
    "those",
    "there",
    "here",
    "what",
    "when",
    "where",
    "whoever",
    "anyone",
    "someone",
    "somebody",
    "everyone",
    "everybody",
    "every",
    "they",
    "them",
    "their",
    "she",
    "he",
    "her",
    "his",
    "him",
    "we",
    "you",
    "your",
    "just",
    "still",
    "also",
    "then",
    "stay",
    "offer",
    "update",
    "reup",
    "reposting",
    "reminder",
    "repost",
    "serious",
    "proof",
    "half",
    "easy",
    "money",
    "people",
    "call",
    "tell",
    "make",
    "found",
    "need",
    "bring",
    "live",
    "ojala",
    "esta",
    "este",
    "ese",
    "esa",
    "ya",
    "pago",
    "tengo",
    "repito",
    "alguien",
    "quien",
    "nadie",
    "todos",
    "todas",
    "pinche",
    "la",
    "el",
    "los",
    "las",
    "que",
    "pero",
    "para",
    "por",
    "con",
    "sin",
    "hoy",
    "ayer",
    "manana",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "lunes",
    "martes",
    "miercoles",
    "jueves",
    "viernes",
    "sabado",
    "domingo",
    "october",
    "november",
    "octubre",
    "noviembre",
    "dios",
    "god",
    "lol",
    "jaja",
    "rt",
    "breaking",
    "live",
    "two",
    "thousand",
    "dollars",
    "grand",
    "bands",
    // Street and neighbourhood words name places, not people.
    "calle",
    "avenida",
    "privada",
    "colonia",
    "col",
    "fracc",
    "fraccionamiento",
    "boulevard",
    "blvd",
    "street",
    "avenue",
    "road",
    "drive",
    "lane",
    "court",
    "plaza",
    "parque",
    "park",
    "noticias",
    "news",
    "canal",
    "channel",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn post<'a>(
        id: &'a str,
        author: &'a str,
        minute: i64,
        text: &'a str,
        harmful: bool,
    ) -> PostFacts<'a> {
        let base = DateTime::parse_from_rfc3339("2025-10-14T12:00:00Z").unwrap();
        PostFacts {
            id,
            author,
            created_at: base + Duration::minutes(minute),
            group: None,
            reply_to: None,
            text,
            entities: &[],
            harmful,
            weak_signal: false,
            categories: vec!["threat"],
            protected: vec![],
            bounty: false,
        }
    }

    fn detector() -> CampaignDetector {
        CampaignDetector::new(CampaignConfig::default(), ["agent".to_string()])
    }

    #[test]
    fn accounts_converging_on_one_name_form_a_growing_campaign() {
        let mut d = detector();
        assert!(d
            .observe(&post(
                "p1",
                "a1",
                0,
                "We will find Agent Korbel tonight.",
                true
            ))
            .is_none());
        assert!(d
            .observe(&post(
                "p2",
                "a2",
                10,
                "Korbel parks behind the station.",
                true
            ))
            .is_none());
        let c = d
            .observe(&post(
                "p3",
                "a3",
                20,
                "Everyone knows where Korbel sleeps.",
                true,
            ))
            .expect("campaign");
        assert_eq!(c.members, vec!["p1", "p2", "p3"]);
        assert_eq!(c.target, "Korbel");
        let grown = d
            .observe(&post("p4", "a4", 30, "Korbel again, same plan.", true))
            .expect("update");
        assert_eq!(grown.id, c.id, "a growing campaign keeps its id");
        assert_eq!(grown.members.len(), 4);
    }

    #[test]
    fn old_state_is_evicted_and_checkpoints_round_trip() {
        let mut d = detector();
        for (i, a) in ["a1", "a2", "a3"].iter().enumerate() {
            d.observe(&post("p", a, i as i64, "Korbel again.", true));
        }
        let saved = d.checkpoint();
        // Ten hours later the old campaign cannot grow: evicted.
        d.observe(&post("q1", "b1", 600, "Korbel is back.", true));
        d.evict();
        assert!(
            d.checkpoint().len() < saved.len() + 200,
            "state kept growing after eviction"
        );
        d.observe(&post("q2", "b2", 601, "Korbel is back.", true));
        let c = d
            .observe(&post("q3", "b3", 602, "Korbel is back.", true))
            .expect("a new campaign");
        assert_eq!(c.id, "c-2");
        assert_eq!(c.members, vec!["q1", "q2", "q3"]);

        // A restored detector continues where the saved one stopped.
        let mut r = detector();
        r.restore(&saved).unwrap();
        let grown = r
            .observe(&post("p4", "a4", 5, "Korbel again.", true))
            .expect("growth");
        assert_eq!(grown.id, "c-1");
        assert_eq!(grown.members.len(), 4);
    }

    #[test]
    fn lawful_posts_never_join_and_the_window_is_respected() {
        let mut d = detector();
        for (i, author) in ["a1", "a2", "a3", "a4"].iter().enumerate() {
            // Many accounts, one name, but lawful: no campaign.
            assert!(d
                .observe(&post(
                    "n",
                    author,
                    i as i64,
                    "Korbel testified today.",
                    false
                ))
                .is_none());
        }
        d.observe(&post("p1", "a1", 0, "Korbel is done.", true));
        d.observe(&post("p2", "a2", 10, "Korbel is done.", true));
        // Ten hours later: outside the three-hour window, no link.
        assert!(d
            .observe(&post("p3", "a3", 600, "Korbel is done.", true))
            .is_none());
    }

    #[test]
    fn reposts_that_name_no_one_link_by_wording() {
        let mut d = detector();
        let texts = [
            "everyone meet at the north lot tonight, wait for the grey truck and smash it",
            "everyone meet at the n0rth lot tonight 🔥 wait for the grey truck and smash it!!",
            "EVERYONE meet at the north lot tonight, wait for that grey truck and smash it",
        ];
        let mut last = None;
        for (i, t) in texts.iter().enumerate() {
            let author = format!("a{i}");
            last = d.observe(&post(&format!("p{i}"), &author, i as i64, t, true));
        }
        let c = last.expect("near-duplicate reposts form a campaign");
        assert_eq!(c.members, vec!["p0", "p1", "p2"]);
    }

    /// Two campaigns against different people whose posts share a word
    /// that is common in the whole stream.
    fn two_targets_sharing_a_common_word(background: usize) -> BTreeSet<Vec<String>> {
        let mut d = detector();
        for i in 0..background {
            let id = format!("bg{i}");
            d.observe(&post(
                &id,
                "fan",
                0,
                "Big match Tonight at the stadium",
                false,
            ));
        }
        let mut campaigns = BTreeSet::new();
        for (i, (name, author)) in [
            ("Korbel", "a1"),
            ("Vance", "b1"),
            ("Korbel", "a2"),
            ("Vance", "b2"),
            ("Korbel", "a3"),
            ("Vance", "b3"),
        ]
        .iter()
        .enumerate()
        {
            let text = format!("{name} gets what he deserves Tonight");
            if let Some(c) = d.observe(&post(&format!("p{i}"), author, i as i64, &text, true)) {
                campaigns.insert(c.members);
            }
        }
        campaigns.extend(d.flush().into_iter().map(|c| c.members));
        campaigns
    }

    #[test]
    fn a_word_common_in_the_stream_does_not_merge_campaigns() {
        // Without background the shared word links everything: one campaign.
        let merged = two_targets_sharing_a_common_word(0);
        assert!(merged.iter().any(|m| m.len() == 6), "{merged:?}");
        // Once the stream shows the word is common, each target keeps its own.
        let split = two_targets_sharing_a_common_word(20_000);
        let last: Vec<&Vec<String>> = split.iter().filter(|m| m.len() == 3).collect();
        assert!(
            split.iter().all(|m| m.len() <= 3) && last.len() == 2,
            "{split:?}"
        );
    }

    #[test]
    fn capitalised_words_skip_places_streets_and_acronyms() {
        let w = capitalised_words(
            "The ICE agent Travis Mendel lives in Berwyn on Larkspur Ct, near Oak Park Ave.",
        );
        assert!(
            w.contains(&"Travis".to_string()) && w.contains(&"Mendel".to_string()),
            "{w:?}"
        );
        assert!(!w.contains(&"ICE".to_string()));
        assert!(!w.contains(&"Berwyn".to_string()));
        assert!(!w.contains(&"Larkspur".to_string()));
        let w = capitalised_words("Judge Quintero-Bell's wife");
        assert!(
            w.contains(&"Quintero".to_string()) && w.contains(&"Bell".to_string()),
            "{w:?}"
        );
    }
}
