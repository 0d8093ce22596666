-- The protected-person registry: keyed hashes only, never plaintext.
CREATE TABLE registry_people (
    person_id TEXT PRIMARY KEY NOT NULL,
    -- JSON object: field name -> how many values the person registered
    -- (e.g. {"phones": 1}). Counts only: never a value.
    fields    TEXT NOT NULL,
    added_at  TEXT NOT NULL
);

CREATE TABLE registry_facts (
    hash      BLOB NOT NULL,
    person_id TEXT NOT NULL REFERENCES registry_people(person_id) ON DELETE CASCADE,
    field     TEXT NOT NULL,
    PRIMARY KEY (hash, person_id, field)
);

CREATE INDEX registry_facts_person ON registry_facts(person_id);

-- Fingerprint of the key the hashes were made with (an HMAC of a fixed
-- label, not the key), so a wrong key is refused instead of silently
-- matching nothing.
CREATE TABLE registry_key (
    generation  INTEGER PRIMARY KEY NOT NULL,
    fingerprint BLOB NOT NULL,
    created_at  TEXT NOT NULL
);
