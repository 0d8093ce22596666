//! A synthetic post stream for `rampart bench`: mostly ordinary posts, some
//! harmful ones, some written evasively, in English and Spanish. It is
//! deterministic for a seed, and generated lazily so a stream of any length
//! costs constant memory.

use std::io::{self, Write};
use std::time::Instant;

use serde::Serialize;

use crate::{scan_stream, scan_stream_with, Scanner};

/// SplitMix64: small, fast, good enough for test data, no dependency.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator for a seed.
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// One element of a slice.
    pub fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len())]
    }
}

const BENIGN: &[&str] = &[
    "Great game last night, {team} really showed up in the second half.",
    "Anyone know a good taco place near {street}? Visiting this weekend.",
    "Rally at {place} on Saturday 2pm. Bring water and signs, stay peaceful.",
    "The council vote on the shelter is Tuesday. Call your reps and show up.",
    "Me encanta este clima, vamos al parque con los niños el domingo.",
    "Hoy hay partido, {team} contra los de la colonia. Nos vemos en la cancha.",
    "Just finished my shift, so tired. Coffee first, then bed.",
    "Lost dog near {street}, brown beagle, $200 reward for his return. Call (312) 555-0126.",
    "ICE vans reported near {street} this morning. Know your rights, don't open the door.",
    "Our bakery moved! New address: 3318 W 26th St. Open 6am to 2pm.",
    "La oficina de atención ciudadana está en Av. Universidad 1330. Tel +52 55 5555 0160.",
    "This new tax plan is going to kill small businesses. Vote them out.",
    "Me muero de risa con este video del perrito 😂😂",
    "FBI offers up to $25,000 for information leading to an arrest in the shooting.",
    "Bug bounty payout today: $2,000 for an IDOR. Reported responsibly.",
    "DHS says gangs are offering bounties on officers; no evidence has been released.",
    "Hitman speedrun: eliminated all targets in 4:12, new PB 🔫",
    "Judge {name}'s ruling was sloppy and I hope it gets reversed on appeal.",
    "Protesta pacífica frente al consulado el viernes a mediodía. Traigan pancartas.",
    "We're gonna kill it tonight at the show, doors at 8!",
];

/// Everyday posts with no harm cue at all: most of a real platform's
/// traffic, and the share the rules pass over without a second look.
const EVERYDAY: &[&str] = &[
    "Made {team}-colour cupcakes for the party, they turned out great.",
    "Does anyone have a good recipe for pozole? Mine is always bland.",
    "Traffic on {street} is terrible again, leave early if you can.",
    "My cat knocked the plant off the shelf for the third time today.",
    "Reading a really good book about the history of the railways.",
    "Happy birthday to my little sister, 16 already!",
    "¿Alguien me recomienda un buen mecánico por {place}?",
    "Qué rico está el café de la esquina, lo recomiendo mucho.",
    "Mañana empiezo el gimnasio, ahora sí en serio.",
    "Se me olvidó el paraguas y está lloviendo a cántaros.",
    "New episode of the podcast is up, we talk about gardening in small spaces.",
    "Finally fixed the bike, going for a ride along the river.",
];

const HARMFUL: &[&str] = &[
    "$50,000 to whoever kills Agent {name}. Half upfront.",
    "Pago 2 mil dólares por la dirección del agente {name}. Solo info confirmada.",
    "Officer {name} lives at {num} {street}. Plate {plate}. You know what to do.",
    "Se pagan 10 mil al que levante al policía {name}, que aprenda.",
    "{name} just left the courthouse heading north on {street}. Who's near?",
    "I'm going to shoot that agent {name} when he comes back to our block.",
    "Reporter {name}'s personal cell is (312) 555-01{d2}. Make her life hell.",
    "Judge {name} better watch his back. Days are numbered.",
];

const EVASIVE: &[&str] = &[
    "5 0 k for whoever m u r d e r s the reporter {name}.",
    "k1ll the ag3nt {name}, collect the 50 bands. paid in USDT",
    "Le vаmos а dаr piso al policía {name}, el de la patrulla.",
    "gonna k\u{200b}i\u{200b}l\u{200b}l that cop {name} next time",
];

const NAMES: &[&str] = &[
    "Mendel",
    "Ruiz",
    "Okafor",
    "Sandoval",
    "Whitcombe",
    "Garcia",
    "Kowalski",
    "Nguyen",
    "Arvizu",
    "Pike",
];
const STREETS: &[&str] = &[
    "Larkspur Ct",
    "W 26th St",
    "Calle Roble",
    "Cermak Rd",
    "Lake St",
    "Av. Revolución",
    "Pulaski Rd",
];
const TEAMS: &[&str] = &["the Sox", "Chivas", "los Tigres", "the Bears", "América"];
const PLACES: &[&str] = &[
    "Federal Plaza",
    "Harrison Park",
    "la plaza principal",
    "City Hall",
];

/// One generated post.
#[derive(Debug, Clone, Serialize)]
pub struct SynthPost {
    /// Post id.
    pub id: String,
    /// Author.
    pub author: String,
    /// RFC 3339 time.
    pub created_at: String,
    /// Body.
    pub text: String,
}

impl SynthPost {
    /// The post as a JSON line (without newline).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("plain strings serialise")
    }
}

/// An endless deterministic stream of posts: 94% benign, 4% harmful, 2%
/// evasive, one post a second of event time. With [`Stream::planting`],
/// a campaign of six posts from six accounts against one new target is
/// planted every so often, spread over about an hour.
pub struct Stream {
    rng: Rng,
    n: u64,
    plant_every: Option<u64>,
    /// (position, campaign, member) of planted posts still to come.
    scheduled: std::collections::VecDeque<(u64, u64, u64)>,
    /// Planted campaign → its post ids (the ground truth).
    pub planted: std::collections::HashMap<u64, Vec<String>>,
    /// Percent of posts that are everyday chatter (the rest keep the mix
    /// of hard negatives, harmful and evasive posts).
    everyday_percent: u64,
}

const PLANTED: &[&str] = &[
    "Agent Varek{k} lives near the river. $5,000 to whoever puts him in the hospital.",
    "Varek{k} parks behind the station every night. Somebody should pay him a visit.",
    "Spotters: tell me when Varek{k} leaves the office, he drives the grey Tahoe.",
    "Pago 5 mil al que le dé una golpiza al agente Varek{k}.",
    "Varek{k} just left the station heading north. Who's near?",
    "We know where Varek{k} sleeps. His days are numbered.",
];

impl Stream {
    /// A stream for a seed.
    pub fn new(seed: u64) -> Self {
        Stream {
            rng: Rng::new(seed),
            n: 0,
            plant_every: None,
            scheduled: Default::default(),
            planted: Default::default(),
            everyday_percent: 0,
        }
    }

    /// Makes `percent` of the posts everyday chatter, diluting the default
    /// mix (which is heavy in hard negatives) towards a real stream's.
    pub fn everyday(mut self, percent: u64) -> Self {
        self.everyday_percent = percent.min(100);
        self
    }

    /// Plants a campaign every `every` posts (at least 4,000 apart).
    pub fn planting(mut self, every: u64) -> Self {
        self.plant_every = Some(every.max(4000));
        self
    }
}

fn event_time(secs: u64) -> String {
    let base =
        chrono::DateTime::parse_from_rfc3339("2025-10-01T00:00:00Z").expect("valid base time");
    (base + chrono::Duration::seconds(secs as i64))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

impl Iterator for Stream {
    type Item = SynthPost;

    fn next(&mut self) -> Option<SynthPost> {
        let position = self.n + 1;
        if let Some(every) = self.plant_every {
            if position % every == 1 {
                let k = position / every;
                for j in 0..6u64 {
                    self.scheduled.push_back((position + 10 + j * 600, k, j));
                }
            }
            if self
                .scheduled
                .front()
                .is_some_and(|&(at, _, _)| at == position)
            {
                let (_, k, j) = self.scheduled.pop_front().expect("checked");
                self.n = position;
                let id = format!("s{position}");
                self.planted.entry(k).or_default().push(id.clone());
                return Some(SynthPost {
                    id,
                    author: format!("plant{k}_acct{j}"),
                    created_at: event_time(position),
                    text: PLANTED[j as usize].replace("{k}", &k.to_string()),
                });
            }
        }
        let r = &mut self.rng;
        let everyday = self.everyday_percent > 0 && (r.below(100) as u64) < self.everyday_percent;
        let roll = r.below(100);
        let template = if everyday {
            r.pick(EVERYDAY)
        } else if roll < 94 {
            r.pick(BENIGN)
        } else if roll < 98 {
            r.pick(HARMFUL)
        } else {
            r.pick(EVASIVE)
        };
        let text = template
            .replace("{name}", r.pick(NAMES))
            .replace("{street}", r.pick(STREETS))
            .replace("{team}", r.pick(TEAMS))
            .replace("{place}", r.pick(PLACES))
            .replace("{num}", &(100 + r.below(9000)).to_string())
            .replace("{plate}", &format!("DV {}", 10000 + r.below(89999)))
            .replace("{d2}", &format!("{:02}", r.below(100)));
        self.n += 1;
        let secs = self.n;
        Some(SynthPost {
            id: format!("s{}", self.n),
            author: format!("acct_{}", r.below(50_000)),
            created_at: event_time(secs),
            text,
        })
    }
}

/// A synthetic protected-person registry of `n` people with addresses,
/// phones, plates, e-mails and family names (all invented, phones in the
/// reserved 555-01xx range).
pub fn persons(n: usize, seed: u64) -> Vec<rampart_registry::PersonRecord> {
    let mut r = Rng::new(seed);
    (0..n)
        .map(|i| {
            let last = format!("{}{}", r.pick(NAMES), i);
            rampart_registry::PersonRecord {
                person_id: format!("pp-{i}"),
                names: vec![format!(
                    "{} {last}",
                    r.pick(&["Ana", "Luis", "Kim", "Omar", "Rosa"])
                )],
                home_addresses: vec![format!(
                    "{} {} {}",
                    100 + r.below(9900),
                    r.pick(&["Oak", "Pine", "Roble", "Cedro", "Maple"]),
                    r.pick(&["St", "Ave", "Ct"])
                )],
                phones: vec![format!(
                    "({}) 555-01{:02}",
                    200 + r.below(700),
                    r.below(100)
                )],
                plates: vec![format!(
                    "{}{}",
                    r.pick(&["ABC", "XYZ", "JKS", "DV"]),
                    1000 + r.below(90000)
                )],
                emails: vec![format!("person{i}@example.org")],
                family_names: vec![format!("{} {last}", r.pick(&["Eva", "Juan", "Lea"]))],
            }
        })
        .collect()
}

/// What `rampart bench` reports.
#[derive(Debug, Serialize)]
pub struct BenchReport {
    /// Posts scanned end to end.
    pub posts: usize,
    /// Whole scan path (parse, normalise, detect, decide, serialise), one thread.
    pub posts_per_second: f64,
    /// Microseconds per post, by stage, measured on a sample.
    pub stage_micros_per_post: serde_json::Value,
    /// Peak resident memory of the process, in MiB (Linux `VmHWM`).
    pub peak_rss_mib: Option<f64>,
    /// Verdicts by action.
    pub actions: serde_json::Value,
    /// Where it ran.
    pub machine: String,
    /// With a registry: its size, memory, and throughput relative to the
    /// same stream without it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registry: Option<serde_json::Value>,
}

/// What `rampart bench --plant-campaigns` reports.
#[derive(Debug, Serialize)]
pub struct CampaignBenchReport {
    /// Posts streamed.
    pub posts: usize,
    /// Campaigns planted.
    pub planted: usize,
    /// Planted campaigns matched by a reported campaign with Jaccard ≥ 0.85.
    pub found: usize,
    /// `found / planted`.
    pub found_ratio: f64,
    /// Scan throughput with campaign detection.
    pub posts_per_second_with_campaigns: f64,
    /// Scan throughput without it, on the same stream.
    pub posts_per_second_without_campaigns: f64,
    /// Peak resident memory of the process, MiB.
    pub peak_rss_mib: Option<f64>,
}

/// Streams `posts` posts with a campaign planted every `every` posts, scans
/// them with and without campaign detection, and scores how many planted
/// campaigns were reported.
pub fn run_campaign_bench(
    scanner: &Scanner,
    posts: usize,
    every: u64,
    seed: u64,
) -> io::Result<CampaignBenchReport> {
    let mut stream = Stream::new(seed).planting(every);
    let mut detector = scanner.campaign_detector();
    let mut reported: std::collections::HashMap<String, Vec<String>> =
        std::collections::HashMap::new();
    let (mut with, mut without) = (std::time::Duration::ZERO, std::time::Duration::ZERO);
    let mut remaining = posts;
    let mut chunk = Vec::with_capacity(8 << 20);
    let mut out = Vec::with_capacity(8 << 20);
    while remaining > 0 {
        let n = remaining.min(20_000);
        remaining -= n;
        fill_chunk(&mut stream, n, &mut chunk);
        let t = scan_chunk(scanner, &chunk)?;
        without += t.elapsed;
        out.clear();
        let last = remaining == 0;
        let t = scan_stream_with(
            scanner,
            Some(&mut detector),
            &chunk[..],
            1 << 20,
            &mut out,
            &mut Vec::new(),
            |_| {},
            last,
        )?;
        with += t.elapsed;
        for line in out
            .split(|&b| b == b'\n')
            .filter(|l| l.starts_with(b"{\"kind\":\"campaign\""))
        {
            let c: serde_json::Value = serde_json::from_slice(line).map_err(io::Error::other)?;
            let members = c["members"]
                .as_array()
                .map(|m| {
                    m.iter()
                        .filter_map(|x| x.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default();
            reported.insert(c["id"].as_str().unwrap_or_default().to_string(), members);
        }
    }
    // Index reported campaigns by member for the Jaccard check.
    let mut by_member: std::collections::HashMap<&str, Vec<&Vec<String>>> =
        std::collections::HashMap::new();
    for m in reported.values() {
        for id in m {
            by_member.entry(id.as_str()).or_default().push(m);
        }
    }
    let planted: Vec<&Vec<String>> = stream.planted.values().filter(|v| v.len() == 6).collect();
    let found = planted
        .iter()
        .filter(|truth| {
            let t: std::collections::HashSet<&str> = truth.iter().map(String::as_str).collect();
            truth
                .iter()
                .flat_map(|id| by_member.get(id.as_str()).into_iter().flatten())
                .any(|m| {
                    let p: std::collections::HashSet<&str> = m.iter().map(String::as_str).collect();
                    t.intersection(&p).count() as f64 / t.union(&p).count() as f64 >= 0.85
                })
        })
        .count();
    let rate = |d: std::time::Duration| (posts as f64 / d.as_secs_f64().max(1e-9)).round();
    Ok(CampaignBenchReport {
        posts,
        planted: planted.len(),
        found,
        found_ratio: (found as f64 / planted.len().max(1) as f64 * 1000.0).round() / 1000.0,
        posts_per_second_with_campaigns: rate(with),
        posts_per_second_without_campaigns: rate(without),
        peak_rss_mib: peak_rss_mib(),
    })
}

/// The cascade benchmark: the whole scan path with the learned stage on
/// (all cores), and the learned stage alone on one core.
pub fn run_cascade_bench(
    scanner: &Scanner,
    posts: usize,
    seed: u64,
    everyday_percent: u64,
) -> io::Result<serde_json::Value> {
    let mut stream = Stream::new(seed).everyday(everyday_percent);
    let mut chunk = Vec::with_capacity(8 << 20);
    let mut remaining = posts;
    let (mut elapsed, mut scored, mut candidates, mut candidate_texts) =
        (std::time::Duration::ZERO, 0u64, 0u64, Vec::new());
    while remaining > 0 {
        let n = remaining.min(50_000);
        remaining -= n;
        fill_chunk(&mut stream, n, &mut chunk);
        let s = scan_chunk(scanner, &chunk)?;
        elapsed += s.elapsed;
        scored += s.learned_scored;
        candidates += s.learned_scored - s.learned_sampled + s.learned_skipped;
        if candidate_texts.len() < 1024 {
            for line in chunk.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
                let Ok(post) = rampart_ingest::parse_line(0, line) else {
                    continue;
                };
                if scanner.wants_learned(&post, &scanner.findings(&post))
                    && candidate_texts.len() < 1024
                {
                    candidate_texts.push(post.text);
                }
            }
        }
    }
    let texts: Vec<&str> = candidate_texts.iter().map(String::as_str).collect();
    let one_core = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .map_err(io::Error::other)?;
    let started = Instant::now();
    one_core
        .install(|| scanner.score_learned(&texts))
        .map_err(io::Error::other)?;
    let alone = started.elapsed();
    let rate = |n: f64, d: std::time::Duration| (n / d.as_secs_f64().max(1e-9)).round();
    Ok(serde_json::json!({
        "posts": posts,
        "everyday_percent": everyday_percent,
        "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        // Candidates: what the rules pass on (a finding, a protected match,
        // or uncertain); scored: those whose action the heads could still
        // change, plus the sample of the rest.
        "candidate_percent": round2(candidates as f64 / posts.max(1) as f64 * 100.0),
        "scored_percent": round2(scored as f64 / posts.max(1) as f64 * 100.0),
        "posts_per_second_with_cascade": rate(posts as f64, elapsed),
        "learned_stage_alone_posts_per_second_one_core": rate(texts.len() as f64, alone),
        "peak_rss_mib": peak_rss_mib(),
        "machine": machine().replace(", 1 used", ", all used by the cascade"),
    }))
}

/// Scans one JSONL chunk with no campaign detector and no output kept.
fn scan_chunk(scanner: &Scanner, chunk: &[u8]) -> io::Result<crate::Summary> {
    scan_stream_with(
        scanner,
        None,
        chunk,
        1 << 20,
        &mut io::sink(),
        &mut Vec::new(),
        |_| {},
        false,
    )
}

/// Replaces `chunk` with the next `n` posts of the stream as JSONL.
fn fill_chunk(stream: &mut Stream, n: usize, chunk: &mut Vec<u8>) {
    chunk.clear();
    for p in stream.by_ref().take(n) {
        chunk.extend_from_slice(p.to_json().as_bytes());
        chunk.push(b'\n');
    }
}

/// Compares two scanners on the same stream, alternating 20,000-post
/// chunks between them so that drift in the machine's speed affects both
/// alike. Returns the posts per second of each.
pub fn compare(a: &Scanner, b: &Scanner, posts: usize, seed: u64) -> io::Result<(f64, f64)> {
    let mut stream = Stream::new(seed);
    let mut remaining = posts;
    let (mut ta, mut tb) = (std::time::Duration::ZERO, std::time::Duration::ZERO);
    let mut chunk = Vec::with_capacity(8 << 20);
    while remaining > 0 {
        let n = remaining.min(20_000);
        fill_chunk(&mut stream, n, &mut chunk);
        remaining -= n;
        for (scanner, total) in [(a, &mut ta), (b, &mut tb)] {
            let summary = scan_stream(
                scanner,
                &chunk[..],
                1 << 20,
                &mut io::sink(),
                &mut Vec::new(),
                |_| {},
            )?;
            *total += summary.elapsed;
        }
    }
    let rate = |t: std::time::Duration| (posts as f64 / t.as_secs_f64().max(1e-9)).round();
    Ok((rate(ta), rate(tb)))
}

/// Runs the benchmark: streams `posts` synthetic posts through the whole
/// scan path on one thread, then times each stage on a sample.
pub fn run_bench(scanner: &Scanner, posts: usize, seed: u64) -> io::Result<BenchReport> {
    // Feed the stream in chunks so memory stays flat whatever `posts` is.
    let mut stream = Stream::new(seed);
    let mut remaining = posts;
    let mut total = std::time::Duration::ZERO;
    let mut actions = std::collections::BTreeMap::<&str, u64>::new();
    let mut chunk = Vec::with_capacity(8 << 20);
    while remaining > 0 {
        let n = remaining.min(20_000);
        fill_chunk(&mut stream, n, &mut chunk);
        remaining -= n;
        let mut sink = io::sink();
        let mut errs = Vec::new();
        let summary = scan_stream(scanner, &chunk[..], 1 << 20, &mut sink, &mut errs, |_| {})?;
        total += summary.elapsed;
        for (k, v) in summary.actions {
            *actions.entry(k).or_default() += v;
        }
    }

    // Per-stage costs on a sample.
    let sample: Vec<SynthPost> = Stream::new(seed ^ 0xABCD).take(20_000).collect();
    let lines: Vec<String> = sample.iter().map(|p| p.to_json()).collect();
    let per = |d: std::time::Duration| d.as_secs_f64() * 1e6 / sample.len() as f64;
    let t = Instant::now();
    let parsed: Vec<_> = lines
        .iter()
        .enumerate()
        .filter_map(|(i, l)| rampart_ingest::parse_line(i as u64, l.as_bytes()).ok())
        .collect();
    let parse = per(t.elapsed());
    let t = Instant::now();
    let norms: Vec<_> = parsed
        .iter()
        .map(|p| rampart_normalise::normalise(&p.text))
        .collect();
    let normalise = per(t.elapsed());
    let t = Instant::now();
    let hit_count: usize = norms
        .iter()
        .map(|n| scanner.detector().lexicon().scan(n).len())
        .sum();
    let lexicon = per(t.elapsed());
    let t = Instant::now();
    let detections: Vec<_> = parsed
        .iter()
        .map(|p| scanner.detector().detect(&p.text))
        .collect();
    let detect_all = per(t.elapsed());
    let t = Instant::now();
    let verdicts: Vec<_> = parsed
        .iter()
        .zip(detections)
        .map(|(p, d)| rampart_decide::Verdict::new(&p.id, d, Vec::new(), scanner.policy()))
        .collect();
    let decide = per(t.elapsed());
    let t = Instant::now();
    let mut out = Vec::with_capacity(1 << 20);
    for v in &verdicts {
        serde_json::to_writer(&mut out, v).map_err(io::Error::other)?;
        out.write_all(b"\n")?;
        out.clear();
    }
    let serialise = per(t.elapsed());
    std::hint::black_box(hit_count);

    Ok(BenchReport {
        posts,
        posts_per_second: (posts as f64 / total.as_secs_f64().max(1e-9)).round(),
        stage_micros_per_post: serde_json::json!({
            "parse": round2(parse),
            "normalise": round2(normalise),
            "lexicon": round2(lexicon),
            "detect_total (normalise+lexicon+extract+assess)": round2(detect_all),
            "decide": round2(decide),
            "serialise": round2(serialise),
        }),
        peak_rss_mib: peak_rss_mib(),
        actions: serde_json::to_value(actions).unwrap_or_default(),
        machine: machine(),
        registry: None,
    })
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Current resident memory of the process, in MiB (Linux `VmRSS`).
pub fn current_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some((kb / 1024.0 * 10.0).round() / 10.0)
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_else(|| "unknown cpu".into());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    format!("{cpu}, {cores} cores available, 1 used")
}
