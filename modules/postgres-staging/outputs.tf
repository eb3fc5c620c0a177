output "connection" {
  description = "How the application connects, without the password: `host`, `port`, `database` and `user`."
  value = {
    host     = var.staging_host
    port     = var.staging_port
    database = staging_postgres_role.app.database
    user     = staging_postgres_role.app.name
  }
}

output "database_url" {
  description = "The application's connection URL without its password (`postgres://user@host:port/database`)."
  value       = "postgres://${staging_postgres_role.app.name}@${var.staging_host}:${var.staging_port}/${staging_postgres_role.app.database}"
}

output "credential" {
  description = "The `staging_credential` the role's password is derived from (`environment`, `name`, `version`): declare the same ephemeral resource where the application needs the password."
  value = {
    environment = var.environment.name
    name        = local.credential_name
    version     = var.app_role.credential_version
  }
}

output "role_name" {
  description = "The application's login role in staging."
  value       = staging_postgres_role.app.name
}

output "rows" {
  description = "Rows per `schema.table` in the staging copy."
  value       = { for t, s in staging_postgres_clone.this.table_stats : t => s.rows }
}

output "planned_rows" {
  description = "Rows per `schema.table` the copy was planned to hold, counted in a snapshot of production."
  value       = staging_postgres_clone.this.planned_rows
}

output "clone" {
  description = "The copy: `id`, `cloned_at`, `snapshot_time`, `rows_total`, `bytes_total`, `duration_seconds` and `policy_hash`."
  value = {
    id               = staging_postgres_clone.this.id
    cloned_at        = staging_postgres_clone.this.cloned_at
    snapshot_time    = staging_postgres_clone.this.snapshot_time
    rows_total       = staging_postgres_clone.this.rows_total
    bytes_total      = staging_postgres_clone.this.bytes_total
    duration_seconds = staging_postgres_clone.this.duration_seconds
    policy_hash      = staging_postgres_clone.this.policy_hash
  }
}

output "rules" {
  description = "The masking rules the copy applied, given and suggested, as `schema.table.column` to transformer."
  value       = { for r in local.rules : "${strcontains(r.table, ".") ? r.table : "public.${r.table}"}.${r.column}" => r.transformer }
}

output "suggested_rules" {
  description = "With `rules_from_scan`: the PII scan's suggestions as HCL `rule` blocks to review and paste into `rules`; else null."
  value       = var.rules_from_scan ? data.staging_pii_scan.production[0].suggested_rules : null
}

output "parity_report" {
  description = "The parity check's report as JSON: `score`, `checked`, `passed`, `violations` and `excepted`."
  value       = staging_parity_check.database.report
}

output "parity_score" {
  description = "The share of parity checks that passed, from 0 to 1."
  value       = staging_parity_check.database.score
}

output "isolation_findings" {
  description = "The isolation check's findings, each `{ kind, key, message, inconclusive }`; only inconclusive ones can be here, as others fail the plan."
  value       = staging_isolation_check.this.findings
}

output "isolation_report" {
  description = "The isolation check's report as JSON: keys checked, findings, whether the database was scanned and the probe's outcome."
  value       = staging_isolation_check.this.report
}
