-- 0004: the registry's revision, for incremental pulls. One row whose number goes up in the
-- same transaction as any change to what a pull installs (a version, its status, a skill's
-- flags or policy), so a client that read revision N and then pulled in full holds everything
-- up to N: when the number it reads next is still N, nothing it would install has changed.
CREATE TABLE registry_revision (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    revision INTEGER NOT NULL
);
INSERT INTO registry_revision (id, revision) VALUES (1, 1);
CREATE TRIGGER skills_revision_insert AFTER INSERT ON skills
    BEGIN UPDATE registry_revision SET revision = revision + 1 WHERE id = 1; END;
CREATE TRIGGER skills_revision_update AFTER UPDATE ON skills
    BEGIN UPDATE registry_revision SET revision = revision + 1 WHERE id = 1; END;
CREATE TRIGGER skills_revision_delete AFTER DELETE ON skills
    BEGIN UPDATE registry_revision SET revision = revision + 1 WHERE id = 1; END;
CREATE TRIGGER skill_flags_revision_insert AFTER INSERT ON skill_flags
    BEGIN UPDATE registry_revision SET revision = revision + 1 WHERE id = 1; END;
CREATE TRIGGER skill_flags_revision_update AFTER UPDATE ON skill_flags
    BEGIN UPDATE registry_revision SET revision = revision + 1 WHERE id = 1; END;
CREATE TRIGGER skill_flags_revision_delete AFTER DELETE ON skill_flags
    BEGIN UPDATE registry_revision SET revision = revision + 1 WHERE id = 1; END;
-- Per-version counts (`stats`, the dashboard) look attributions up by version; the primary key
-- starts with the session.
CREATE INDEX attributions_version ON attributions (name, author, version);
