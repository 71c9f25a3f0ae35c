CREATE TABLE "audit_redactions" (
	"audit_id" bigint NOT NULL,
	"erasure_id" uuid NOT NULL,
	"content_sha256" text NOT NULL,
	"redacted_at" timestamp with time zone NOT NULL,
	CONSTRAINT "audit_redactions_audit_id_erasure_id_pk" PRIMARY KEY("audit_id","erasure_id")
);
--> statement-breakpoint
CREATE TABLE "consents" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"user_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"version" text NOT NULL,
	"granted" boolean NOT NULL,
	"source" text NOT NULL,
	"recorded_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "audit_redactions" ADD CONSTRAINT "audit_redactions_audit_id_audit_log_id_fk" FOREIGN KEY ("audit_id") REFERENCES "public"."audit_log"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "consents" ADD CONSTRAINT "consents_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "audit_redactions_erasure_idx" ON "audit_redactions" USING btree ("erasure_id");--> statement-breakpoint
CREATE INDEX "consents_user_kind_idx" ON "consents" USING btree ("user_id","kind","recorded_at");--> statement-breakpoint
-- An erasure (LGPD) may replace personal data in audit rows, and nothing else: only inside a
-- transaction that set botcriptofy.audit_redaction, only rows an audit_redactions entry names,
-- and never a row's place in the chain (id, hashes, time, actor kind, action, tool, outcome).
-- Deletes and truncation stay refused.
CREATE OR REPLACE FUNCTION audit_log_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE'
     AND current_setting('botcriptofy.audit_redaction', true) = 'on'
     AND NEW.id = OLD.id AND NEW.hash = OLD.hash AND NEW.prev_hash = OLD.prev_hash
     AND NEW.occurred_at = OLD.occurred_at AND NEW.actor_kind = OLD.actor_kind AND NEW.action = OLD.action
     AND NEW.tool IS NOT DISTINCT FROM OLD.tool AND NEW.outcome = OLD.outcome
     AND NEW.tenant_id IS NOT DISTINCT FROM OLD.tenant_id
     AND EXISTS (SELECT 1 FROM audit_redactions r WHERE r.audit_id = NEW.id) THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'audit_log is append-only: % is not allowed', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END;
$$;
