-- Salted audit rows (issue 18): a row's hash covers its personal fields (actor id, args,
-- details) through HMAC-SHA256 under a random key of the row's own (personal_salt), which an
-- erasure destroys with the fields. Rows written before this migration keep both columns null:
-- their hash covers the fields themselves, as before, and verify checks them that way (they
-- cannot be re-hashed without rewriting the chain from the first of them on).
ALTER TABLE "audit_log" ADD COLUMN "personal_salt" text;--> statement-breakpoint
ALTER TABLE "audit_log" ADD COLUMN "personal_digest" text;