// Package parity checks that a staging environment matches production where
// it must.
//
// Facts are generic decoded values (map[string]any, []any, string, float64,
// bool, nil) describing production and staging: module inputs, live
// fingerprints, anything. [Rule]s addressed by path (with "*" wildcards, see
// [scaling.Path]) say how a part of the staging facts must relate to
// production's: exact, same_major, same_minor, same_family, scaled, ignore,
// or max_lag (the twelve-factor time gap between a release reaching staging
// and reaching production). The "twelve-factor" preset derives rules from
// key names where no explicit rule applies. [Exception]s excuse a violation,
// with a reason, until they expire.
//
// [Evaluate] checks the facts and returns a [Report].
//
// # Which rule applies
//
// A rule applies to every leaf at or under its path (a rule on "database"
// compares every value inside database). When several explicit rules cover a
// leaf, the deepest path wins, then the one with fewer wildcards; rules still
// tied all apply, unless one of them is ignore. The preset applies only to
// leaves that no explicit rule covers. max_lag rules are checked on the
// value at their path, in addition to the rules above, and count as
// covering that value for the preset.
//
// # Counting
//
// Every (leaf, rule) check counts once in Checked. Excepted violations count
// as checked but not passed, so Score shows the drift that exceptions
// tolerate.
package parity
