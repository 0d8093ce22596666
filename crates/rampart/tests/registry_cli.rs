//! The stored registry through the binary: leaks in the dev set are found,
//! no plaintext identifier ever reaches a file the program writes, and keys
//! are handled with care.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const KEY: &str = "cli-test-registry-key-0123456789";

fn shared() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared")
}

fn rampart(args: &[&str], key: Option<&str>) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_rampart"));
    c.args(args).env_remove("RAMPART_REGISTRY_KEY");
    if let Some(k) = key {
        c.env("RAMPART_REGISTRY_KEY", k);
    }
    c.output().expect("run rampart")
}

/// Every plaintext value in the registry file, with the canonical forms a
/// careless implementation might store (digits of phones, plates without
/// separators, street names).
fn plaintext_values(persons: &Path) -> Vec<String> {
    let people: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(persons).unwrap()).unwrap();
    let mut out = Vec::new();
    for p in people.as_array().unwrap() {
        for field in [
            "names",
            "home_addresses",
            "phones",
            "plates",
            "emails",
            "family_names",
        ] {
            for v in p[field].as_array().unwrap() {
                let v = v.as_str().unwrap();
                out.push(v.to_string());
                out.push(v.to_lowercase());
                let digits: String = v.chars().filter(|c| c.is_ascii_digit()).collect();
                if field == "phones" {
                    out.push(digits[digits.len() - 10..].to_string());
                }
                if field == "plates" {
                    out.push(
                        v.chars()
                            .filter(|c| c.is_ascii_alphanumeric())
                            .collect::<String>()
                            .to_lowercase(),
                    );
                }
                if field == "home_addresses" || field == "names" || field == "family_names" {
                    // Distinctive words: street and family names.
                    for w in v
                        .split(|c: char| !c.is_alphanumeric())
                        .filter(|w| w.len() >= 6)
                    {
                        out.push(w.to_lowercase());
                    }
                }
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn no_plaintext_identifier_reaches_disk_or_logs() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("store.db");
    let db = db.to_str().unwrap();
    let persons = shared().join("eval/protected_persons.json");
    let mut logs = Vec::new();

    let out = rampart(
        &["registry", "import", "--db", db, persons.to_str().unwrap()],
        Some(KEY),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    logs.extend(out.stderr);
    let out = rampart(&["registry", "list", "--db", db], None);
    assert!(out.status.success());
    logs.extend(out.stdout.clone());
    logs.extend(out.stderr);
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 12);

    // Scan the dev set: verdicts (which quote the posts themselves) go to
    // a file outside the checked folder; the summary log is checked.
    let verdicts = tempfile::NamedTempFile::new().unwrap();
    let dev = shared().join("eval/dev_posts.jsonl");
    let out = rampart(
        &["scan", "--registry", db, dev.to_str().unwrap()],
        Some(KEY),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::write(verdicts.path(), &out.stdout).unwrap();
    logs.extend(out.stderr);
    let leaks = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.contains("protected_match"))
        .count();
    assert!(
        leaks >= 30,
        "only {leaks} posts matched the stored registry"
    );

    let files = files_under(dir.path());
    assert!(!files.is_empty());
    let values = plaintext_values(&persons);
    assert!(values.len() > 60);
    for f in &files {
        let bytes = std::fs::read(f).unwrap();
        let lower = String::from_utf8_lossy(&bytes).to_lowercase();
        for v in &values {
            assert!(
                !lower.contains(&v.to_lowercase()),
                "{v:?} found in {}",
                f.display()
            );
        }
    }
    let log = String::from_utf8_lossy(&logs).to_lowercase();
    for v in &values {
        assert!(!log.contains(&v.to_lowercase()), "{v:?} found in the logs");
    }
    assert!(!log.contains(&KEY.to_lowercase()), "the key was logged");
}

#[test]
fn rotation_through_the_cli_retires_the_old_key() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("store.db");
    let db = db.to_str().unwrap();
    let persons = shared().join("eval/protected_persons.json");
    let persons = persons.to_str().unwrap();
    assert!(
        rampart(&["registry", "import", "--db", db, persons], Some(KEY))
            .status
            .success()
    );

    let new_key = dir.path().join("new.key");
    std::fs::write(&new_key, "a-brand-new-key-0123456789abcdef\n").unwrap();
    let rotate = || {
        let args = [
            "registry",
            "rotate-key",
            "--db",
            db,
            "--new-key-file",
            new_key.to_str().unwrap(),
            persons,
        ];
        rampart(&args, Some(KEY))
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&new_key, std::fs::Permissions::from_mode(0o644)).unwrap();
        let out = rotate();
        assert_eq!(out.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&out.stderr).contains("0600"));
        std::fs::set_permissions(&new_key, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let out = rotate();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let dev = shared().join("eval/dev_posts.jsonl");
    let old = rampart(
        &["scan", "--registry", db, dev.to_str().unwrap()],
        Some(KEY),
    );
    assert_eq!(old.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&old.stderr).contains("does not match"));
    let new = rampart(
        &[
            "scan",
            "--registry",
            db,
            "--key-file",
            new_key.to_str().unwrap(),
            dev.to_str().unwrap(),
        ],
        None,
    );
    assert!(
        new.status.success(),
        "{}",
        String::from_utf8_lossy(&new.stderr)
    );
    assert!(
        String::from_utf8_lossy(&new.stdout)
            .lines()
            .filter(|l| l.contains("protected_match"))
            .count()
            >= 30
    );
}

#[test]
fn a_missing_key_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("store.db");
    let persons = shared().join("eval/protected_persons.json");
    let out = rampart(
        &[
            "registry",
            "import",
            "--db",
            db.to_str().unwrap(),
            persons.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("RAMPART_REGISTRY_KEY") && err.contains("--key-file"),
        "{err}"
    );
}
