//! The store: rampart's persistent state behind one interface.
//!
//! [`Store`] holds the protected-person registry (keyed hashes only, see
//! `rampart-registry`) in an embedded SQLite file (WAL mode). [`cases`]
//! holds posts, cases, decisions, appeals, accounts and the hash-chained
//! audit log, on SQLite (the same file) or PostgreSQL.
//!
//! Invariant: nothing in this crate ever receives a plaintext identifier.
//! It stores hashes, person ids, field names and counts.

pub mod cases;

use std::collections::BTreeMap;
use std::path::Path;
use std::str::FromStr;

use rampart_registry::{Field, HashedFact, PersonRecord, RegistryKey};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::Row;

/// Errors from the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be opened or queried.
    #[error("store {location}: {source}")]
    Db {
        /// Which database.
        location: String,
        /// The driver's error.
        source: sqlx::Error,
    },
    /// A migration failed.
    #[error("store {location}: migration failed: {source}")]
    Migrate {
        /// Which database.
        location: String,
        /// The reason.
        source: sqlx::migrate::MigrateError,
    },
    /// The key does not match the one the registry was built with.
    #[error("the registry key does not match the key this registry was built with (generation {generation}); use the key given at import or after the last rotate-key")]
    WrongKey {
        /// The stored key generation.
        generation: i64,
    },
    /// A backend that is not available yet.
    #[error("{0}")]
    Unsupported(String),
    /// An unknown person.
    #[error("no protected person with id {0:?}")]
    UnknownPerson(String),
    /// Rotation would lose people.
    #[error("rotate-key needs every registered person in the persons file; missing: {0}")]
    MissingOnRotate(String),
}

/// A person as `registry list` shows them: id and field counts, no values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonSummary {
    /// Registry id.
    pub person_id: String,
    /// Field name → number of values registered.
    pub fields: BTreeMap<String, u64>,
    /// When the person was added (RFC 3339).
    pub added_at: String,
}

/// The store. Cheap to clone (a connection pool).
#[derive(Clone)]
pub struct Store {
    pool: SqlitePool,
    location: String,
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

impl Store {
    /// Opens (creating if needed) the store at `location`: a file path for
    /// the embedded SQLite store.
    pub async fn open(location: &str) -> Result<Self, StoreError> {
        if location.starts_with("postgres://") || location.starts_with("postgresql://") {
            return Err(StoreError::Unsupported(
                "the PostgreSQL store is not available yet; use a SQLite file path".into(),
            ));
        }
        let db = |source| StoreError::Db {
            location: location.to_string(),
            source,
        };
        let options = SqliteConnectOptions::from_str(&format!("sqlite://{location}"))
            .map_err(db)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .map_err(db)?;
        MIGRATOR
            .run(&pool)
            .await
            .map_err(|source| StoreError::Migrate {
                location: location.to_string(),
                source,
            })?;
        Ok(Store {
            pool,
            location: location.to_string(),
        })
    }

    /// Opens a store at a filesystem path.
    pub async fn open_path(path: &Path) -> Result<Self, StoreError> {
        Self::open(&path.display().to_string()).await
    }

    fn db(&self, source: sqlx::Error) -> StoreError {
        StoreError::Db {
            location: self.location.clone(),
            source,
        }
    }

    /// Checks `key` against the stored fingerprint, recording it on first use.
    pub async fn check_key(&self, key: &RegistryKey) -> Result<(), StoreError> {
        let row = sqlx::query(
            "SELECT generation, fingerprint FROM registry_key ORDER BY generation DESC LIMIT 1",
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| self.db(e))?;
        match row {
            None => {
                sqlx::query("INSERT INTO registry_key (generation, fingerprint, created_at) VALUES (1, ?, ?)")
                    .bind(key.fingerprint().to_vec())
                    .bind(chrono::Utc::now().to_rfc3339())
                    .execute(&self.pool)
                    .await
                    .map_err(|e| self.db(e))?;
                Ok(())
            }
            Some(row) => {
                let generation: i64 = row.get(0);
                let stored: Vec<u8> = row.get(1);
                if stored == key.fingerprint() {
                    Ok(())
                } else {
                    Err(StoreError::WrongKey { generation })
                }
            }
        }
    }

    /// Imports people: hashes every identifier with `key` and stores the
    /// hashes, replacing any earlier entry of the same person. Returns how
    /// many people were imported.
    pub async fn import_people(
        &self,
        key: &RegistryKey,
        people: &[PersonRecord],
    ) -> Result<usize, StoreError> {
        self.check_key(key).await?;
        let mut tx = self.pool.begin().await.map_err(|e| self.db(e))?;
        for p in people {
            write_person(&mut tx, key, p)
                .await
                .map_err(|e| self.db(e))?;
        }
        tx.commit().await.map_err(|e| self.db(e))?;
        Ok(people.len())
    }

    /// Every person: ids and field counts, never values.
    pub async fn list_people(&self) -> Result<Vec<PersonSummary>, StoreError> {
        let rows = sqlx::query(
            "SELECT person_id, fields, added_at FROM registry_people ORDER BY person_id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(|e| self.db(e))?;
        Ok(rows
            .into_iter()
            .map(|r| PersonSummary {
                person_id: r.get(0),
                fields: serde_json::from_str(r.get::<&str, _>(1)).unwrap_or_default(),
                added_at: r.get(2),
            })
            .collect())
    }

    /// Removes a person and all their hashes.
    pub async fn remove_person(&self, person_id: &str) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await.map_err(|e| self.db(e))?;
        sqlx::query("DELETE FROM registry_facts WHERE person_id = ?")
            .bind(person_id)
            .execute(&mut *tx)
            .await
            .map_err(|e| self.db(e))?;
        let gone = sqlx::query("DELETE FROM registry_people WHERE person_id = ?")
            .bind(person_id)
            .execute(&mut *tx)
            .await
            .map_err(|e| self.db(e))?
            .rows_affected();
        if gone == 0 {
            return Err(StoreError::UnknownPerson(person_id.to_string()));
        }
        tx.commit().await.map_err(|e| self.db(e))?;
        Ok(())
    }

    /// Every stored hash, for building the in-memory matcher.
    pub async fn load_facts(&self, key: &RegistryKey) -> Result<Vec<HashedFact>, StoreError> {
        self.check_key(key).await?;
        let rows = sqlx::query("SELECT hash, person_id, field FROM registry_facts")
            .fetch_all(&self.pool)
            .await
            .map_err(|e| self.db(e))?;
        Ok(rows
            .into_iter()
            .filter_map(|r| {
                let hash: Vec<u8> = r.get(0);
                let field = Field::from_name(r.get::<&str, _>(2))?;
                Some(HashedFact {
                    hash: hash.try_into().ok()?,
                    person_id: r.get(1),
                    field,
                })
            })
            .collect())
    }

    /// Rotates the registry key. The store keeps no plaintext, so the
    /// hashes are rebuilt from the persons file (which must hold every
    /// registered person); everything is re-hashed with `new` in one
    /// transaction and the old key stops matching. Returns people re-hashed.
    pub async fn rotate_key(
        &self,
        old: &RegistryKey,
        new: &RegistryKey,
        people: &[PersonRecord],
    ) -> Result<usize, StoreError> {
        self.check_key(old).await?;
        let registered: Vec<String> = self
            .list_people()
            .await?
            .into_iter()
            .map(|p| p.person_id)
            .collect();
        let given: std::collections::BTreeSet<&str> =
            people.iter().map(|p| p.person_id.as_str()).collect();
        let missing: Vec<&str> = registered
            .iter()
            .map(String::as_str)
            .filter(|id| !given.contains(id))
            .collect();
        if !missing.is_empty() {
            return Err(StoreError::MissingOnRotate(missing.join(", ")));
        }
        let mut tx = self.pool.begin().await.map_err(|e| self.db(e))?;
        sqlx::query("DELETE FROM registry_facts")
            .execute(&mut *tx)
            .await
            .map_err(|e| self.db(e))?;
        for p in people.iter().filter(|p| registered.contains(&p.person_id)) {
            write_person(&mut tx, new, p)
                .await
                .map_err(|e| self.db(e))?;
        }
        let generation: i64 =
            sqlx::query("SELECT COALESCE(MAX(generation), 0) + 1 FROM registry_key")
                .fetch_one(&mut *tx)
                .await
                .map_err(|e| self.db(e))?
                .get(0);
        sqlx::query(
            "INSERT INTO registry_key (generation, fingerprint, created_at) VALUES (?, ?, ?)",
        )
        .bind(generation)
        .bind(new.fingerprint().to_vec())
        .bind(chrono::Utc::now().to_rfc3339())
        .execute(&mut *tx)
        .await
        .map_err(|e| self.db(e))?;
        tx.commit().await.map_err(|e| self.db(e))?;
        // Reclaim the pages that held the old hashes.
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&self.pool)
            .await
            .map_err(|e| self.db(e))?;
        sqlx::query("VACUUM")
            .execute(&self.pool)
            .await
            .map_err(|e| self.db(e))?;
        Ok(registered.len())
    }

    /// Closes the pool, checkpointing the WAL.
    pub async fn close(self) {
        self.pool.close().await;
    }
}

async fn write_person(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    key: &RegistryKey,
    p: &PersonRecord,
) -> Result<(), sqlx::Error> {
    let counts = serde_json::to_string(&p.field_counts()).expect("counts serialise");
    sqlx::query("DELETE FROM registry_facts WHERE person_id = ?")
        .bind(&p.person_id)
        .execute(&mut **tx)
        .await?;
    sqlx::query(
        "INSERT INTO registry_people (person_id, fields, added_at) VALUES (?, ?, ?) \
         ON CONFLICT(person_id) DO UPDATE SET fields = excluded.fields",
    )
    .bind(&p.person_id)
    .bind(counts)
    .bind(chrono::Utc::now().to_rfc3339())
    .execute(&mut **tx)
    .await?;
    for fact in rampart_registry::hash_person(key, p) {
        sqlx::query(
            "INSERT OR IGNORE INTO registry_facts (hash, person_id, field) VALUES (?, ?, ?)",
        )
        .bind(fact.hash.to_vec())
        .bind(&fact.person_id)
        .bind(fact.field.name())
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}
