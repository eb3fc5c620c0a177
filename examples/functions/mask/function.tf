# A FAKE demo key, for this example only: the masked values below are
# printed, so anyone can recompute them (and, since bijective masking is
# keyed pseudonymisation, reverse them). A real masking key is 32 random
# bytes (`openssl rand -hex 32`) kept as a production secret, and comes from an
# ephemeral variable (`ephemeral = true`, Terraform >= 1.10), which keeps it
# out of saved plans and the state; Terraform then refuses to put what it
# masks in an output, so it may only feed provider configuration, write-only
# attributes and other ephemeral values.
locals {
  demo_key = "5c0ffee5deadbeef0123456789abcdef00112233445566778899aabbccddeeff" # FAKE
}

# The address a production user has in staging, for a support runbook: the
# same on every run, another one with another key, and never the original
# local part ("alice.smith" becomes five letters, a dot and five letters:
# letters stay letters, digits digits, punctuation and the domain stay).
output "staging_email" {
  value = provider::staging::mask("alice.smith@example.com", "email", local.demo_key, {})
}

# Options hold only what the transformer needs: a valid card number that
# keeps its issuer prefix, 4111 11.
output "staging_card" {
  value = provider::staging::mask("4111 1111 1111 1111", "credit_card", local.demo_key, { keep_issuer = true })
}

# Columns that share a domain mask equally, so orders.customer_email still
# joins users.email; a value that is not an address becomes "REDACTED"
# instead of failing.
locals {
  customer_email = { domain = "customer_email", on_invalid = "redact" }
}

output "staging_customer_emails" {
  value = [
    for e in ["bob@example.com", "n/a"] : provider::staging::mask(e, "email", local.demo_key, local.customer_email)
  ]
}
