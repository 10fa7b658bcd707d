-- 0004: the registry's revision, for incremental pulls. One row whose number goes up in the
-- same transaction as any change to what a pull installs (a version, its status, a skill's
-- flags or policy), so a client that read revision N and then pulled in full holds everything
-- up to N: when the number it reads next is still N, nothing it would install has changed. An
-- update of the row (not a sequence) keeps the number transactional: a change that has not
-- committed has not bumped it either.
CREATE TABLE registry_revision (
    id SMALLINT PRIMARY KEY CHECK (id = 1),
    revision BIGINT NOT NULL
);
INSERT INTO registry_revision (id, revision) VALUES (1, 1);
CREATE FUNCTION bump_registry_revision() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE registry_revision SET revision = revision + 1 WHERE id = 1;
    RETURN NULL;
END
$$;
CREATE TRIGGER skills_revision AFTER INSERT OR UPDATE OR DELETE ON skills
    FOR EACH STATEMENT EXECUTE FUNCTION bump_registry_revision();
CREATE TRIGGER skill_flags_revision AFTER INSERT OR UPDATE OR DELETE ON skill_flags
    FOR EACH STATEMENT EXECUTE FUNCTION bump_registry_revision();
-- Per-version counts (`stats`, the dashboard) look attributions up by version; the primary key
-- starts with the session.
CREATE INDEX attributions_version ON attributions (name, author, version);
