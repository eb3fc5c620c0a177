package masking

// DomainSize is a lower bound on the number of values among which the
// transformer a spec describes permutes any one input: a keyed permutation
// of N values leaves an input unchanged with probability 1/N, so n masked
// values are expected to contain about n/N unchanged ones by chance (the
// leak check's tolerance comes from this). ok is false when no such bound
// is known: a transformer that is not a keyed permutation, or one whose
// small domains are hashed (small_domain = "hash"), where a value may have
// only a handful of outputs.
//
// Every format-preserving transformer encrypts with NIST FF1, which refuses
// (or, for e-mail local parts, widens) domains below 1,000,000 values, so
// that is the bound: it is what a short e-mail local part or a phone number
// with six encrypted digits has, even when most values have far more.
func DomainSize(spec Spec) (n float64, ok bool) {
	if !fpeTransformers[spec.Transformer] {
		return 0, false
	}
	if mode, _ := spec.Options["small_domain"].(string); mode == "hash" {
		return 0, false
	}
	return ff1MinDomain, true
}
