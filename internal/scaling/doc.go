// Package scaling turns production inputs into staging inputs.
//
// Inputs are generic decoded values as produced by encoding/json with plain
// decoding: map[string]any, []any, string, float64, bool and nil (int and
// int64 are accepted as numbers too). Rules are addressed by [Path]: dot
// separated segments where "*" matches any map key or list index, for
// example "services.*.replicas" or "nodes.0.size".
//
// Five rule kinds exist:
//
//   - ratio multiplies a number, rounds it and clamps it to min and max;
//   - ladder steps an instance size down within its family, using the size
//     tables embedded in this package (AWS EC2, RDS and ElastiCache, GCP
//     machine types, Azure VM sizes);
//   - quantity multiplies a Kubernetes quantity such as "2000m" or "4Gi";
//   - set replaces a value by a fixed staging value;
//   - keep asserts that a value stays identical.
//
// [Scale] applies rules to a production value and returns the staging value
// together with the list of changes it made. The package also exports the
// path, quantity and size-table helpers that package parity shares.
package scaling
