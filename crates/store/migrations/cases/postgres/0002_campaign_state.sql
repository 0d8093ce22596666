-- The server's campaign-detector checkpoint (one row), so campaigns keep
-- linking across restarts.
CREATE TABLE campaign_state (
    id INTEGER PRIMARY KEY,
    checkpoint TEXT NOT NULL,
    saved_at TEXT NOT NULL
);
