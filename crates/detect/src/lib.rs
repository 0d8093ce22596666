//! Detection: pure functions from a post's text to findings.
//!
//! The text is normalised ([`rampart_normalise`]), matched against the
//! lexicons ([`lexicon`]) and the extractors ([`extract`]), and the signals
//! are combined by [`assess`] into per-category scores, a bounty tier, the
//! rule ids that fired and evidence spans into the original text. No I/O,
//! no clock, no global mutable state: the same text always gives the same
//! findings, in `scan`, in the server and in a worker.

pub mod assess;
pub mod extract;
pub mod lexicon;
pub mod numbers;

use serde::Serialize;

pub use assess::{Signals, MAX_SPANS_PER_ROLE};
pub use extract::{Entity, EntityKind};
pub use lexicon::{Class, Hit, Lexicon, LexiconError};

/// A harm category (contract section 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// A threat of violence.
    Threat,
    /// Money or rewards offered for harm or for a person's details.
    Bounty,
    /// A person's private details published.
    Doxxing,
    /// Reports or requests of a named person's whereabouts.
    TargetedSurveillance,
}

impl Category {
    /// All categories, in output order.
    pub const ALL: [Category; 4] = [
        Category::Threat,
        Category::Bounty,
        Category::Doxxing,
        Category::TargetedSurveillance,
    ];

    /// The contract's name for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Threat => "threat",
            Category::Bounty => "bounty",
            Category::Doxxing => "doxxing",
            Category::TargetedSurveillance => "targeted_surveillance",
        }
    }
}

/// The kind of harm a bounty pays for (contract section 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum BountyTier {
    /// Paying for a person's details or movements.
    Info,
    /// Paying for kidnapping, beating or another non-lethal attack.
    Assault,
    /// Paying for a killing.
    Lethal,
}

impl BountyTier {
    /// The contract's name for it.
    pub fn as_str(self) -> &'static str {
        match self {
            BountyTier::Info => "info",
            BountyTier::Assault => "assault",
            BountyTier::Lethal => "lethal",
        }
    }
}

/// A span of the original text that justifies a finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evidence {
    /// Character offset (Unicode scalar values) into the original text.
    pub start: usize,
    /// Exclusive end, in characters.
    pub end: usize,
    /// The original text of the span.
    pub text: String,
    /// What the span is: `payment`, `act`, `solicitation`, `target`,
    /// `personal_data`, `location`, `menace`, `intent`.
    pub role: &'static str,
    /// Set when the span lies in the text recognised in one of the post's
    /// media (its index in `media`): `start`/`end` then count characters
    /// of that `ocr_text`, not of the post's `text`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub media: Option<usize>,
}

/// One category's finding.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Label {
    /// The category.
    pub category: Category,
    /// Confidence in `[0, 1]`.
    pub score: f64,
    /// Bounty tier (bounty only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tier: Option<BountyTier>,
    /// Evidence spans into the original text.
    pub evidence: Vec<Evidence>,
    /// Evidence spans into the text recognised in the post's media (each
    /// names its media index); kept apart so `evidence` always indexes
    /// the post's `text`, as the contract says.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub media_evidence: Vec<Evidence>,
}

/// Everything detection found in one text.
#[derive(Debug, Clone, Default)]
pub struct Detection {
    /// Findings, one per category that scored above zero.
    pub labels: Vec<Label>,
    /// Ids of the detection rules that fired.
    pub rules: Vec<String>,
    /// The signals, for the policy.
    pub signals: Signals,
    /// Extracted entities (identifiers are used by the registry).
    pub entities: Vec<Entity>,
    /// The normalised text, kept so later stages (the registry) need not
    /// normalise again.
    pub norm: rampart_normalise::NormalisedText,
}

impl Detection {
    /// The label of a category, if found.
    pub fn label(&self, c: Category) -> Option<&Label> {
        self.labels.iter().find(|l| l.category == c)
    }
}

/// The detector: compiled lexicons and patterns, shared read-only.
pub struct Detector {
    lexicon: Lexicon,
}

impl Detector {
    /// A detector with the built-in lexicons.
    pub fn new() -> Result<Self, LexiconError> {
        Ok(Detector {
            lexicon: Lexicon::builtin()?,
        })
    }

    /// A detector with the given lexicons.
    pub fn with_lexicon(lexicon: Lexicon) -> Self {
        Detector { lexicon }
    }

    /// The compiled lexicons.
    pub fn lexicon(&self) -> &Lexicon {
        &self.lexicon
    }

    /// Detects harm in `text`.
    pub fn detect(&self, text: &str) -> Detection {
        let norm = rampart_normalise::normalise(text);
        let hits = self.lexicon.scan(&norm);
        let entities = extract::extract(text, &norm);
        let mut detection = assess::assess(text, &norm, &hits, entities);
        detection.norm = norm;
        detection
    }
}
