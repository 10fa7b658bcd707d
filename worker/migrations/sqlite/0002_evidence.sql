-- 0002: the evidence loop. Versions may be `proposed` (waiting for review); changesets record
-- the verifier's result and the publishing machine; per-skill policy (auto | canary | review,
-- with the canary percent and the promotion/revert thresholds M and K) and the reason a skill
-- was frozen; an event log of every status
-- change with the figures that decided it; fingerprints of edits that must not be proposed again.
-- SQLite cannot alter a CHECK constraint: the skills table is rebuilt with the new one.
CREATE TABLE skills_v2 (
    name TEXT NOT NULL,
    author TEXT NOT NULL,
    version INTEGER NOT NULL,
    body TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'candidate', 'proposed', 'reverted')),
    parent_version INTEGER,
    source TEXT NOT NULL CHECK (source IN ('push', 'skillopt', 'revert')),
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (name, author, version)
);
INSERT INTO skills_v2 SELECT name, author, version, body, sha256, status, parent_version, source, created_by, created_at FROM skills;
DROP TABLE skills;
ALTER TABLE skills_v2 RENAME TO skills;
ALTER TABLE changesets ADD COLUMN verification TEXT NOT NULL DEFAULT '';
ALTER TABLE changesets ADD COLUMN machine TEXT NOT NULL DEFAULT '';
ALTER TABLE skill_flags ADD COLUMN policy TEXT NOT NULL DEFAULT 'canary' CHECK (policy IN ('auto', 'canary', 'review'));
ALTER TABLE skill_flags ADD COLUMN canary_percent INTEGER NOT NULL DEFAULT 20 CHECK (canary_percent BETWEEN 0 AND 100);
ALTER TABLE skill_flags ADD COLUMN frozen_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE skill_flags ADD COLUMN promote_min_uses INTEGER NOT NULL DEFAULT 5 CHECK (promote_min_uses BETWEEN 1 AND 10000);
ALTER TABLE skill_flags ADD COLUMN revert_min_failures INTEGER NOT NULL DEFAULT 2 CHECK (revert_min_failures BETWEEN 1 AND 10000);
CREATE TABLE events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    author TEXT NOT NULL,
    version INTEGER NOT NULL,
    kind TEXT NOT NULL,
    actor TEXT NOT NULL,
    figures TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX events_skill ON events (name, author, created_at);
CREATE TABLE rejected_fingerprints (
    name TEXT NOT NULL,
    author TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    version INTEGER NOT NULL,
    reason TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (name, author, fingerprint)
);
