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
#[derive(Args, Clone)]
pub struct LearnedArgs {
    /// Run the learned second stage after the rules (off by default: on
    /// the dev set it catches the one post the rules miss but does not yet
    /// lower their false positives, and it costs throughput; see README).
    #[arg(long)]
    pub learned: bool,
    /// Sentence-encoder directory (installed by scripts/setup-models.sh).
    #[arg(long, default_value = rampart_learn::DEFAULT_ENCODER_DIR)]
    pub encoder: PathBuf,
    /// Trained heads (`rampart train`).
    #[arg(long, default_value = rampart_learn::DEFAULT_HEADS)]
    pub heads: PathBuf,
    /// Also score one in this many posts the rules pass over (0: none).
    #[arg(long, default_value_t = 100)]
    pub learned_sample: u64,
}

impl LearnedArgs {
    /// Adds the learned stage to a scanner unless it is turned off.
    pub fn apply(&self, scanner: Scanner) -> anyhow::Result<Scanner> {
        if !self.learned {
            return Ok(scanner);
        }
        let learned = rampart_learn::Learned::load(&self.encoder, &self.heads)
            .context("the learned stage cannot start (run without --learned for rules only)")?;
        Ok(scanner.with_learned(learned, self.learned_sample))
    }
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
    let encoder = rampart_learn::load_encoder(&args.encoder)?;
    let mut examples = Vec::new();
    let mut files = Vec::new();
    for path in &args.data {
        let (ex, file) = rampart_learn::read_examples(path)?;
        examples.extend(ex);
        files.push(file);
    }
    anyhow::ensure!(!examples.is_empty(), "no labeled posts in the data files");
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let trained = rampart_learn::train_heads(
        encoder.as_ref(),
        &examples,
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
