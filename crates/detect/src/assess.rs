//! Assessment: combines lexicon hits and extracted entities into category
//! scores, a bounty tier, rule ids and evidence.
//!
//! The logic is deliberately a few readable combinations rather than one
//! opaque formula: each category asks for an *act* (what harm), a *frame*
//! (who asks for it, how) and a *target* (whom), and lawful context (news,
//! official rewards, games, condemnation, a business's own details) lowers
//! the score. Each combination that fires adds a rule id, so a reviewer can
//! see why.

use std::collections::BTreeSet;

use rampart_normalise::{char_slice, NormalisedText};

use crate::extract::{Entity, EntityKind};
use crate::lexicon::{Class, Hit};
use crate::{BountyTier, Category, Detection, Evidence, Label};

/// The signals a policy sees for one post (see `policy/default.toml`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Signals {
    /// Threat score in `[0, 1]`.
    pub threat: f64,
    /// Bounty score.
    pub bounty: f64,
    /// Doxxing score.
    pub doxxing: f64,
    /// Targeted-surveillance score.
    pub targeted_surveillance: f64,
    /// Bounty tier, when a bounty was found.
    pub tier: Option<BountyTier>,
    /// Strength of lawful context (news, official reward, game...) in `[0, 1]`.
    pub lawful_context: f64,
    /// A specific person is identified (a role with a name, a full name, a
    /// handle, or their personal identifiers).
    pub identified_target: bool,
    /// The post names a lethal act (outside idioms).
    pub lethal_act: bool,
    /// The post carries a person's private identifiers (address, phone,
    /// email, plate).
    pub personal_data: bool,
    /// How many harm cues (an act, a payment or solicitation, menace, a
    /// request to watch, a location or schedule, personal-life context)
    /// the text carries, scored or not. A post with cues but no label is
    /// weak: it may still be part of a campaign.
    pub harm_cues: usize,
}

/// The most evidence spans of one role a finding carries. A reviewer needs
/// a few spans, not every repetition; without a bound a post repeating one
/// phrase would cost time in the square of its length (each span is sliced
/// from the text and checked against the spans before it).
pub const MAX_SPANS_PER_ROLE: usize = 16;

struct Ctx<'a> {
    text: &'a str,
    norm: &'a NormalisedText,
    hits: Vec<Hit>,
    entities: Vec<Entity>,
}

impl Ctx<'_> {
    fn has(&self, c: Class) -> bool {
        self.hits.iter().any(|h| h.class == c)
    }

    fn count(&self, c: Class) -> usize {
        self.hits.iter().filter(|h| h.class == c).count()
    }

    fn has_entity(&self, k: EntityKind) -> bool {
        self.entities.iter().any(|e| e.kind == k)
    }

    fn evidence_for(&self, c: Class, role: &'static str, out: &mut Vec<Evidence>) {
        let hits = self.hits.iter().filter(|h| h.class == c);
        for h in hits.take(MAX_SPANS_PER_ROLE) {
            if let Some((s, e)) = self.norm.folded.original_span(h.start, h.end) {
                push_evidence(self.text, s, e, role, out);
            }
        }
    }

    fn evidence_entities(&self, kinds: &[EntityKind], role: &'static str, out: &mut Vec<Evidence>) {
        let entities = self.entities.iter().filter(|e| kinds.contains(&e.kind));
        for e in entities.take(MAX_SPANS_PER_ROLE) {
            push_evidence(self.text, e.start, e.end, role, out);
        }
    }
}

fn push_evidence(
    text: &str,
    start: usize,
    end: usize,
    role: &'static str,
    out: &mut Vec<Evidence>,
) {
    if start >= end {
        return;
    }
    // Trim whitespace the extractors may include at the edges.
    let slice = char_slice(text, start, end);
    let lead = slice.chars().take_while(|c| c.is_whitespace()).count();
    let trail = slice
        .chars()
        .rev()
        .take_while(|c| c.is_whitespace())
        .count();
    let (s, e) = (start + lead, end.saturating_sub(trail));
    if s >= e {
        return;
    }
    if out.iter().any(|x| x.start <= s && x.end >= e) {
        return;
    }
    out.push(Evidence {
        start: s,
        end: e,
        text: char_slice(text, s, e).to_string(),
        role,
        media: None,
    });
}

/// Removes act hits that sit inside an idiom ("kill it", "me muero de risa"),
/// and acts inside quotes when the post reports speech.
fn drop_neutralised(hits: Vec<Hit>) -> Vec<Hit> {
    let idioms: Vec<(usize, usize)> = hits
        .iter()
        .filter(|h| h.class == Class::Idiom)
        .map(|h| (h.start, h.end))
        .collect();
    hits.into_iter()
        .filter(|h| {
            !matches!(h.class, Class::Lethal | Class::Assault | Class::Intent)
                || !idioms.iter().any(|&(s, e)| h.start >= s && h.end <= e)
        })
        .collect()
}

/// Byte ranges of the folded view inside quotation marks.
fn quoted_ranges(folded: &str) -> Vec<(usize, usize)> {
    let b = folded.as_bytes();
    let mut out = Vec::new();
    let mut open: Option<(usize, u8)> = None;
    for (i, &c) in b.iter().enumerate() {
        if c != b'\'' && c != b'"' {
            continue;
        }
        let prev_alnum = i > 0 && b[i - 1].is_ascii_alphanumeric();
        let next_alnum = i + 1 < b.len() && b[i + 1].is_ascii_alphanumeric();
        match open {
            None if !(prev_alnum && c == b'\'') && next_alnum => open = Some((i, c)),
            Some((s, q)) if q == c && !(next_alnum && c == b'\'') => {
                out.push((s, i + 1));
                open = None;
            }
            _ => {}
        }
    }
    out
}

/// Lethal acts whose verb and particle sit apart around the victim ("run
/// Senator Ruiz over", "mow that deputy down", "gun him down"): the lexicon
/// matches contiguous phrases only. The words between must name a person
/// (a role, an object pronoun alone, or a name the extractor found), so
/// "run the numbers over" is nothing.
fn split_acts(norm: &NormalisedText, hits: &[Hit], entities: &[Entity]) -> Vec<Hit> {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    // The folded view collapses doubled letters: "runing", "guned".
    let re = RE.get_or_init(|| {
        regex::Regex::new(
            r"\b(?:run|runs|ran|runing|mow|mows|mowed|mowing|gun|guns|guned|guning)\s+((?:[\w'.-]+\s+){0,3}?[\w'.-]+)\s+(?:over|down)\b",
        )
        .expect("built-in pattern compiles")
    });
    let folded = norm.folded.as_str();
    let mut out = Vec::new();
    for c in re.captures_iter(folded) {
        let (whole, middle) = (c.get(0).expect("match"), c.get(1).expect("group 1"));
        // A pronoun only as the whole object ("run him over"; "ran his
        // lawnmower over" is not about a person).
        let pronoun = matches!(middle.as_str(), "him" | "her" | "them");
        let role = hits.iter().any(|h| {
            h.class == Class::Targets && h.start >= middle.start() && h.end <= middle.end()
        });
        let named = norm
            .folded
            .original_span(middle.start(), middle.end())
            .is_some_and(|(s, e)| {
                entities.iter().any(|en| {
                    matches!(en.kind, EntityKind::Name | EntityKind::NamedRole)
                        && en.start < e
                        && en.end > s
                })
            });
        if pronoun || role || named {
            out.push(Hit {
                class: Class::Lethal,
                start: whole.start(),
                end: whole.end(),
            });
        }
    }
    out
}

/// Whether the word at byte `start` of the folded text follows a
/// first-person possessive ("my", "our", "mi", "mis", "nuestra"...).
fn after_first_person_possessive(folded: &str, start: usize) -> bool {
    let before = folded[..start].trim_end();
    let word = before
        .rsplit(|c: char| !c.is_alphanumeric())
        .next()
        .unwrap_or("");
    matches!(
        word,
        "my" | "our" | "mi" | "mis" | "nuestra" | "nuestro" | "nuestras" | "nuestros"
    )
}

/// Assesses one text.
pub fn assess(text: &str, norm: &NormalisedText, hits: &[Hit], entities: Vec<Entity>) -> Detection {
    let mut hits = drop_neutralised(hits.to_vec());
    let quotes = quoted_ranges(norm.folded.as_str());
    let reporting = hits.iter().any(|h| h.class == Class::News);
    if reporting && !quotes.is_empty() {
        // Reported speech: acts and frames inside quotes are someone else's words.
        hits.retain(|h| {
            !matches!(
                h.class,
                Class::Lethal | Class::Assault | Class::Solicit | Class::Intent | Class::Menace
            ) || !quotes.iter().any(|&(s, e)| h.start >= s && h.end <= e)
        });
    }
    let split = split_acts(norm, &hits, &entities);
    hits.extend(split);
    let ctx = Ctx {
        text,
        norm,
        hits,
        entities,
    };
    let mut rules: BTreeSet<String> = BTreeSet::new();

    // ---- shared signals -------------------------------------------------
    let lethal = ctx.has(Class::Lethal);
    let assault = ctx.has(Class::Assault);
    let info = ctx.has(Class::Info);
    let money = ctx.has_entity(EntityKind::Money) || ctx.has(Class::MoneyWord);
    let amount = ctx.has_entity(EntityKind::Money);
    let payment_frame = money_followed_by_for(text, &ctx.entities);
    let solicit = ctx.has(Class::Solicit) || payment_frame;
    let intent = ctx.has(Class::Intent);
    let menace = ctx.has(Class::Menace);
    let role = ctx.has(Class::Targets);
    let named_role = ctx.has_entity(EntityKind::NamedRole);
    let name = ctx.has_entity(EntityKind::Name) || ctx.has_entity(EntityKind::Handle);
    let pronoun = ctx.has(Class::Pronoun);
    // Wishes and hypotheticals ("ojalá", "I hope", "if someone") are weaker
    // than a stated plan.
    let wish = ctx
        .hits
        .iter()
        .any(|h| h.class == Class::Intent && is_wish(&norm.folded.as_str()[h.start..h.end]));
    let target = role || named_role || name;
    let identified = named_role || (name && (role || pronoun));
    let address = ctx.has_entity(EntityKind::Address) || ctx.has_entity(EntityKind::Coordinates);
    let street = ctx.has_entity(EntityKind::StreetOnly);
    let phone = ctx.has_entity(EntityKind::Phone);
    let email = ctx.has_entity(EntityKind::Email);
    let plate = ctx.has_entity(EntityKind::Plate);
    // "My daughter goes to Lincoln High": the author's own family, and no
    // one else singled out (no role, named role or third-person pronoun),
    // is not someone's private life exposed.
    let own_family_only = !role && !named_role && !pronoun && {
        let folded = norm.folded.as_str();
        let fam: Vec<&Hit> = ctx
            .hits
            .iter()
            .filter(|h| h.class == Class::Family)
            .collect();
        !fam.is_empty()
            && fam
                .iter()
                .all(|h| after_first_person_possessive(folded, h.start))
    };
    let personal = ctx.has(Class::Personal) && !own_family_only;
    let identifiers = address || phone || email || plate;
    let live = ctx.has(Class::LiveLocation);
    let schedule = ctx.has(Class::Schedule) || ctx.has_entity(EntityKind::Time);
    let surveil = ctx.has(Class::Surveil);
    let vehicle = ctx.has(Class::Vehicle) || plate;
    let times = ctx
        .entities
        .iter()
        .filter(|e| e.kind == EntityKind::Time)
        .count();
    let schedule_words = ctx.has(Class::Schedule);
    let singled_out_early = named_role || ctx.has_entity(EntityKind::Name) || pronoun;
    let family_named = ctx.has(Class::Family) && !own_family_only && {
        let nouns = crate::extract::proper_nouns(text);
        ctx.hits
            .iter()
            .filter(|h| h.class == Class::Family)
            .any(|h| {
                let Some((_, end)) = norm.folded.original_span(h.start, h.end) else {
                    return false;
                };
                nouns.iter().any(|&(s, _)| s >= end && s <= end + 30)
            })
    };

    // ---- lawful context -------------------------------------------------
    let news = ctx.count(Class::News);
    let mut lawful: f64 = 0.0;
    let mut lawful_rule = |rule: &str, strength: f64, rules: &mut BTreeSet<String>| {
        if strength > lawful {
            lawful = strength;
        }
        rules.insert(format!("context.{rule}"));
    };
    // Reported speech outweighs wording only when the post does not also ask
    // for harm in its own voice (a solicitation or intent outside quotes).
    // A bare amount-for frame ("offered $5,000 to kill", "a $10,000 reward
    // is offered for") is not a voice: beside a reporting marker it is what
    // is being reported; a request ("whoever", "DM me", "pago") still is.
    let own_voice = ctx.has(Class::Solicit) || intent;
    if news >= 2 {
        lawful_rule("news", if own_voice { 0.6 } else { 0.9 }, &mut rules);
    } else if news == 1 {
        lawful_rule("news", if own_voice { 0.2 } else { 0.5 }, &mut rules);
    }
    if ctx.has(Class::Official) && (money || ctx.count(Class::Official) >= 2) {
        lawful_rule("official_reward", 0.95, &mut rules);
    }
    if ctx.has(Class::BugBounty) && (money || ctx.count(Class::BugBounty) >= 2) {
        lawful_rule("bug_bounty", 0.95, &mut rules);
    }
    let games = ctx.count(Class::GameFiction);
    if games >= 1 && !named_role && !(identified && money && solicit) {
        lawful_rule(
            "game_or_fiction",
            if games >= 2 { 0.95 } else { 0.8 },
            &mut rules,
        );
    }
    if ctx.has(Class::Sports) && !identified {
        lawful_rule("sports", 0.8, &mut rules);
    }
    if ctx.has(Class::Condemn) && !intent && !solicit {
        lawful_rule("condemnation", 0.8, &mut rules);
    }
    if ctx.has(Class::LostFound) && money && !lethal && !assault {
        lawful_rule("lost_and_found", 0.9, &mut rules);
    }
    let damp = |score: f64| score * (1.0 - lawful);

    let mut labels = Vec::new();

    // ---- bounty -----------------------------------------------------------
    let act = lethal || assault || info;
    let mut bounty: f64 = 0.0;
    if money && solicit && act {
        bounty = if amount { 0.95 } else { 0.8 };
        rules.insert("bounty.payment_for_act".into());
    } else if amount && act && target && (lethal || assault) {
        bounty = 0.75;
        rules.insert("bounty.amount_with_act".into());
    } else if payment_frame && info && identified && !lethal && !assault {
        // "$2,000 for Agent Ruiz's home address": an amount set against
        // one identified person's private details is an offer for them.
        bounty = 0.7;
        rules.insert("bounty.amount_for_info".into());
    } else if solicit && amount && target && (menace || intent) {
        bounty = 0.6;
        rules.insert("bounty.offer_against_target".into());
    }
    let tier = if bounty > 0.0 {
        Some(if lethal {
            BountyTier::Lethal
        } else if assault {
            BountyTier::Assault
        } else {
            BountyTier::Info
        })
    } else {
        None
    };
    if let Some(t) = tier {
        rules.insert(format!("bounty.{}", t.as_str()));
    }
    let bounty = damp(bounty);

    // ---- threat -----------------------------------------------------------
    // Explicit acts with intent or a target are strong; veiled menace alone
    // is for review unless it comes with a person's details.
    let mut threat: f64 = 0.0;
    if lethal && (intent || target || pronoun) {
        // A named lethal act with a stated plan or menace is a threat; the
        // same words describing events ("the journalist murders") are only
        // worth a look.
        threat = if intent || menace { 0.9 } else { 0.6 };
        rules.insert("threat.lethal_act".into());
    }
    if assault && (intent || menace) && (target || pronoun) {
        threat = threat.max(if intent && !wish { 0.75 } else { 0.55 });
        rules.insert("threat.assault_act".into());
    }
    if matches!(tier, Some(BountyTier::Lethal | BountyTier::Assault)) && bounty > 0.0 {
        threat = threat.max(0.95);
        rules.insert("threat.violent_bounty".into());
    }
    if menace && (target || pronoun) {
        let s = if identifiers && (intent || personal) {
            0.75
        } else {
            0.55
        };
        threat = threat.max(s);
        rules.insert("threat.menace".into());
    }
    let threat = damp(threat);

    // ---- doxxing ----------------------------------------------------------
    // Identifiers tied to a person. A hostile call or several kinds of
    // identifier make it a removal; a bare identifier is for review. A
    // business's or office's own details are not doxxing.
    let business = ctx.has(Class::Business);
    let kinds = [address, phone, email, plate]
        .iter()
        .filter(|&&b| b)
        .count();
    let mut doxxing: f64 = 0.0;
    if identifiers && (target || personal || menace || intent || pronoun) {
        doxxing = if menace || intent {
            0.9
        } else if kinds >= 2 {
            0.72
        } else if personal && target {
            0.6
        } else {
            0.55
        };
        rules.insert("doxxing.identifiers".into());
    }
    if street && (personal || menace || bounty > 0.0) && (target || pronoun) {
        doxxing = doxxing.max(if menace || intent || bounty > 0.0 {
            0.75
        } else {
            0.55
        });
        rules.insert("doxxing.street_named".into());
    }
    if identifiers && bounty > 0.0 && !business {
        doxxing = doxxing.max(0.7);
        rules.insert("doxxing.identifiers_with_bounty".into());
    }
    // A family member, school or workplace named (not merely mentioned):
    // a family word followed closely by a proper noun.
    if family_named && (target || pronoun || menace) {
        doxxing = doxxing.max(if menace || intent || bounty > 0.0 {
            0.8
        } else {
            0.6
        });
        rules.insert("doxxing.family_named".into());
    }
    // An unpaid request to the crowd for one person's private details or
    // identity ("anyone know where that judge lives?", "¿alguien sabe cómo
    // se llama el agente?"): worth a review, a removal with a menace or a
    // plan. A paid one is an info bounty instead.
    if ctx.has(Class::Ask)
        && ctx.has(Class::Private)
        && (identified || role)
        && !business
        && bounty == 0.0
    {
        doxxing = doxxing.max(if menace || intent { 0.75 } else { 0.5 });
        rules.insert("doxxing.info_request".into());
    }
    // A published daily routine (several times of day for one person).
    if times >= 2 && schedule_words && singled_out_early {
        doxxing = doxxing.max(0.7);
        rules.insert("doxxing.routine".into());
    }
    let doxxing = if business && !menace {
        doxxing * 0.3
    } else {
        damp(doxxing)
    };

    // ---- targeted surveillance --------------------------------------------
    // One person's whereabouts: a request to watch or follow, or a live
    // location with a vehicle or routine. Reports about agencies in general
    // (plural, nobody singled out) are not surveillance.
    let mut surveillance: f64 = 0.0;
    let movement = live || schedule || surveil;
    let whereabouts = [live, schedule, surveil, vehicle]
        .iter()
        .filter(|&&b| b)
        .count();
    let singled_out = named_role || name || pronoun;
    if singled_out
        && !business
        && (surveil || (live && (vehicle || schedule)) || (schedule && personal))
    {
        surveillance = if whereabouts >= 2 { 0.8 } else { 0.6 };
        rules.insert("surveillance.whereabouts".into());
    }
    if surveil && (live || vehicle || named_role) {
        surveillance = surveillance.max(0.75);
        rules.insert("surveillance.live_request".into());
    }
    if live && named_role && (intent || menace) {
        surveillance = surveillance.max(0.75);
        rules.insert("surveillance.location_with_call".into());
    }
    if schedule_words && times >= 1 && singled_out && !business && (target || menace) {
        surveillance = surveillance.max(if menace { 0.7 } else { 0.6 });
        rules.insert("surveillance.routine".into());
    }
    if info && bounty > 0.0 && movement {
        surveillance = surveillance.max(0.7);
        rules.insert("surveillance.paid_for_movements".into());
    }
    let surveillance = damp(surveillance);

    // ---- labels with evidence ---------------------------------------------
    let mut ev_bounty = Vec::new();
    if bounty > 0.0 {
        ctx.evidence_entities(&[EntityKind::Money], "payment", &mut ev_bounty);
        ctx.evidence_for(Class::MoneyWord, "payment", &mut ev_bounty);
        ctx.evidence_for(Class::Solicit, "solicitation", &mut ev_bounty);
        for c in [Class::Lethal, Class::Assault, Class::Info] {
            ctx.evidence_for(c, "act", &mut ev_bounty);
        }
        ctx.evidence_entities(
            &[EntityKind::NamedRole, EntityKind::Name],
            "target",
            &mut ev_bounty,
        );
    }
    let mut ev_threat = Vec::new();
    if threat > 0.0 {
        ctx.evidence_for(Class::Lethal, "act", &mut ev_threat);
        ctx.evidence_for(Class::Assault, "act", &mut ev_threat);
        ctx.evidence_for(Class::Menace, "menace", &mut ev_threat);
        ctx.evidence_for(Class::Intent, "intent", &mut ev_threat);
        ctx.evidence_entities(
            &[EntityKind::NamedRole, EntityKind::Name],
            "target",
            &mut ev_threat,
        );
    }
    let mut ev_dox = Vec::new();
    if doxxing > 0.0 {
        ctx.evidence_entities(
            &[
                EntityKind::Address,
                EntityKind::Phone,
                EntityKind::Email,
                EntityKind::Plate,
                EntityKind::StreetOnly,
                EntityKind::Coordinates,
            ],
            "personal_data",
            &mut ev_dox,
        );
        ctx.evidence_for(Class::Personal, "personal_data", &mut ev_dox);
        ctx.evidence_entities(
            &[EntityKind::NamedRole, EntityKind::Name],
            "target",
            &mut ev_dox,
        );
    }
    let mut ev_surv = Vec::new();
    if surveillance > 0.0 {
        ctx.evidence_for(Class::LiveLocation, "location", &mut ev_surv);
        ctx.evidence_for(Class::Schedule, "location", &mut ev_surv);
        ctx.evidence_for(Class::Surveil, "location", &mut ev_surv);
        ctx.evidence_entities(
            &[EntityKind::Time, EntityKind::Plate],
            "location",
            &mut ev_surv,
        );
        ctx.evidence_entities(
            &[EntityKind::NamedRole, EntityKind::Name],
            "target",
            &mut ev_surv,
        );
    }
    for (category, score, tier, ev) in [
        (Category::Threat, threat, None, ev_threat),
        (Category::Bounty, bounty, tier, ev_bounty),
        (Category::Doxxing, doxxing, None, ev_dox),
        (Category::TargetedSurveillance, surveillance, None, ev_surv),
    ] {
        if score > 0.0 {
            let mut evidence = ev;
            evidence.sort_by_key(|e| (e.start, e.end));
            labels.push(Label {
                category,
                score: (score * 1000.0).round() / 1000.0,
                tier,
                evidence,
                media_evidence: Vec::new(),
            });
        }
    }

    let signals = Signals {
        threat,
        bounty,
        doxxing,
        targeted_surveillance: surveillance,
        tier,
        lawful_context: lawful,
        identified_target: identified || (target && identifiers),
        lethal_act: lethal,
        personal_data: identifiers,
        harm_cues: ctx
            .hits
            .iter()
            .filter(|h| {
                matches!(
                    h.class,
                    Class::Lethal
                        | Class::Assault
                        | Class::Info
                        | Class::Solicit
                        | Class::MoneyWord
                        | Class::Intent
                        | Class::Menace
                        | Class::Surveil
                        | Class::LiveLocation
                        | Class::Schedule
                        | Class::Personal
                )
            })
            .count(),
    };
    Detection {
        labels,
        rules: rules.into_iter().collect(),
        signals,
        entities: ctx.entities,
        norm: NormalisedText::default(),
    }
}

fn is_wish(intent: &str) -> bool {
    matches!(intent, "ojala" | "hopefuly" | "i hope" | "si vuelve")
}

/// An amount immediately followed by "for"/"por" ("$2k for the address",
/// "2 mil USDT por la dirección"): a price put on something.
fn money_followed_by_for(text: &str, entities: &[Entity]) -> bool {
    entities
        .iter()
        .filter(|e| e.kind == EntityKind::Money)
        .any(|e| {
            let after: String = text
                .chars()
                .skip(e.end)
                .take(40)
                .collect::<String>()
                .to_lowercase();
            after
                .split(|c: char| !c.is_alphanumeric())
                .filter(|w| !w.is_empty())
                .take(4)
                .take_while(|w| !matches!(*w, "a" | "the" | "la" | "el"))
                .any(|w| matches!(w, "for" | "por" | "pa" | "para" | "to" | "x"))
        })
}
