-- A file whose bytes equal another stored file's is recorded, with no records, as a duplicate of it.
-- (Schema 1 kept this as a prefix of options_digest.)
ALTER TABLE files ADD COLUMN duplicate_of VARCHAR;
UPDATE files
SET duplicate_of = split_part(options_digest, ':', 2),
    options_digest = split_part(options_digest, ':', 3)
WHERE starts_with(options_digest, 'duplicate-of:');
