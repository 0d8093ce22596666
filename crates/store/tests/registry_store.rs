//! The stored registry: import, list, remove, key checks and rotation,
//! against a real SQLite file.

use rampart_detect::Detector;
use rampart_registry::{read_persons, ProtectedRegistry, RegistryKey};
use rampart_store::{Store, StoreError};
use std::collections::BTreeSet;
use std::path::PathBuf;

fn persons() -> Vec<rampart_registry::PersonRecord> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/eval/protected_persons.json");
    read_persons(&path).expect("shared registry file")
}

fn key(s: &str) -> RegistryKey {
    RegistryKey::new(s.as_bytes().to_vec()).unwrap()
}

fn matched(reg: &ProtectedRegistry, text: &str) -> Vec<String> {
    let d = Detector::new().unwrap().detect(text);
    reg.matches(text, &d)
        .into_iter()
        .map(|m| m.person_id)
        .collect()
}

#[tokio::test]
async fn import_list_remove_and_match() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("reg.db");
    let store = Store::open_path(&db).await.unwrap();
    let k = key("store-test-key-0123456789");
    assert_eq!(store.import_people(&k, &persons()).await.unwrap(), 12);
    // Importing again replaces, never duplicates.
    store.import_people(&k, &persons()).await.unwrap();
    let listed = store.list_people().await.unwrap();
    assert_eq!(listed.len(), 12);
    assert_eq!(listed[0].person_id, "pp-01");
    assert_eq!(listed[0].fields.get("phones"), Some(&1));

    let reg = ProtectedRegistry::from_facts(k.clone(), store.load_facts(&k).await.unwrap());
    assert_eq!(
        matched(&reg, "his cell 312.555.0147, call him"),
        vec!["pp-01"]
    );

    store.remove_person("pp-01").await.unwrap();
    assert!(matches!(
        store.remove_person("pp-01").await,
        Err(StoreError::UnknownPerson(_))
    ));
    assert_eq!(store.list_people().await.unwrap().len(), 11);
    let reg = ProtectedRegistry::from_facts(k.clone(), store.load_facts(&k).await.unwrap());
    assert!(matched(&reg, "his cell 312.555.0147, call him").is_empty());
    store.close().await;
}

#[tokio::test]
async fn a_wrong_key_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_path(&dir.path().join("reg.db")).await.unwrap();
    store
        .import_people(&key("store-test-key-0123456789"), &persons())
        .await
        .unwrap();
    let err = store
        .load_facts(&key("another-key-0123456789ab"))
        .await
        .err()
        .unwrap();
    assert!(
        matches!(err, StoreError::WrongKey { generation: 1 }),
        "{err}"
    );
}

#[tokio::test]
async fn rotation_rehashes_everything_and_the_old_key_stops_matching() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_path(&dir.path().join("reg.db")).await.unwrap();
    let old = key("old-key-0123456789abcdef");
    let new = key("new-key-0123456789abcdef");
    store.import_people(&old, &persons()).await.unwrap();
    let before: BTreeSet<[u8; 32]> = store
        .load_facts(&old)
        .await
        .unwrap()
        .into_iter()
        .map(|f| f.hash)
        .collect();

    // Rotation refuses a persons file that would lose someone.
    let partial = &persons()[1..];
    assert!(matches!(
        store.rotate_key(&old, &new, partial).await,
        Err(StoreError::MissingOnRotate(_))
    ));

    assert_eq!(store.rotate_key(&old, &new, &persons()).await.unwrap(), 12);
    assert!(matches!(
        store.load_facts(&old).await,
        Err(StoreError::WrongKey { generation: 2 })
    ));
    let after = store.load_facts(&new).await.unwrap();
    let after_hashes: BTreeSet<[u8; 32]> = after.iter().map(|f| f.hash).collect();
    assert_eq!(before.len(), after_hashes.len());
    assert!(before.is_disjoint(&after_hashes), "every hash must change");

    // The new hashes match with the new key and not with the old one.
    let with_new = ProtectedRegistry::from_facts(new.clone(), after.clone());
    let with_old = ProtectedRegistry::from_facts(old.clone(), after);
    let leak = "Placas JKS-482-B, un Jetta gris. Ya saben qué hacer.";
    assert_eq!(matched(&with_new, leak), vec!["pp-02"]);
    assert!(matched(&with_old, leak).is_empty());
    store.close().await;
}

#[tokio::test]
async fn postgres_is_reported_as_not_yet_available() {
    let err = Store::open("postgres://127.0.0.1/rampart")
        .await
        .err()
        .unwrap();
    assert!(err.to_string().contains("PostgreSQL"), "{err}");
}
