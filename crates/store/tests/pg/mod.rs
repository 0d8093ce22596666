//! Starts a throw-away PostgreSQL server for a test (Debian's packages,
//! `/usr/lib/postgresql/*/bin`), on 127.0.0.1 and a free port, in a temp
//! dir; stopped when dropped. `.ci/run` installs the packages and sets
//! `RAMPART_REQUIRE_POSTGRES=1`, so a missing server fails CI instead of
//! skipping.

use std::path::PathBuf;
use std::process::Command;

/// A running server.
pub struct Postgres {
    pub url: String,
    bin: PathBuf,
    dir: tempfile::TempDir,
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// A shell command run as the `postgres` user when we are root (initdb
/// refuses to run as root), else as ourselves.
fn as_postgres(cmd: &str) -> Command {
    if is_root() {
        let mut c = Command::new("su");
        c.args(["postgres", "-s", "/bin/sh", "-c", cmd]);
        c
    } else {
        let mut c = Command::new("sh");
        c.args(["-c", cmd]);
        c
    }
}

fn bin_dir() -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|p| p.join("initdb").exists())
        .collect();
    dirs.sort();
    dirs.pop()
}

impl Postgres {
    /// Starts a server, or returns `None` (printing why) when PostgreSQL is
    /// not installed and not required.
    pub fn start() -> Option<Postgres> {
        let Some(bin) = bin_dir() else {
            assert!(
                std::env::var("RAMPART_REQUIRE_POSTGRES").is_err(),
                "RAMPART_REQUIRE_POSTGRES is set but no PostgreSQL is installed under /usr/lib/postgresql"
            );
            eprintln!("skipping: PostgreSQL is not installed (apt-get install postgresql)");
            return None;
        };
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir(&data).unwrap();
        if is_root() {
            let ok = Command::new("chown")
                .args(["-R", "postgres:postgres", dir.path().to_str().unwrap()])
                .status()
                .unwrap()
                .success();
            assert!(ok, "chown to postgres failed");
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let d = data.display();
        let ok = as_postgres(&format!(
            "{}/initdb -D {d} -U postgres --auth=trust -E UTF8 >/dev/null",
            bin.display()
        ))
        .status()
        .unwrap()
        .success();
        assert!(ok, "initdb failed");
        let ok = as_postgres(&format!(
            "{}/pg_ctl -D {d} -l {d}/log -w -o '-c listen_addresses=127.0.0.1 -p {port} -k {d}' start >/dev/null",
            bin.display()
        ))
        .status()
        .unwrap()
        .success();
        assert!(ok, "pg_ctl start failed");
        Some(Postgres {
            url: format!("postgres://postgres@127.0.0.1:{port}/postgres"),
            bin,
            dir,
        })
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = as_postgres(&format!(
            "{}/pg_ctl -D {} -m immediate stop >/dev/null",
            self.bin.display(),
            self.dir.path().join("data").display()
        ))
        .status();
    }
}
