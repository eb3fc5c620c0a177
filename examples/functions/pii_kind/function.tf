# Refuse to clone a table whose columns look personal but have no masking
# rule. pii_kind looks at the name and a sample of the values; the optional
# third argument is the column's SQL type.
locals {
  masking_rules = {
    "users.email" = { transformer = "email" }
  }
  columns = {
    "users.email"      = { type = "text", samples = ["alice@example.com", "bob@example.org"] }
    "users.created_at" = { type = "timestamp with time zone", samples = ["2024-05-01 10:00:00+00"] }
    "users.notes"      = { type = "text", samples = ["call back on +44 20 7946 0958", "VIP"] }
  }
  pii = {
    for name, c in local.columns : name => provider::staging::pii_kind(name, c.samples, c.type)
  }
}

# { "users.notes" = "free_text_pii: suggested transformer text_scramble" }:
# created_at holds no personal data, email has a rule.
output "unmasked_pii" {
  value = {
    for name, r in local.pii : name => "${r.kind}: suggested transformer ${r.suggested_transformer}"
    if r.kind != null && !contains(keys(local.masking_rules), name)
  }
}

# Or warn on every plan and apply while a column that looks personal has no
# rule.
check "pii_is_masked" {
  assert {
    condition     = alltrue([for name, r in local.pii : r.kind == null || contains(keys(local.masking_rules), name)])
    error_message = "Columns that look personal have no masking rule: ${join(", ", [for name, r in local.pii : name if r.kind != null && !contains(keys(local.masking_rules), name)])}."
  }
}
