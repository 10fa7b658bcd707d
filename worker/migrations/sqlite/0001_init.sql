-- 0001: the registry of SPEC §5 (versions, changesets, attribution, outcomes) plus skill flags
-- (freeze). Timestamps are RFC 3339 UTC text so both backends compare them the same way.
CREATE TABLE skills (
    name TEXT NOT NULL,
    author TEXT NOT NULL,
    version INTEGER NOT NULL,
    body TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'candidate', 'reverted')),
    parent_version INTEGER,
    source TEXT NOT NULL CHECK (source IN ('push', 'skillopt', 'revert')),
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (name, author, version)
);
CREATE TABLE changesets (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    author TEXT NOT NULL,
    version INTEGER NOT NULL,
    parent_version INTEGER NOT NULL,
    fingerprint TEXT NOT NULL,
    edits TEXT NOT NULL,
    diff TEXT NOT NULL,
    reason TEXT NOT NULL,
    evidence TEXT NOT NULL,
    job_id TEXT UNIQUE,
    agent TEXT NOT NULL,
    model TEXT NOT NULL,
    contributor TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX changesets_skill ON changesets (name, author, fingerprint);
CREATE TABLE attributions (
    session_hash TEXT NOT NULL,
    bucket INTEGER NOT NULL,
    name TEXT NOT NULL,
    author TEXT NOT NULL,
    version INTEGER NOT NULL,
    agent TEXT NOT NULL,
    started_at TEXT NOT NULL,
    PRIMARY KEY (session_hash, name, author, version)
);
CREATE TABLE outcomes (
    id TEXT PRIMARY KEY,
    job_id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    author TEXT NOT NULL,
    version INTEGER NOT NULL,
    bucket INTEGER NOT NULL,
    outcome TEXT NOT NULL,
    skill_at_fault INTEGER NOT NULL,
    confidence REAL NOT NULL,
    reason TEXT NOT NULL,
    agent TEXT NOT NULL,
    model TEXT NOT NULL,
    judged_at TEXT NOT NULL
);
CREATE INDEX outcomes_skill ON outcomes (name, author, version);
CREATE TABLE skill_flags (
    name TEXT NOT NULL,
    author TEXT NOT NULL,
    frozen INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (name, author)
);
