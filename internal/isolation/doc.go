// Package isolation keeps staging's credentials apart from production's.
//
// It derives staging credentials (passwords, tokens, ed25519 key pairs)
// deterministically from a root secret with HKDF-SHA256, so that every
// Terraform run sees the same value until its version changes; computes
// Argon2id fingerprints through which production publishes its secrets
// without revealing them; finds production hosts, addresses, DSNs,
// secrets, forbidden flags and the masking key in staging configuration;
// and plans the SQL that gives a staging PostgreSQL login exactly the
// privileges of its preset. It knows nothing about Terraform, and its
// errors and findings never carry a secret value.
package isolation
