//! The case-store commands: `serve`, `user add`, `token create`,
//! `audit verify` and `loadtest` (the HTTP ingest benchmark client).

use std::io::Read;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use clap::{Args, Subcommand};
use rampart::Scanner;
use rampart_store::cases::{CaseStore, Role};

#[derive(Args)]
pub struct ServeArgs {
    /// The case store: a SQLite file path (created if missing) or a
    /// postgres:// URL.
    #[arg(long)]
    db: String,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// Policy file; the built-in default when absent.
    #[arg(long)]
    policy: Option<PathBuf>,
    /// A registry store (made by `rampart registry import`) to match
    /// protected people against.
    #[arg(long, value_name = "DB")]
    registry: Option<String>,
    /// File holding the registry key; default: $RAMPART_REGISTRY_KEY.
    #[arg(long, value_name = "PATH")]
    key_file: Option<PathBuf>,
    #[command(flatten)]
    learned: crate::learn_cli::LearnedArgs,
}

#[derive(Subcommand)]
pub enum UserCommand {
    /// Add a reviewer account; the password is read from standard input.
    Add {
        /// The case store.
        #[arg(long)]
        db: String,
        /// Login name.
        name: String,
        /// reviewer, senior or admin.
        #[arg(long, value_parser = ["reviewer", "senior", "admin"])]
        role: String,
    },
}

#[derive(Subcommand)]
pub enum TokenCommand {
    /// Create an API token for a user and print it (only its hash is kept).
    Create {
        /// The case store.
        #[arg(long)]
        db: String,
        /// The user.
        #[arg(long)]
        user: String,
    },
}

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Check the audit chain: exit 0 when it holds, 1 naming the first
    /// broken entry.
    Verify {
        /// The case store.
        #[arg(long)]
        db: String,
    },
}

#[derive(Args)]
pub struct LoadtestArgs {
    /// Server base URL (http://127.0.0.1:8080).
    #[arg(long)]
    url: String,
    /// API token; default: $RAMPART_TOKEN (keeps it out of `ps`).
    #[arg(long)]
    token: Option<String>,
    /// Posts to send, one per request.
    #[arg(long, default_value_t = 20_000)]
    posts: usize,
    /// Concurrent connections.
    #[arg(long, default_value_t = 8)]
    connections: usize,
    /// Seed of the synthetic stream.
    #[arg(long, default_value_t = 11)]
    seed: u64,
}

fn multi_thread_runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

async fn open(db: &str) -> anyhow::Result<CaseStore> {
    Ok(CaseStore::open(db).await?)
}

pub fn serve(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let policy = crate::load_policy(&args.policy)?;
    let rt = multi_thread_runtime()?;
    rt.block_on(async {
        let mut scanner = Scanner::new(policy)?;
        if let Some(db) = &args.registry {
            let key = rampart_registry::RegistryKey::load(args.key_file.as_deref())?;
            let store = rampart_store::Store::open(db).await?;
            let facts = store.load_facts(&key).await?;
            store.close().await;
            scanner =
                scanner.with_registry(rampart_registry::ProtectedRegistry::from_facts(key, facts));
        }
        let scanner = args.learned.apply(scanner)?;
        let store = open(&args.db).await?;
        let campaigns = Mutex::new(scanner.campaign_detector());
        let writer = rampart_server::GroupCommit::start(store.clone());
        let state = Arc::new(rampart_server::AppState {
            store,
            writer,
            scanner,
            campaigns,
            metrics: Default::default(),
        });
        rampart_server::serve(state, args.addr).await?;
        Ok(ExitCode::SUCCESS)
    })
}

pub fn user(cmd: UserCommand) -> anyhow::Result<ExitCode> {
    let UserCommand::Add { db, name, role } = cmd;
    let mut password = String::new();
    std::io::stdin()
        .read_to_string(&mut password)
        .context("cannot read the password from standard input")?;
    let password = password.trim_end_matches(['\n', '\r']);
    let role = Role::parse(&role).expect("clap checked the role");
    multi_thread_runtime()?.block_on(async {
        let store = open(&db).await?;
        let u = store.add_user(&name, role, password).await?;
        store.close().await;
        eprintln!("added {} ({})", u.name, u.role.as_str());
        Ok(ExitCode::SUCCESS)
    })
}

pub fn token(cmd: TokenCommand) -> anyhow::Result<ExitCode> {
    let TokenCommand::Create { db, user } = cmd;
    multi_thread_runtime()?.block_on(async {
        let store = open(&db).await?;
        let token = store.create_token(&user).await?;
        store.close().await;
        println!("{token}");
        Ok(ExitCode::SUCCESS)
    })
}

pub fn audit(cmd: AuditCommand) -> anyhow::Result<ExitCode> {
    let AuditCommand::Verify { db } = cmd;
    multi_thread_runtime()?.block_on(async {
        let store = open(&db).await?;
        let result = store.verify_audit().await?;
        store.close().await;
        Ok(match result {
            Ok(n) => {
                println!("audit chain holds: {n} entries");
                ExitCode::SUCCESS
            }
            Err(b) => {
                println!("audit chain broken at entry {}: {}", b.seq, b.problem);
                ExitCode::from(1)
            }
        })
    })
}

/// `rampart loadtest`: posts synthetic posts one per request over
/// keep-alive connections and reports throughput and latency percentiles.
pub fn loadtest(args: LoadtestArgs) -> anyhow::Result<ExitCode> {
    let token = match args.token.clone() {
        Some(t) => t,
        None => std::env::var("RAMPART_TOKEN")
            .context("give --token or set RAMPART_TOKEN (rampart token create)")?,
    };
    let url = args.url.trim_end_matches('/').to_string();
    let authority = url
        .strip_prefix("http://")
        .context("--url must start with http://")?
        .to_string();
    let stream = rampart::synth::Stream::new(args.seed);
    let bodies: Vec<String> = stream.take(args.posts).map(|p| p.to_json()).collect();
    let bodies = Arc::new(bodies);
    let rt = multi_thread_runtime()?;
    let (latencies, elapsed, errors) = rt.block_on(async {
        let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let started = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..args.connections.max(1) {
            let (bodies, next, authority, token) = (
                bodies.clone(),
                next.clone(),
                authority.clone(),
                token.clone(),
            );
            tasks.push(tokio::spawn(async move {
                worker(bodies, next, authority, token).await
            }));
        }
        let mut latencies = Vec::with_capacity(args.posts);
        let mut errors = 0usize;
        for t in tasks {
            let (l, e) = t.await??;
            latencies.extend(l);
            errors += e;
        }
        anyhow::Ok((latencies, started.elapsed(), errors))
    })?;
    let mut l = latencies;
    l.sort_unstable();
    let pct = |p: f64| -> f64 {
        if l.is_empty() {
            return 0.0;
        }
        let i = ((l.len() as f64 * p).ceil() as usize).clamp(1, l.len()) - 1;
        l[i].as_secs_f64() * 1000.0
    };
    let report = serde_json::json!({
        "posts": l.len(),
        "errors": errors,
        "connections": args.connections,
        "seconds": (elapsed.as_secs_f64() * 100.0).round() / 100.0,
        "posts_per_second": (l.len() as f64 / elapsed.as_secs_f64()).round(),
        "latency_ms": {"p50": pct(0.50), "p90": pct(0.90), "p99": pct(0.99), "max": pct(1.0)},
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(if errors == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

async fn worker(
    bodies: Arc<Vec<String>>,
    next: Arc<std::sync::atomic::AtomicUsize>,
    authority: String,
    token: String,
) -> anyhow::Result<(Vec<Duration>, usize)> {
    use http_body_util::{BodyExt, Full};
    use hyper::body::Bytes;
    let tcp = tokio::net::TcpStream::connect(&authority)
        .await
        .with_context(|| format!("cannot connect to {authority}"))?;
    tcp.set_nodelay(true)?;
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(tcp)).await?;
    tokio::spawn(conn);
    let mut latencies = Vec::new();
    let mut errors = 0;
    loop {
        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let Some(body) = bodies.get(i) else { break };
        let req = hyper::Request::post("/api/v1/posts")
            .header("host", authority.as_str())
            .header("content-type", "application/json")
            .header("authorization", format!("Bearer {token}"))
            .body(Full::new(Bytes::from(body.clone())))?;
        let t = Instant::now();
        let resp = sender.send_request(req).await?;
        let ok = resp.status().is_success();
        resp.into_body().collect().await?;
        latencies.push(t.elapsed());
        if !ok {
            errors += 1;
        }
    }
    Ok((latencies, errors))
}
