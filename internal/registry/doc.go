// Package registry is the shared record of staging environments: teams with
// their quotas and TTL limits, environments with owners and expiry, leases
// that give one party an exclusive claim on an environment, and an audit log
// of every change.
//
// One Store interface has two back ends with the same behaviour: an embedded
// SQLite file (the default, no set-up) and PostgreSQL (shared by teams). Both
// are the same SQL core over a small dialect, and both pass the same contract
// test suite. Every check that two concurrent writers could race on (unique
// names, team quotas, lease exclusivity) is decided inside one database
// transaction, and every change writes its audit event in that transaction.
//
// The package knows nothing about Terraform.
package registry
