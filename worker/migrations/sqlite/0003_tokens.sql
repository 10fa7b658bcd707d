-- 0003: tokens for `skillopt serve`. Each person (or machine) gets a bearer token with a role;
-- only its SHA-256 is stored, so the table cannot be used to sign in. A revoked token keeps its
-- row (who had access, and until when).
CREATE TABLE tokens (
    id TEXT PRIMARY KEY,
    user_name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('reader', 'member', 'maintainer', 'admin')),
    sha256 TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
