-- Cases, reviews, appeals, accounts and the audit chain (SQLite).
-- Kept column for column equal to ../postgres/0001_cases.sql: the same
-- queries run on both.
CREATE TABLE posts (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    post_id TEXT NOT NULL UNIQUE,
    author TEXT NOT NULL,
    created_at TEXT NOT NULL,
    group_id TEXT,
    text TEXT NOT NULL,
    post_json TEXT NOT NULL,
    verdict_json TEXT NOT NULL,
    action TEXT NOT NULL,
    campaign_ref TEXT,
    received_at TEXT NOT NULL
);
CREATE INDEX posts_author ON posts (author, created_at);
CREATE INDEX posts_campaign ON posts (campaign_ref);

CREATE TABLE cases (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    post_id TEXT UNIQUE,
    campaign_id TEXT UNIQUE,
    action TEXT NOT NULL,
    categories TEXT NOT NULL,
    severity INTEGER NOT NULL,
    status TEXT NOT NULL,
    campaign_ref TEXT,
    detail_json TEXT,
    decision TEXT,
    reason TEXT,
    decided_by TEXT,
    decided_at TEXT,
    opened_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX cases_queue ON cases (status, severity, opened_at);

CREATE TABLE appeals (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id INTEGER NOT NULL REFERENCES cases (id),
    statement TEXT NOT NULL,
    filed_by TEXT NOT NULL,
    filed_at TEXT NOT NULL,
    status TEXT NOT NULL,
    outcome TEXT,
    reason TEXT,
    decided_by TEXT,
    decided_at TEXT
);

CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE api_tokens (
    token_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id),
    created_at TEXT NOT NULL
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id),
    csrf TEXT NOT NULL,
    expires_at TEXT NOT NULL
);

CREATE TABLE audit (
    seq INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    detail TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);

CREATE TABLE audit_head (
    id INTEGER PRIMARY KEY,
    seq INTEGER NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
