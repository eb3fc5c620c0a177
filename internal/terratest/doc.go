// Package terratest holds the Terratest suites of the module library under
// modules/: each module's example applied end to end with the provider built
// from this checkout against throwaway PostgreSQL clusters, checked with SQL,
// applied again (an empty plan) and destroyed.
//
// The suites are their own package because Terratest's dependencies take
// minutes to compile cold; the unit and acceptance tests do not pay for them.
// They run with TF_ACC set, like the provider's acceptance tests.
package terratest
