//! The scan pipeline shared by the `rampart` commands: one [`Scanner`] holds
//! the compiled detector and policy and turns a post into a verdict; the
//! [`scan_stream`] driver reads JSONL, writes verdicts in input order and
//! counts what it saw. [`synth`] generates the benchmark stream.

pub mod synth;

use std::collections::BTreeMap;
use std::io::{self, BufRead, Write};
use std::time::{Duration, Instant};

use rampart_decide::{
    Action, Judgement, LearnedScores, Policy, ProtectedMatch, ScreenSignals, Verdict,
};
use rampart_detect::Detector;
use rampart_ingest::{JsonlReader, LineError, Post, Record};
use rampart_learn::screen::{Screen, ScreenScores};
use rampart_registry::ProtectedRegistry;

/// Detector, policy and (optionally) the protected-person registry,
/// compiled once and shared read-only.
pub struct Scanner {
    detector: Detector,
    policy: Policy,
    registry: Option<ProtectedRegistry>,
    learned: Option<rampart_learn::Learned>,
    /// The learned first stage, on every post (the committed model unless
    /// replaced or turned off).
    screen: Option<Screen>,
    /// Score one in this many non-candidate posts with the learned stage
    /// (0: none), to measure what the rules miss.
    learned_sample: u64,
}

/// What the rules found in one post, before the policy decides.
pub struct Findings {
    detection: rampart_detect::Detection,
    protected: Vec<ProtectedMatch>,
    weak: bool,
    screen: Option<ScreenScores>,
}

/// The first stage passes a post to the encoder at this harm probability
/// or above (chosen to pass nearly every harmful training post, see
/// `rampart train-screen`).
pub const SCREEN_PASS: f32 = 0.2;

/// The committed first-stage model, built into the binary so it is there
/// wherever rampart runs.
pub const SCREEN_MODEL: &[u8] = include_bytes!("../../../models/screen.bin");

/// The committed first-stage model.
pub fn builtin_screen() -> Screen {
    Screen::from_bytes(SCREEN_MODEL, "models/screen.bin (built in)")
        .expect("the committed screen model is valid")
}

impl Findings {
    /// The first stage's scores, when it ran.
    pub fn screen(&self) -> Option<&ScreenScores> {
        self.screen.as_ref()
    }

    fn screen_signals(&self) -> Option<ScreenSignals> {
        self.screen.as_ref().map(|s| ScreenSignals {
            harm: f64::from(s.get("harm")),
            threat: f64::from(s.get("threat")),
            bounty: f64::from(s.get("bounty")),
            doxxing: f64::from(s.get("doxxing")),
            targeted_surveillance: f64::from(s.get("targeted_surveillance")),
        })
    }
}

impl Findings {
    /// A candidate (a finding or a protected match) or uncertain (two or
    /// more harm cues without a finding or lawful context): what the
    /// learned stage always scores.
    pub fn is_candidate(&self) -> bool {
        let s = &self.detection.signals;
        !self.detection.labels.is_empty()
            || !self.protected.is_empty()
            // Uncertain: several harm cues, no finding, no lawful context.
            // One cue alone ("kill it tonight") is everyday language.
            || (s.harm_cues >= 2 && s.lawful_context < 0.5)
            // The first stage suspects it.
            || self.screen.as_ref().is_some_and(|sc| sc.get("harm") >= SCREEN_PASS)
    }
}

impl Scanner {
    /// A scanner with the built-in lexicons and the given policy.
    pub fn new(policy: Policy) -> anyhow::Result<Self> {
        Ok(Scanner {
            detector: Detector::new()?,
            policy,
            registry: None,
            learned: None,
            // On with the encoder (`with_learned`): the first stage is
            // calibrated beside the heads; alone it is overconfident.
            screen: None,
            learned_sample: 0,
        })
    }

    /// Replaces the first-stage model (`None`: the rules alone judge the
    /// posts the encoder does not see).
    pub fn with_screen(mut self, screen: Option<Screen>) -> Self {
        self.screen = screen;
        self
    }

    /// Whether the learned first stage is on.
    pub fn has_screen(&self) -> bool {
        self.screen.is_some()
    }

    /// Adds the learned second stage: it scores the posts the rules mark
    /// as candidates (a finding) or uncertain (harm cues without a
    /// finding), and one in `sample_every` of the rest (0: none).
    pub fn with_learned(mut self, learned: rampart_learn::Learned, sample_every: u64) -> Self {
        self.learned = Some(learned);
        self.learned_sample = sample_every;
        if self.screen.is_none() {
            self.screen = Some(builtin_screen());
        }
        self
    }

    /// Whether the learned stage is on.
    pub fn has_learned(&self) -> bool {
        self.learned.is_some()
    }

    /// The rules' findings for one post (detection and registry).
    pub fn findings(&self, post: &Post) -> Findings {
        let content = post.content();
        let mut detection = self.detector.detect(&content);
        if matches!(content, std::borrow::Cow::Owned(_)) {
            place_media_evidence(&post.content_parts(), &content, &mut detection);
        }
        let s = &detection.signals;
        let weak = (!detection.labels.is_empty() || s.harm_cues > 0) && s.lawful_context < 0.5;
        let protected = match &self.registry {
            Some(r) => r
                .matches(&content, &detection)
                .into_iter()
                .map(|m| ProtectedMatch {
                    person_id: m.person_id,
                    fields: m.fields,
                    partial: m.partial,
                })
                .collect(),
            None => Vec::new(),
        };
        let screen = self.screen.as_ref().map(|m| m.score(&content));
        Findings {
            detection,
            protected,
            weak,
            screen,
        }
    }

    /// Whether the learned stage should score this post: a candidate or an
    /// uncertain post whose action its scores could still change (see
    /// [`Policy::needs_learned`]: a post a high-confidence rule already
    /// removes is not encoded), or one picked by the sample (a fixed hash
    /// of its id, so reruns pick the same posts).
    pub fn wants_learned(&self, post: &Post, f: &Findings) -> bool {
        if self.learned.is_none() {
            return false;
        }
        (f.is_candidate()
            && self
                .policy
                .needs_learned_with(&f.detection, &f.protected, f.screen_signals()))
            || (self.learned_sample > 0 && id_hash(&post.id).is_multiple_of(self.learned_sample))
    }

    /// Learned scores for a batch of texts (all cores).
    pub fn score_learned(&self, texts: &[&str]) -> anyhow::Result<Vec<LearnedScores>> {
        let Some(l) = &self.learned else {
            return Ok(vec![LearnedScores::default(); texts.len()]);
        };
        let scores = l.score_batch(texts)?;
        Ok(scores.iter().map(learned_scores).collect())
    }

    /// The policy's verdict from the findings (and learned scores), the
    /// entities, and whether an allowed post is weak.
    pub fn decide(
        &self,
        post: &Post,
        f: Findings,
        learned: Option<LearnedScores>,
    ) -> (Verdict, Vec<rampart_detect::Entity>, bool) {
        let entities = if f.detection.labels.is_empty() && !f.weak {
            Vec::new()
        } else {
            f.detection.entities.clone()
        };
        let screen = f.screen_signals();
        let labels = match (&self.screen, &f.screen) {
            (Some(m), Some(sc)) => learned_labels(m, sc, learned.as_ref(), &post.content()),
            _ => Vec::new(),
        };
        let judgement = Judgement {
            learned,
            screen,
            labels,
        };
        (
            Verdict::judged(&post.id, f.detection, f.protected, judgement, &self.policy),
            entities,
            f.weak,
        )
    }

    /// The verdict for one post: its `text` and the text recognised in its
    /// media ([`Post::content`]) are scanned together.
    pub fn verdict(&self, post: &Post) -> Verdict {
        self.verdict_entities_signal(post).0
    }

    /// The verdict, the entities, and whether an allowed post still carried
    /// a weak harm signal (a label below the policy's bar, or harm cues
    /// such as a payment word) without lawful context: it may join a
    /// campaign that is already reported, and is then raised to review.
    pub fn verdict_entities_signal(
        &self,
        post: &Post,
    ) -> (Verdict, Vec<rampart_detect::Entity>, bool) {
        let f = self.findings(post);
        let learned = if self.wants_learned(post, &f) {
            // One post alone: a failing encoder leaves the rules' verdict.
            self.score_learned(&[&post.content()])
                .ok()
                .and_then(|mut v| v.pop())
        } else {
            None
        };
        self.decide(post, f, learned)
    }

    /// A campaign detector whose stop words are the lexicons' entries (role
    /// words, agencies, verbs never identify a target).
    pub fn campaign_detector(&self) -> rampart_campaign::CampaignDetector {
        self.campaign_detector_with(rampart_campaign::CampaignConfig::default())
    }

    /// [`Scanner::campaign_detector`] with a chosen window and lateness.
    pub fn campaign_detector_with(
        &self,
        config: rampart_campaign::CampaignConfig,
    ) -> rampart_campaign::CampaignDetector {
        let stop = self
            .detector
            .lexicon()
            .entries()
            .iter()
            .map(|e| e.term.trim_end_matches('*'))
            .filter(|t| !t.contains(' '))
            .map(rampart_normalise::fold_term);
        rampart_campaign::CampaignDetector::new(config, stop)
    }

    /// Adds a protected-person registry: verdicts then name the people a
    /// post exposes (`protected_match`).
    pub fn with_registry(mut self, registry: ProtectedRegistry) -> Self {
        self.registry = Some(registry);
        self
    }

    /// The policy in force.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The detector.
    pub fn detector(&self) -> &Detector {
        &self.detector
    }
}

/// What a scan saw, for the summary.
#[derive(Debug, Default, Clone)]
pub struct Summary {
    /// Posts that got a verdict.
    pub posts: u64,
    /// Bad lines (contract section 5).
    pub bad_lines: u64,
    /// Blank lines skipped.
    pub blank_lines: u64,
    /// Verdicts per action.
    pub actions: BTreeMap<&'static str, u64>,
    /// Non-allowed verdicts per category.
    pub categories: BTreeMap<&'static str, u64>,
    /// Campaign records written (new campaigns and growth updates).
    pub campaign_updates: u64,
    /// Whether the learned stage ran (it is off when turned off or not
    /// installed).
    pub learned_stage: bool,
    /// Whether the learned first stage judged every post.
    pub screen_stage: bool,
    /// Posts the learned stage scored.
    pub learned_scored: u64,
    /// Of those, posts scored only as part of the sample of what the
    /// rules pass over (not candidates).
    pub learned_sampled: u64,
    /// Sampled posts the rules allowed but a learned harm head scored at
    /// 0.5 or more: an estimate of what the rules miss, for review of the
    /// rules (the policy decides what happens to the posts themselves).
    pub learned_sample_flagged: u64,
    /// Candidates not encoded because a policy rule that does not read the
    /// learned scores already decides them (a high-confidence removal).
    pub learned_skipped: u64,
    /// Wall time.
    pub elapsed: Duration,
}

impl Summary {
    /// Posts per second over the whole run.
    pub fn posts_per_second(&self) -> f64 {
        self.posts as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// The summary as one JSON object.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "kind": "summary",
            "posts": self.posts,
            "bad_lines": self.bad_lines,
            "blank_lines": self.blank_lines,
            "actions": self.actions,
            "categories": self.categories,
            "campaign_updates": self.campaign_updates,
            "learned_stage": if self.learned_stage { "on" } else { "off" },
            "screen_stage": if self.screen_stage { "on" } else { "off" },
            "learned_scored": self.learned_scored,
            "learned_sampled": self.learned_sampled,
            "learned_sample_flagged": self.learned_sample_flagged,
            "learned_skipped": self.learned_skipped,
            "seconds": self.elapsed.as_secs_f64(),
            "posts_per_second": self.posts_per_second().round(),
        })
    }
}

/// Scans one post and feeds it to the campaign detector (when given):
/// the verdict (raised to review when a weak post joins a harmful
/// campaign) and the campaign record it created or grew, if any. The one
/// step `rampart scan` and `rampart serve` share.
pub fn scan_post(
    scanner: &Scanner,
    campaigns: Option<&mut rampart_campaign::CampaignDetector>,
    post: &Post,
) -> (Verdict, Option<rampart_campaign::Campaign>) {
    let decided = scanner.verdict_entities_signal(post);
    observe_campaign(campaigns, post, decided)
}

/// Moves the evidence that detection found in a post's media text (past
/// the post's own text in [`Post::content`]) from `evidence` to
/// `media_evidence`, re-counted from the start of that media's OCR text,
/// so `evidence` always indexes the post's `text`.
fn place_media_evidence(
    parts: &[(Option<usize>, usize, usize)],
    content: &str,
    detection: &mut rampart_detect::Detection,
) {
    for label in &mut detection.labels {
        let all = std::mem::take(&mut label.evidence);
        for mut ev in all {
            // The part the span starts in; a span never runs past it.
            let Some(&(media, start, len)) =
                parts.iter().rev().find(|&&(_, start, _)| start <= ev.start)
            else {
                continue;
            };
            let end = ev.end.min(start + len);
            if ev.start >= end {
                continue; // only the separator
            }
            if end != ev.end {
                ev.text = rampart_normalise::char_slice(content, ev.start, end).to_string();
            }
            ev.start -= start;
            ev.end = end - start;
            ev.media = media;
            match media {
                None => label.evidence.push(ev),
                Some(_) => label.media_evidence.push(ev),
            }
        }
    }
}

/// Feeds a decided post to the campaign detector; a weak post that joins
/// a harmful campaign is raised to review.
pub fn observe_campaign(
    campaigns: Option<&mut rampart_campaign::CampaignDetector>,
    post: &Post,
    (mut verdict, entities, weak): (Verdict, Vec<rampart_detect::Entity>, bool),
) -> (Verdict, Option<rampart_campaign::Campaign>) {
    let facts = rampart_campaign::PostFacts {
        id: &post.id,
        author: &post.author,
        created_at: post.created_at,
        group: post.group.as_deref(),
        reply_to: post.reply_to.as_deref(),
        text: &post.content(),
        entities: &entities,
        harmful: verdict.action != Action::Allow,
        weak_signal: weak,
        categories: verdict.labels.iter().map(|l| l.category.as_str()).collect(),
        protected: verdict
            .protected_match
            .iter()
            .map(|m| m.person_id.clone())
            .collect(),
        bounty: verdict
            .labels
            .iter()
            .any(|l| l.category == rampart_detect::Category::Bounty),
    };
    let campaign = campaigns.and_then(|c| c.observe(&facts));
    if campaign.is_some() && verdict.action == Action::Allow {
        // A weak post inside a harmful campaign gets a look.
        verdict.action = Action::Review;
        verdict.rules.push("campaign.member".into());
    }
    (verdict, campaign)
}

/// A learned finding is made in a category at this probability or above
/// (the first stage's, averaged with the encoder heads' where they ran).
pub const LEARNED_LABEL: f64 = 0.5;

/// Findings the learned stages make: one label per category whose
/// probability reaches [`LEARNED_LABEL`], scored by it, with the words
/// that raised it most as evidence (spans of the original text) and, for
/// a bounty, the tier its tier heads prefer. The verdict keeps them only
/// when no rule found anything and the action is not `allow`.
pub fn learned_labels(
    model: &Screen,
    sc: &ScreenScores,
    heads: Option<&LearnedScores>,
    content: &str,
) -> Vec<rampart_detect::Label> {
    use rampart_detect::{BountyTier, Category, Evidence, Label};
    let mut out = Vec::new();
    let mut folded = None;
    for c in Category::ALL {
        let own = f64::from(sc.get(c.as_str()));
        let p = match heads {
            Some(h) => {
                let head = match c {
                    Category::Threat => h.threat,
                    Category::Bounty => h.bounty,
                    Category::Doxxing => h.doxxing,
                    Category::TargetedSurveillance => h.targeted_surveillance,
                };
                (own + head) / 2.0
            }
            None => own,
        };
        if p < LEARNED_LABEL {
            continue;
        }
        let n = folded.get_or_insert_with(|| rampart_normalise::normalise(content));
        let evidence = model
            .top_tokens(n.folded.as_str(), c.as_str(), 3, 0.05)
            .into_iter()
            .filter_map(|(s, e, _)| n.folded.original_span(s, e))
            .filter_map(|(s, e)| {
                let text: String = content.chars().skip(s).take(e - s).collect();
                (!text.is_empty()).then_some(Evidence {
                    start: s,
                    end: e,
                    text,
                    role: "cue",
                    media: None,
                })
            })
            .collect();
        let tier = (c == Category::Bounty).then(|| {
            let (lethal, assault) = (sc.get("lethal"), sc.get("assault"));
            if lethal >= 0.5 && lethal >= assault {
                BountyTier::Lethal
            } else if assault >= 0.5 {
                BountyTier::Assault
            } else {
                BountyTier::Info
            }
        });
        out.push(Label {
            category: c,
            score: (p * 1000.0).round() / 1000.0,
            tier,
            evidence,
            media_evidence: Vec::new(),
        });
    }
    out
}

/// The policy's view of the heads' output (head name → probability).
pub fn learned_scores(heads: &BTreeMap<String, f32>) -> LearnedScores {
    let g = |k: &str| f64::from(heads.get(k).copied().unwrap_or(0.0));
    LearnedScores {
        threat: g("threat"),
        bounty: g("bounty"),
        doxxing: g("doxxing"),
        targeted_surveillance: g("targeted_surveillance"),
        lawful: g("lawful"),
    }
}

/// Fixed 64-bit hash of a post id (FNV-1a), for sampling.
fn id_hash(id: &str) -> u64 {
    id.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Posts read ahead when the learned stage is on, so its encoder runs in
/// batches across cores; verdicts still come out in input order.
const CASCADE_CHUNK: usize = 4096;

/// Scans a JSONL stream: one verdict per valid line to `out`, in order; one
/// error record per bad line to `errors`. `on_bytes` is told how many input
/// bytes have been consumed (for a progress bar).
pub fn scan_stream<R: BufRead, W: Write, E: Write>(
    scanner: &Scanner,
    input: R,
    max_line_bytes: usize,
    out: &mut W,
    errors: &mut E,
    on_progress: impl FnMut(u64),
) -> io::Result<Summary> {
    let mut campaigns = scanner.campaign_detector();
    scan_stream_with(
        scanner,
        Some(&mut campaigns),
        input,
        max_line_bytes,
        out,
        errors,
        on_progress,
        true,
    )
}

/// [`scan_stream`] with a campaign detector the caller keeps (restored
/// from a checkpoint, or to checkpoint afterwards). `flush` writes the
/// final update of every grown campaign at the end; leave it off when the
/// stream will continue after a checkpoint.
#[allow(clippy::too_many_arguments)]
pub fn scan_stream_with<R: BufRead, W: Write, E: Write>(
    scanner: &Scanner,
    mut campaigns: Option<&mut rampart_campaign::CampaignDetector>,
    input: R,
    max_line_bytes: usize,
    out: &mut W,
    errors: &mut E,
    mut on_progress: impl FnMut(u64),
    flush: bool,
) -> io::Result<Summary> {
    let started = Instant::now();
    let mut summary = Summary {
        learned_stage: scanner.has_learned(),
        screen_stage: scanner.has_screen(),
        ..Summary::default()
    };
    for a in Action::ALL {
        summary.actions.insert(a.as_str(), 0);
    }
    let mut reader = JsonlReader::with_limit(input, max_line_bytes);
    let mut line_buf = Vec::with_capacity(512);
    // With the learned stage on, posts go in chunks through two stages
    // that overlap: while one chunk's verdicts are decided and written in
    // order (campaign detection needs one thread), the next chunk's rules
    // and encoder run on the other cores.
    let pipelined = scanner.has_learned();
    let mut sink = Sink {
        out: &mut *out,
        errors: &mut *errors,
        line_buf: &mut line_buf,
        summary: &mut summary,
        on_progress: &mut on_progress,
    };
    if !pipelined {
        // Rules only: one post at a time, nothing read ahead.
        for record in reader.by_ref() {
            let record = record?;
            let f = match &record {
                Record::Post(_, post) => Some(scanner.findings(post)),
                Record::Error(_) => None,
            };
            emit_one(
                scanner,
                campaigns.as_deref_mut(),
                &record,
                f,
                None,
                &mut sink,
            )?;
        }
    } else {
        let mut pending: Option<Scored> = None;
        loop {
            let mut records: Vec<Record> = Vec::with_capacity(CASCADE_CHUNK);
            for record in reader.by_ref() {
                records.push(record?);
                if records.len() >= CASCADE_CHUNK {
                    break;
                }
            }
            let done = records.is_empty();
            let mut next: Option<io::Result<Scored>> = None;
            let mut emitted = Ok(());
            rayon::in_place_scope(|s| {
                if !done {
                    let next = &mut next;
                    s.spawn(move |_| *next = Some(score_chunk(scanner, records)));
                }
                if let Some(p) = pending.take() {
                    emitted = emit_chunk(scanner, campaigns.as_deref_mut(), p, &mut sink);
                }
            });
            emitted?;
            let Some(scored) = next else { break };
            let scored = scored?;
            sink.summary.learned_scored += scored.learned.iter().flatten().count() as u64;
            pending = Some(scored);
        }
    }
    let last: Vec<rampart_campaign::Campaign> = match campaigns {
        Some(c) if flush => c.flush(),
        _ => Vec::new(),
    };
    for c in last {
        summary.campaign_updates += 1;
        line_buf.clear();
        serde_json::to_writer(&mut line_buf, &c).map_err(io::Error::other)?;
        line_buf.push(b'\n');
        out.write_all(&line_buf)?;
    }
    summary.blank_lines = reader.blank_lines();
    out.flush()?;
    summary.elapsed = started.elapsed();
    Ok(summary)
}

/// A chunk of records with the rules' findings and the learned scores.
struct Scored {
    records: Vec<Record>,
    findings: Vec<Option<Findings>>,
    learned: Vec<Option<LearnedScores>>,
}

/// Stage one: the rules on every post (on all cores: they are pure per
/// post), then the learned stage on the posts it wants, in one batch.
fn score_chunk(scanner: &Scanner, records: Vec<Record>) -> io::Result<Scored> {
    use rayon::prelude::*;
    let findings: Vec<Option<Findings>> = records
        .par_iter()
        .map(|r| match r {
            Record::Post(_, post) => Some(scanner.findings(post)),
            Record::Error(_) => None,
        })
        .collect();
    let mut learned: Vec<Option<LearnedScores>> = vec![None; records.len()];
    let wanted: Vec<(usize, std::borrow::Cow<'_, str>)> = records
        .iter()
        .zip(&findings)
        .enumerate()
        .filter_map(|(i, pair)| match pair {
            (Record::Post(_, p), Some(f)) if scanner.wants_learned(p, f) => Some((i, p.content())),
            _ => None,
        })
        .collect();
    if !wanted.is_empty() {
        let texts: Vec<&str> = wanted.iter().map(|(_, t)| t.as_ref()).collect();
        let scores = scanner.score_learned(&texts).map_err(io::Error::other)?;
        for (&(i, _), sc) in wanted.iter().zip(scores) {
            learned[i] = Some(sc);
        }
    }
    Ok(Scored {
        records,
        findings,
        learned,
    })
}

/// Where stage two writes.
struct Sink<'a, W, E, P> {
    out: &'a mut W,
    errors: &'a mut E,
    line_buf: &'a mut Vec<u8>,
    summary: &'a mut Summary,
    on_progress: &'a mut P,
}

/// Stage two, in input order: the policy's verdict, campaign detection,
/// and the output lines.
fn emit_chunk<W: Write, E: Write, P: FnMut(u64)>(
    scanner: &Scanner,
    mut campaigns: Option<&mut rampart_campaign::CampaignDetector>,
    scored: Scored,
    sink: &mut Sink<'_, W, E, P>,
) -> io::Result<()> {
    let Scored {
        records,
        findings,
        learned,
    } = scored;
    for ((record, f), learned) in records.iter().zip(findings).zip(learned) {
        emit_one(scanner, campaigns.as_deref_mut(), record, f, learned, sink)?;
    }
    Ok(())
}

/// Stage two for one record.
fn emit_one<W: Write, E: Write, P: FnMut(u64)>(
    scanner: &Scanner,
    mut campaigns: Option<&mut rampart_campaign::CampaignDetector>,
    record: &Record,
    findings: Option<Findings>,
    learned: Option<LearnedScores>,
    sink: &mut Sink<'_, W, E, P>,
) -> io::Result<()> {
    let summary = &mut *sink.summary;
    let line_buf = &mut *sink.line_buf;
    match record {
        Record::Post(_, post) => {
            let f = findings.expect("findings for every post");
            let candidate = f.is_candidate();
            if candidate && learned.is_none() && scanner.has_learned() {
                summary.learned_skipped += 1;
            }
            let sampled = learned.filter(|_| !candidate);
            let decided = scanner.decide(post, f, learned);
            let (verdict, campaign) = observe_campaign(campaigns.as_deref_mut(), post, decided);
            if let Some(l) = sampled {
                summary.learned_sampled += 1;
                if l.harm() >= 0.5 && verdict.action == Action::Allow {
                    summary.learned_sample_flagged += 1;
                }
            }
            summary.posts += 1;
            *summary.actions.entry(verdict.action.as_str()).or_default() += 1;
            for l in &verdict.labels {
                *summary.categories.entry(l.category.as_str()).or_default() += 1;
            }
            line_buf.clear();
            serde_json::to_writer(&mut *line_buf, &verdict).map_err(io::Error::other)?;
            line_buf.push(b'\n');
            sink.out.write_all(line_buf)?;
            let finished = campaigns
                .as_mut()
                .map(|c| c.take_finished())
                .unwrap_or_default();
            for c in campaign.into_iter().chain(finished) {
                summary.campaign_updates += 1;
                line_buf.clear();
                serde_json::to_writer(&mut *line_buf, &c).map_err(io::Error::other)?;
                line_buf.push(b'\n');
                sink.out.write_all(line_buf)?;
            }
        }
        Record::Error(err) => {
            summary.bad_lines += 1;
            write_error(sink.errors, err)?;
        }
    }
    if (summary.posts + summary.bad_lines).is_multiple_of(4096) {
        (sink.on_progress)(summary.posts + summary.bad_lines);
    }
    Ok(())
}

/// Writes one bad-line record (contract section 5) as a JSON line.
pub fn write_error<E: Write>(errors: &mut E, err: &LineError) -> io::Result<()> {
    let rec =
        serde_json::json!({"kind": "error", "line": err.line, "reason": err.kind.to_string()});
    writeln!(errors, "{rec}")
}
