package masking

import (
	"fmt"
	"math"
	"strings"
	"sync"
)

// keyLimits caches, per length, the least count at which a test's odds
// for a generated key fall below keyTextOdds.
var keyLimits sync.Map // [2]int{test, n} -> int

func keyLimit(test, n int, f func(n int) int) int {
	if v, ok := keyLimits.Load([2]int{test, n}); ok {
		return v.(int)
	}
	v := f(n)
	keyLimits.Store([2]int{test, n}, v)
	return v
}

// Recognisable text in a base64 key. Whether a string is random cannot be
// proven; what ParseKey can do is refuse strings with structure a person
// puts there (words, years, repeats), each test set so that a generated
// key (`openssl rand -base64 32`: every character uniform over the 64 of
// the alphabet) fails it with probability below keyTextOdds (the year
// test: 10 times that). In all, a generated key is refused with
// probability of about 1e-7, well below the 1e-6 aimed at
// (TestParseKey_GeneratedKeysAccepted draws 100,000).
const keyTextOdds = 1e-8

// commonBigrams are frequent letter pairs of English (and of the words
// people put in passphrases), case-insensitive: 142 of the 676 pairs.
var commonBigrams = func() map[[2]byte]bool {
	m := map[[2]byte]bool{}
	for _, b := range strings.Fields(`th he in er an re on at en nd ti es or te of ed is it al ar st to nt ng
se ha as ou io le ve co me de hi ri ro ic ne ea ra ce li ch ll be ma si om ur ca el ta la ns di fo ho
pe ec pr no ct us ac ot il tr ly nc et ut ss so rs un lo wa ge ie wh ee wi em ad ol rt po we na ul ni
ts mo ow pa im mi ai sh ir su id os iv ia am fi ci vi pl ig tu ev ld ry mp fe bl ab gh ty op wo sa ay
ex ke fr oo av ag if ap gr od bo sp rd do ey ut ki`) {
		m[[2]byte{b[0], b[1]}] = true
	}
	return m
}()

func lowerASCII(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// binomTail is P(X >= k) for X ~ Binomial(n, p).
func binomTail(n, k int, p float64) float64 {
	if k <= 0 {
		return 1
	}
	t := 0.0
	for i := k; i <= n; i++ {
		lg, _ := math.Lgamma(float64(n + 1))
		a, _ := math.Lgamma(float64(i + 1))
		b, _ := math.Lgamma(float64(n - i + 1))
		t += math.Exp(lg - a - b + float64(i)*math.Log(p) + float64(n-i)*math.Log1p(-p))
	}
	return t
}

// distinctBelow is P(D < d) where D is the number of distinct characters
// among n drawn uniformly from an alphabet of size a (occupancy).
func distinctBelow(n, d, a int) float64 {
	p := make([]float64, a+1)
	p[0] = 1
	for range n {
		q := make([]float64, a+1)
		for j, v := range p {
			if v == 0 {
				continue
			}
			q[j] += v * float64(j) / float64(a)
			if j < a {
				q[j+1] += v * float64(a-j) / float64(a)
			}
		}
		p = q
	}
	t := 0.0
	for j := 0; j < d && j <= a; j++ {
		t += p[j]
	}
	return t
}

// recognisableText reports why base64 key text s (padding removed) looks
// written by a person; "" when it does not.
func recognisableText(s string) string {
	n := len(s)
	if n < 8 {
		return ""
	}
	// Words: letter pairs inside a word (a letter followed by a lower-case
	// one) that are common in English. A generated key has such a pair at
	// each position with probability (52/64)(26/64)(|B|/676).
	pairs := 0
	for i := 0; i+1 < n; i++ {
		a, b := s[i], s[i+1]
		if (isUpper(a) || isLower(a)) && isLower(b) && commonBigrams[[2]byte{lowerASCII(a), b}] {
			pairs++
		}
	}
	minPairs := keyLimit(0, n, func(n int) int {
		q := 52.0 / 64 * 26.0 / 64 * float64(len(commonBigrams)) / 676
		k := 0
		// Adjacent pairs are not independent (a run of lower-case letters
		// makes several), so the real tail is fatter than the binomial:
		// in 3,000,000 generated 32-byte keys 16 pairs occurred once,
		// where the binomial says 1 in 80 million. The binomial is
		// therefore asked for 1000 times smaller odds (20 pairs at 44
		// characters; the largest count seen was 16).
		for binomTail(n-1, k, q) >= keyTextOdds/1000 {
			k++
		}
		return k
	})
	if pairs >= minPairs {
		return fmt.Sprintf("the masking key reads as words (%d common letter pairs in %d characters), like a passphrase, not like generated random bytes", pairs, n)
	}
	// Years: 4-digit runs 19xx or 20xx. A generated key has one starting
	// at a position with probability about (54/64)^2 (10/64)^4 (2/100).
	years := 0
	for i := 0; i+4 <= n; i++ {
		if (i == 0 || !isDigit(s[i-1])) && (i+4 == n || !isDigit(s[i+4])) && isDigit(s[i+2]) && isDigit(s[i+3]) && (s[i:i+2] == "19" || s[i:i+2] == "20") {
			years++
		}
	}
	lambda := float64(n) * math.Pow(54.0/64, 2) * math.Pow(10.0/64, 4) * 0.02
	if years >= 2 && poissonTail(lambda, years) < keyTextOdds*10 {
		return fmt.Sprintf("the masking key holds %d year-like numbers, like a passphrase, not like generated random bytes", years)
	}
	// Repeats: a substring of length L occurring twice; a generated key
	// has one with probability at most C(n,2) 64^-L.
	l := 4
	for float64(n)*float64(n-1)/2*math.Pow(64, -float64(l)) >= keyTextOdds {
		l++
	}
	seen := map[string]bool{}
	for i := 0; i+l <= n; i++ {
		if seen[s[i:i+l]] {
			return fmt.Sprintf("the masking key repeats a run of %d or more characters, like a passphrase, not like generated random bytes", l)
		}
		seen[s[i:i+l]] = true
	}
	// Too few distinct characters for the length.
	distinct := map[byte]bool{}
	for i := range n {
		distinct[s[i]] = true
	}
	// maxRefused: the most distinct characters a key may have and still be
	// refused, P(D <= maxRefused) < keyTextOdds.
	maxRefused := keyLimit(1, n, func(n int) int {
		d := 0
		for distinctBelow(n, d+2, 64) < keyTextOdds {
			d++
		}
		return d
	})
	if len(distinct) <= maxRefused {
		return fmt.Sprintf("the masking key uses only %d distinct characters in %d, like a passphrase, not like generated random bytes", len(distinct), n)
	}
	return ""
}

// poissonTail is P(X >= k) for X ~ Poisson(lambda).
func poissonTail(lambda float64, k int) float64 {
	term := math.Exp(-lambda)
	for i := 0; i < k; i++ {
		term *= lambda / float64(i+1)
	}
	t := 0.0
	for i := k; i < k+50; i++ {
		t += term
		term *= lambda / float64(i+1)
	}
	return t
}
