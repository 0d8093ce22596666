//! Decide: maps a post's detection signals to an action with a policy file
//! (TOML holding CEL expressions) and builds the verdict record of contract
//! section 2.
//!
//! Policy is data, so a safety team can change thresholds without
//! recompiling. A policy that does not parse, or whose expression does not
//! compile, is rejected when it is loaded, naming the file, line and reason.

use std::path::Path;
use std::sync::Arc;

use cel::{Context, Program, Value};
use rampart_detect::{Detection, Label};
use serde::{Deserialize, Serialize};

/// The default policy shipped with rampart.
pub const DEFAULT_POLICY: &str = include_str!("../../../policy/default.toml");

/// What to do with a post.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Leave it up.
    Allow,
    /// A person should look.
    Review,
    /// Take it down.
    Remove,
    /// Take it down, urgent human attention, a case ready for referral.
    Escalate,
}

impl Action {
    /// All actions, mildest first.
    pub const ALL: [Action; 4] = [
        Action::Allow,
        Action::Review,
        Action::Remove,
        Action::Escalate,
    ];

    /// The contract's name for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Allow => "allow",
            Action::Review => "review",
            Action::Remove => "remove",
            Action::Escalate => "escalate",
        }
    }
}

/// Errors loading a policy.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// The file could not be read.
    #[error("{file}: {source}")]
    Io {
        /// The file.
        file: String,
        /// The reason.
        source: std::io::Error,
    },
    /// Bad TOML or a bad field.
    #[error("{file}:{line}: {reason}")]
    Invalid {
        /// The file.
        file: String,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        reason: String,
    },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    name: String,
    version: u32,
    #[serde(default)]
    reasons: Vec<String>,
    #[serde(default)]
    rules: Vec<RuleFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    id: String,
    action: Action,
    when: String,
}

struct Rule {
    id: String,
    action: Action,
    program: Program,
    /// The expression reads a `learned*` variable.
    reads_learned: bool,
}

/// A compiled policy.
pub struct Policy {
    name: String,
    version: u32,
    reasons: Vec<String>,
    rules: Vec<Rule>,
    env: Arc<cel::Env>,
}

/// The post-level inputs the policy sees beside detection.
#[derive(Debug, Clone, Default)]
pub struct Extra {
    /// The post exposes a registered protected person (a full identifier).
    pub protected: bool,
    /// The post partly exposes one (a street without number, a family
    /// member's name): review, not removal.
    pub protected_partial: bool,
    /// The learned stage's scores, when it scored this post.
    pub learned: Option<LearnedScores>,
    /// Harm cues the rules saw (see `Signals::harm_cues`).
    pub harm_cues: usize,
    /// The learned first stage's scores (every post, when it is on).
    pub screen: Option<ScreenSignals>,
}

/// What the learned stages add to the rules' detection for one post.
#[derive(Debug, Clone, Default)]
pub struct Judgement {
    /// The encoder heads' scores, when they scored the post.
    pub learned: Option<LearnedScores>,
    /// The first stage's scores, when it is on.
    pub screen: Option<ScreenSignals>,
    /// Findings of the learned stages, with the words that raised them
    /// as evidence: reported when no rule found anything.
    pub labels: Vec<Label>,
}

/// Probabilities from the learned first stage (hashed n-grams of every
/// post), in `[0, 1]`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ScreenSignals {
    /// The post is harmful (any category).
    pub harm: f64,
    /// Threat.
    pub threat: f64,
    /// Bounty.
    pub bounty: f64,
    /// Doxxing.
    pub doxxing: f64,
    /// Targeted surveillance.
    pub targeted_surveillance: f64,
}

impl ScreenSignals {
    /// The probability of one category.
    pub fn of(&self, c: rampart_detect::Category) -> f64 {
        use rampart_detect::Category::*;
        match c {
            Threat => self.threat,
            Bounty => self.bounty,
            Doxxing => self.doxxing,
            TargetedSurveillance => self.targeted_surveillance,
        }
    }
}

/// Probabilities from the learned second stage (its heads), in `[0, 1]`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct LearnedScores {
    /// Threat head.
    pub threat: f64,
    /// Bounty head.
    pub bounty: f64,
    /// Doxxing head.
    pub doxxing: f64,
    /// Targeted-surveillance head.
    pub targeted_surveillance: f64,
    /// Lawful-context head (news, official reward, game, idiom...).
    pub lawful: f64,
}

impl LearnedScores {
    /// The largest harm head.
    pub fn harm(&self) -> f64 {
        self.threat
            .max(self.bounty)
            .max(self.doxxing)
            .max(self.targeted_surveillance)
    }
}

impl Policy {
    /// The built-in default policy.
    pub fn default_policy() -> Self {
        Self::parse("policy/default.toml", DEFAULT_POLICY).expect("the shipped policy is valid")
    }

    /// Loads a policy from a file.
    pub fn load(path: &Path) -> Result<Self, PolicyError> {
        let src = std::fs::read_to_string(path).map_err(|source| PolicyError::Io {
            file: path.display().to_string(),
            source,
        })?;
        Self::parse(&path.display().to_string(), &src)
    }

    /// Parses policy source; `file` names it in errors.
    pub fn parse(file: &str, src: &str) -> Result<Self, PolicyError> {
        let invalid = |line: usize, reason: String| PolicyError::Invalid {
            file: file.to_string(),
            line,
            reason,
        };
        let parsed: PolicyFile = toml::from_str(src).map_err(|e| {
            let line = e.span().map(|s| line_of(src, s.start)).unwrap_or(1);
            invalid(line, e.message().to_string())
        })?;
        let env = Arc::new(cel::Env::stdlib());
        let mut rules: Vec<Rule> = Vec::new();
        for r in parsed.rules {
            let line = src.find(&r.when).map(|at| line_of(src, at)).unwrap_or(1);
            if rules.iter().any(|seen| seen.id == r.id) {
                let at = src.match_indices(&format!("\"{}\"", r.id)).nth(1);
                let line = at.map(|(i, _)| line_of(src, i)).unwrap_or(line);
                return Err(invalid(line, format!("rule id `{}` is used twice", r.id)));
            }
            check_expression_shape(&r.when)
                .map_err(|reason| invalid(line, format!("rule `{}`: {reason}", r.id)))?;
            let program = env.compile(&r.when).map_err(|e| {
                invalid(
                    line,
                    format!("rule `{}`: CEL expression does not compile: {e}", r.id),
                )
            })?;
            for var in program.references().variables() {
                if !KNOWN_VARIABLES.contains(&var) {
                    return Err(invalid(
                        line,
                        format!(
                            "rule `{}`: unknown variable `{var}` (known: {})",
                            r.id,
                            KNOWN_VARIABLES.join(", ")
                        ),
                    ));
                }
            }
            let reads_learned = program
                .references()
                .variables()
                .iter()
                .any(|v| v.starts_with("learned") || *v == "judge_harm");
            rules.push(Rule {
                id: r.id,
                action: r.action,
                program,
                reads_learned,
            });
        }
        let policy = Policy {
            name: parsed.name,
            version: parsed.version,
            reasons: parsed.reasons,
            rules,
            env,
        };
        // Evaluate every rule once on empty signals so a type error (a string
        // compared with a number, say) is caught at start-up, not mid-stream.
        for r in &policy.rules {
            let ctx = policy.context(&Detection::default(), &Extra::default());
            let line = || src.find(&r.id).map(|at| line_of(src, at)).unwrap_or(1);
            match r.program.execute(&ctx) {
                Err(e) => return Err(invalid(line(), format!("rule `{}`: {e}", r.id))),
                // A `when` that is not a condition (`when = "bounty"`)
                // would never match and silently allow every post.
                Ok(Value::Bool(_)) => {}
                Ok(other) => {
                    return Err(invalid(
                        line(),
                        format!(
                            "rule `{}`: `when` must be a condition (true or false), not a {}",
                            r.id,
                            value_kind(&other)
                        ),
                    ))
                }
            }
        }
        Ok(policy)
    }

    /// `name@version`, as written in verdicts.
    pub fn label(&self) -> String {
        format!("{}@{}", self.name, self.version)
    }

    /// The reasons reviewers may give.
    pub fn reasons(&self) -> &[String] {
        &self.reasons
    }

    fn context(&self, d: &Detection, extra: &Extra) -> Context<'_, '_> {
        let s = &d.signals;
        let mut ctx = Context::with_env(self.env.clone());
        let max = rules_max(d);
        ctx.add_variable_from_value("threat", s.threat);
        ctx.add_variable_from_value("bounty", s.bounty);
        ctx.add_variable_from_value("doxxing", s.doxxing);
        ctx.add_variable_from_value("targeted_surveillance", s.targeted_surveillance);
        ctx.add_variable_from_value("max_score", max);
        ctx.add_variable_from_value("tier", s.tier.map(|t| t.as_str()).unwrap_or(""));
        ctx.add_variable_from_value("lawful_context", s.lawful_context);
        ctx.add_variable_from_value("identified_target", s.identified_target);
        ctx.add_variable_from_value("lethal_act", s.lethal_act);
        ctx.add_variable_from_value("personal_data", s.personal_data);
        ctx.add_variable_from_value("protected", extra.protected);
        ctx.add_variable_from_value("protected_partial", extra.protected_partial);
        let l = extra.learned.unwrap_or_default();
        ctx.add_variable_from_value("learned", extra.learned.is_some());
        ctx.add_variable_from_value("learned_threat", l.threat);
        ctx.add_variable_from_value("learned_bounty", l.bounty);
        ctx.add_variable_from_value("learned_doxxing", l.doxxing);
        ctx.add_variable_from_value("learned_targeted_surveillance", l.targeted_surveillance);
        ctx.add_variable_from_value("learned_harm", l.harm());
        ctx.add_variable_from_value("learned_lawful", l.lawful);
        ctx.add_variable_from_value("harm_cues", extra.harm_cues as i64);
        ctx.add_variable_from_value("judge_harm", extra.judge_harm(max));
        let sc = extra.screen.unwrap_or_default();
        ctx.add_variable_from_value("screen", extra.screen.is_some());
        ctx.add_variable_from_value("screen_harm", sc.harm);
        ctx.add_variable_from_value("screen_threat", sc.threat);
        ctx.add_variable_from_value("screen_bounty", sc.bounty);
        ctx.add_variable_from_value("screen_doxxing", sc.doxxing);
        ctx.add_variable_from_value("screen_targeted_surveillance", sc.targeted_surveillance);
        let rules: Vec<Value> = d.rules.iter().map(|r| Value::from(r.as_str())).collect();
        ctx.add_variable_from_value("rules", rules);
        ctx
    }

    /// Decides the action for a detection. Returns the action and the id of
    /// the policy rule that decided it (`None` for the default allow).
    pub fn decide(&self, d: &Detection, extra: &Extra) -> (Action, Option<&str>) {
        // Without a finding, a protected match or a learned score there is
        // nothing for a rule to weigh.
        if d.labels.is_empty()
            && !extra.protected
            && !extra.protected_partial
            && extra.learned.is_none()
            && extra.screen.is_none()
        {
            return (Action::Allow, None);
        }
        let ctx = self.context(d, extra);
        for r in &self.rules {
            // A rule that errors at run time is skipped: checked at load, so
            // this only happens for inputs the check could not foresee.
            if let Ok(Value::Bool(true)) = r.program.execute(&ctx) {
                return (r.action, Some(&r.id));
            }
        }
        (Action::Allow, None)
    }
}

impl Policy {
    /// Whether the learned stage's scores could change the action for this
    /// detection: false when a rule that does not read them decides before
    /// any rule that does (or when no rule reads them). Rules are tried in
    /// order, so such a post gets the same action whatever the heads say,
    /// and the encoder need not run on it.
    pub fn needs_learned(&self, d: &Detection, protected_match: &[ProtectedMatch]) -> bool {
        self.needs_learned_with(d, protected_match, None)
    }

    /// [`Policy::needs_learned`] when the first stage has scored the post.
    pub fn needs_learned_with(
        &self,
        d: &Detection,
        protected_match: &[ProtectedMatch],
        screen: Option<ScreenSignals>,
    ) -> bool {
        let mut extra = Extra::for_post(d, protected_match, None);
        extra.screen = screen;
        let ctx = self.context(d, &extra);
        for r in &self.rules {
            if r.reads_learned {
                return true;
            }
            if let Ok(Value::Bool(true)) = r.program.execute(&ctx) {
                return false;
            }
        }
        false
    }
}

impl Extra {
    /// The learned judgement of harm, in `[0, 1]`: the first stage's harm
    /// probability, averaged with the encoder heads' (one minus their
    /// lawful probability) where they scored the post. With neither on,
    /// the rules judge alone: `rules_max` (their largest score).
    pub fn judge_harm(&self, rules_max: f64) -> f64 {
        let screen = self.screen.map(|s| s.harm);
        let heads = self.learned.map(|l| 1.0 - l.lawful);
        match (screen, heads) {
            (Some(s), Some(h)) => (s + h) / 2.0,
            (Some(x), None) | (None, Some(x)) => x,
            (None, None) => rules_max,
        }
    }

    /// The policy's inputs for one post beside its detection.
    pub fn for_post(
        d: &Detection,
        protected_match: &[ProtectedMatch],
        learned: Option<LearnedScores>,
    ) -> Self {
        Extra {
            protected: protected_match.iter().any(|m| !m.partial),
            protected_partial: protected_match.iter().any(|m| m.partial),
            learned,
            harm_cues: d.signals.harm_cues,
            screen: None,
        }
    }
}

/// The longest `when` expression accepted, in bytes.
pub const MAX_EXPRESSION_BYTES: usize = 4096;
/// The most terms (names and literals) in one `when` expression.
pub const MAX_EXPRESSION_TERMS: usize = 500;
/// The deepest nesting of parentheses, brackets and braces.
pub const MAX_EXPRESSION_DEPTH: usize = 24;

/// Refuses expressions too large or too deep to evaluate cheaply on every
/// post: over the size, term or nesting limits, or a comprehension
/// (`all`, `exists`, `exists_one`, `map`, `filter`) inside another, whose
/// cost multiplies. Strings are skipped, so their contents count as one
/// term.
pub fn check_expression_shape(expr: &str) -> Result<(), String> {
    if expr.len() > MAX_EXPRESSION_BYTES {
        return Err(format!(
            "expression is {} bytes, over the limit of {MAX_EXPRESSION_BYTES}",
            expr.len()
        ));
    }
    const MACROS: [&str; 5] = ["all", "exists", "exists_one", "map", "filter"];
    let bytes = expr.as_bytes();
    let mut stack: Vec<bool> = Vec::new(); // per open bracket: opens a macro call
    let (mut terms, mut i, mut word_start) = (0usize, 0usize, None::<usize>);
    while i < bytes.len() {
        let c = bytes[i];
        let in_word = c.is_ascii_alphanumeric() || c == b'_';
        match (in_word, word_start) {
            (true, None) => word_start = Some(i),
            (false, Some(_)) => {
                word_start = None;
                terms += 1;
            }
            _ => {}
        }
        match c {
            b'\'' | b'"' => {
                // Skip a string literal (escapes included).
                let mut j = i + 1;
                while j < bytes.len() && bytes[j] != c {
                    j += if bytes[j] == b'\\' { 2 } else { 1 };
                }
                terms += 1;
                i = j + 1;
                continue;
            }
            b'(' | b'[' | b'{' => {
                let name_end = i;
                let name_start = expr[..name_end]
                    .rfind(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_'))
                    .map(|p| p + 1)
                    .unwrap_or(0);
                let is_macro = c == b'('
                    && name_start > 0
                    && bytes[name_start - 1] == b'.'
                    && MACROS.contains(&&expr[name_start..name_end]);
                if is_macro && stack.iter().any(|m| *m) {
                    return Err(
                        "a comprehension inside another is not allowed (its cost multiplies)"
                            .into(),
                    );
                }
                stack.push(is_macro);
                if stack.len() > MAX_EXPRESSION_DEPTH {
                    return Err(format!("nesting deeper than {MAX_EXPRESSION_DEPTH}"));
                }
            }
            b')' | b']' | b'}' => {
                stack.pop();
            }
            _ => {}
        }
        i += 1;
    }
    if word_start.is_some() {
        terms += 1;
    }
    if terms > MAX_EXPRESSION_TERMS {
        return Err(format!(
            "expression has {terms} terms, over the limit of {MAX_EXPRESSION_TERMS}"
        ));
    }
    Ok(())
}

/// A CEL value's type, for messages.
fn value_kind(v: &Value) -> &'static str {
    match v {
        Value::Int(_) | Value::UInt(_) | Value::Float(_) => "number",
        Value::String(_) => "string",
        Value::List(_) => "list",
        Value::Map(_) => "map",
        Value::Null => "null",
        _ => "value of another type",
    }
}

/// Variables a policy expression may use.
pub const KNOWN_VARIABLES: [&str; 28] = [
    "threat",
    "bounty",
    "doxxing",
    "targeted_surveillance",
    "max_score",
    "tier",
    "lawful_context",
    "identified_target",
    "lethal_act",
    "personal_data",
    "protected",
    "protected_partial",
    "rules",
    "harm_cues",
    "learned",
    "learned_threat",
    "learned_bounty",
    "learned_doxxing",
    "learned_targeted_surveillance",
    "learned_harm",
    "learned_lawful",
    "judge_harm",
    "screen",
    "screen_harm",
    "screen_threat",
    "screen_bounty",
    "screen_doxxing",
    "screen_targeted_surveillance",
];

fn line_of(src: &str, byte: usize) -> usize {
    src[..byte.min(src.len())]
        .bytes()
        .filter(|&b| b == b'\n')
        .count()
        + 1
}

/// A registry match: which person, which fields (never values).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProtectedMatch {
    /// The protected person's id.
    pub person_id: String,
    /// Fields matched (`home_address`, `phone`, ...).
    pub fields: Vec<String>,
    /// Only partial facts matched (street without number, family name).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub partial: bool,
}

/// The verdict record (contract section 2).
#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    /// Always `"verdict"`.
    pub kind: &'static str,
    /// The post id.
    pub id: String,
    /// What to do.
    pub action: Action,
    /// Findings.
    pub labels: Vec<Label>,
    /// Detection rules and the deciding policy rule.
    pub rules: Vec<String>,
    /// Protected people exposed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub protected_match: Vec<ProtectedMatch>,
    /// `name@version` of the policy.
    pub policy: String,
    /// The scores the policy weighed (an optional field beyond the
    /// contract's): for triage queues sorted by the judgement, and for
    /// choosing thresholds on labeled data.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scores: Option<Scores>,
}

/// The scores behind a verdict, rounded to three decimals.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Scores {
    /// The learned judgement of harm (`judge_harm`).
    pub judge_harm: f64,
    /// The rules' largest score (`max_score`).
    pub rules: f64,
    /// The first stage's harm probability, when it scored the post.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub screen_harm: Option<f64>,
    /// The encoder heads' lawful probability, when they scored the post.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub heads_lawful: Option<f64>,
}

impl Scores {
    fn of(d: &Detection, extra: &Extra) -> Self {
        let r = |x: f64| (x * 1000.0).round() / 1000.0;
        let rules = rules_max(d);
        Scores {
            judge_harm: r(extra.judge_harm(rules)),
            rules: r(rules),
            screen_harm: extra.screen.map(|s| r(s.harm)),
            heads_lawful: extra.learned.map(|l| r(l.lawful)),
        }
    }
}

/// The rules' largest category score.
fn rules_max(d: &Detection) -> f64 {
    let s = &d.signals;
    s.threat
        .max(s.bounty)
        .max(s.doxxing)
        .max(s.targeted_surveillance)
}

impl Verdict {
    /// Builds the verdict for a post. Labels are only reported when the
    /// action is not `allow`: an allowed post carries no labels (contract).
    pub fn new(
        id: &str,
        detection: Detection,
        protected_match: Vec<ProtectedMatch>,
        policy: &Policy,
    ) -> Self {
        Self::with_learned(id, detection, protected_match, None, policy)
    }

    /// [`Verdict::new`] with the learned stage's scores for the policy.
    pub fn with_learned(
        id: &str,
        detection: Detection,
        protected_match: Vec<ProtectedMatch>,
        learned: Option<LearnedScores>,
        policy: &Policy,
    ) -> Self {
        Self::judged(
            id,
            detection,
            protected_match,
            Judgement {
                learned,
                ..Default::default()
            },
            policy,
        )
    }

    /// The verdict with everything the learned stages said: their scores
    /// for the policy, and the findings they make that no rule made
    /// (reported, like every label, only when the action is not `allow`).
    pub fn judged(
        id: &str,
        detection: Detection,
        protected_match: Vec<ProtectedMatch>,
        judgement: Judgement,
        policy: &Policy,
    ) -> Self {
        let mut extra = Extra::for_post(&detection, &protected_match, judgement.learned);
        extra.screen = judgement.screen;
        let (action, by) = policy.decide(&detection, &extra);
        let scores = Some(Scores::of(&detection, &extra));
        let mut rules = detection.rules;
        if let Some(by) = by {
            rules.push(format!("policy.{by}"));
        }
        let labels = if action == Action::Allow {
            Vec::new()
        } else {
            // The rules' findings carry the precise evidence (spans by
            // role, tier); the learned ones stand in only where no rule
            // found anything.
            if detection.labels.is_empty() {
                judgement.labels
            } else {
                detection.labels
            }
        };
        Verdict {
            kind: "verdict",
            id: id.to_string(),
            action,
            labels,
            rules,
            protected_match,
            policy: policy.label(),
            scores,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rampart_detect::Detector;

    #[test]
    fn default_policy_loads_and_decides() {
        let policy = Policy::default_policy();
        let det = Detector::new().unwrap();
        let v = Verdict::new(
            "p1",
            det.detect("$50,000 to whoever kills Judge Harlan Pike. Serious."),
            vec![],
            &policy,
        );
        assert_eq!(v.action, Action::Escalate, "{v:?}");
        let v = Verdict::new(
            "p2",
            det.detect("Lovely weather in Guadalajara today."),
            vec![],
            &policy,
        );
        assert_eq!(v.action, Action::Allow);
        assert!(v.labels.is_empty());
    }

    #[test]
    fn bad_expression_names_file_line_and_reason() {
        let src = "name = \"x\"\nversion = 1\n\n[[rules]]\nid = \"r1\"\naction = \"remove\"\nwhen = \"threat >= \"\n";
        let err = Policy::parse("custom.toml", src)
            .err()
            .expect("must fail")
            .to_string();
        assert!(err.starts_with("custom.toml:7:"), "{err}");
        assert!(err.contains("r1"), "{err}");
    }

    #[test]
    fn unknown_variable_and_action_are_rejected() {
        let src = "name = \"x\"\nversion = 1\n[[rules]]\nid = \"r1\"\naction = \"remove\"\nwhen = \"ethnicity == 'x'\"\n";
        let err = Policy::parse("p.toml", src).err().unwrap().to_string();
        assert!(err.contains("unknown variable `ethnicity`"), "{err}");
        let src = "name = \"x\"\nversion = 1\n[[rules]]\nid = \"r1\"\naction = \"nuke\"\nwhen = \"true\"\n";
        let err = Policy::parse("p.toml", src).err().unwrap().to_string();
        assert!(err.starts_with("p.toml:5:"), "{err}");
    }

    #[test]
    fn type_errors_are_caught_at_load() {
        let src = "name = \"x\"\nversion = 1\n[[rules]]\nid = \"r1\"\naction = \"remove\"\nwhen = \"tier > 3\"\n";
        assert!(Policy::parse("p.toml", src).is_err());
    }

    #[test]
    fn the_learned_scores_are_needed_only_where_they_can_change_the_action() {
        let policy = Policy::default_policy();
        let det = Detector::new().unwrap();
        let lethal = det.detect("$50,000 to whoever kills Judge Harlan Pike. Serious.");
        // In the default policy every removal reads the learned judgement
        // (a rule finding it reads as lawful is not removed), so the
        // learned scores are needed even for the strongest rule finding,
        // and they decide it.
        assert!(policy.needs_learned(&lethal, &[]));
        let strong = |l: f64, h: f64| LearnedScores {
            threat: h,
            bounty: h,
            doxxing: h,
            targeted_surveillance: h,
            lawful: l,
        };
        let v = Verdict::with_learned("p", lethal.clone(), vec![], Some(strong(0.0, 1.0)), &policy);
        assert_eq!(v.action, Action::Escalate);
        let v = Verdict::with_learned("p", lethal.clone(), vec![], Some(strong(1.0, 0.0)), &policy);
        assert!(v.action < Action::Remove, "{:?}", v.action);
        // A rule that reads no learned score and decides before any that
        // does makes them unneeded: no score can change its action.
        let src = "name = \"x\"\nversion = 1\n[[rules]]\nid = \"r0\"\naction = \"escalate\"\nwhen = \"tier == 'lethal'\"\n[[rules]]\nid = \"r1\"\naction = \"review\"\nwhen = \"judge_harm >= 0.5\"\n";
        let escalate_first = Policy::parse("p.toml", src).unwrap();
        assert!(!escalate_first.needs_learned(&lethal, &[]));
        for scores in [strong(1.0, 0.0), strong(0.0, 1.0)] {
            let v =
                Verdict::with_learned("p", lethal.clone(), vec![], Some(scores), &escalate_first);
            assert_eq!(v.action, Action::Escalate);
        }
        // An uncertain finding (a veiled menace): the learned rules are
        // reached before the one that sends it to review.
        let unsure =
            det.detect("Someone should teach Officer Daley a lesson, he knows where to find him.");
        assert!(!unsure.labels.is_empty());
        assert!(policy.needs_learned(&unsure, &[]));
        let v = Verdict::with_learned("p", unsure.clone(), vec![], None, &policy);
        assert_eq!(v.action, Action::Review);
        // A policy whose rules never read the learned scores never needs
        // them.
        let src = "name = \"x\"\nversion = 1\n[[rules]]\nid = \"r1\"\naction = \"review\"\nwhen = \"max_score >= 0.1\"\n";
        let rules_only = Policy::parse("p.toml", src).unwrap();
        assert!(!rules_only.needs_learned(&unsure, &[]));
        assert!(!rules_only.needs_learned(&lethal, &[]));
        // One that reads them first always does (when it gets to run).
        let src = "name = \"x\"\nversion = 1\n[[rules]]\nid = \"r1\"\naction = \"review\"\nwhen = \"learned_harm > 0.5\"\n[[rules]]\nid = \"r2\"\naction = \"remove\"\nwhen = \"max_score >= 0.7\"\n";
        let learned_first = Policy::parse("p.toml", src).unwrap();
        assert!(learned_first.needs_learned(&lethal, &[]));
    }

    #[test]
    fn duplicate_ids_and_non_conditions_are_refused_with_their_line() {
        let rule = |id: &str, when: &str| {
            format!("[[rules]]\nid = \"{id}\"\naction = \"review\"\nwhen = \"{when}\"\n")
        };
        let head = "name = \"x\"\nversion = 1\n";
        let src = format!(
            "{head}{}{}",
            rule("r1", "threat >= 0.5"),
            rule("r1", "bounty >= 0.5")
        );
        let err = Policy::parse("p.toml", &src).err().unwrap().to_string();
        assert!(err.starts_with("p.toml:8:"), "{err}");
        assert!(err.contains("`r1` is used twice"), "{err}");
        let src = format!("{head}{}", rule("r1", "bounty"));
        let err = Policy::parse("p.toml", &src).err().unwrap().to_string();
        assert!(err.starts_with("p.toml:"), "{err}");
        assert!(err.contains("must be a condition"), "{err}");
        assert!(err.contains("number"), "{err}");
    }

    #[test]
    fn expressions_too_large_or_nested_are_refused_at_load() {
        let head = "name = \"x\"\nversion = 1\n[[rules]]\nid = \"r1\"\naction = \"review\"\n";
        // A list test over the fired rules is fine.
        let ok = format!("{head}when = \"'threat.menace' in rules && threat >= 0.5\"\n");
        assert!(Policy::parse("p.toml", &ok).is_ok());
        let nested = format!("{head}when = \"rules.exists(r, rules.all(q, q == r))\"\n");
        let err = Policy::parse("p.toml", &nested).err().unwrap().to_string();
        assert!(err.starts_with("p.toml:6:"), "{err}");
        assert!(err.contains("comprehension inside another"), "{err}");
        let huge = vec!["threat >= 0.5"; 20_000].join(" || ");
        let err = Policy::parse("p.toml", &format!("{head}when = \"{huge}\"\n"))
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.starts_with("p.toml:6:") && err.contains("over the limit"),
            "{err}"
        );
        let terms = vec!["t"; 600].join("+");
        assert!(check_expression_shape(&terms)
            .unwrap_err()
            .contains("terms"));
        let deep = format!("{}threat{}", "(".repeat(30), ")".repeat(30));
        assert!(check_expression_shape(&deep)
            .unwrap_err()
            .contains("nesting"));
        // Brackets inside strings do not count.
        assert!(check_expression_shape("tier == '((((((((((((((((((((((((((((('").is_ok());
    }
}
