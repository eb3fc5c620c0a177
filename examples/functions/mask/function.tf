# The environment's masking secret: the clone masks with the same one.
variable "masking_secret" {
  type      = string
  sensitive = true
}

# The address a production user has in staging, for a support runbook: the
# same on every run, another one with another secret, and never the original
# local part ("alice.smith" becomes five letters or digits, a dot and five).
output "staging_email" {
  value     = provider::staging::mask("alice.smith@example.com", "email", var.masking_secret, {})
  sensitive = true
}

# Options hold only what the transformer needs: a valid card number that
# keeps its issuer prefix, 4111 11.
output "staging_card" {
  value     = provider::staging::mask("4111 1111 1111 1111", "credit_card", var.masking_secret, { keep_issuer = true })
  sensitive = true
}

# Columns that share a domain mask equally, so orders.customer_email still
# joins users.email; a value that is not an address becomes "REDACTED"
# instead of failing.
locals {
  customer_email = { domain = "customer_email", on_invalid = "redact" }
}

output "staging_customer_emails" {
  value = [
    for e in ["bob@example.com", "n/a"] : provider::staging::mask(e, "email", var.masking_secret, local.customer_email)
  ]
  sensitive = true
}
