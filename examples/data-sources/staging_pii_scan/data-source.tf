# Which columns of production look like personal data, and how to mask them.
data "staging_pii_scan" "prod" {
  postgres = "prod" # a postgres connection of the provider block
  schemas  = ["public"]
}

# Paste these rule blocks into a staging_postgres_clone and review them.
output "suggested_rules" {
  value = data.staging_pii_scan.prod.suggested_rules
}

output "personal_columns" {
  value = [for c in data.staging_pii_scan.prod.columns : "${c.table}.${c.column}: ${c.kind} (${c.confidence})"]
}
