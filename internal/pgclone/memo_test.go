package pgclone

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stagingkit/terraform-provider-staging/internal/masking"
)

// countingTransformer counts the values it masks.
type countingTransformer struct {
	masking.Transformer
	n *int
}

func (c countingTransformer) Transform(dst, src []byte) ([]byte, error) {
	*c.n++
	return c.Transformer.Transform(dst, src)
}

// TestMemo: a column whose values repeat masks each distinct value about
// once and gives every row the output (and leak-check odds) masking gives it
// alone; a column of distinct values turns its memo off after the trial;
// values longer than memoMaxLen, NULLs and refused values are never
// remembered.
func TestMemo(t *testing.T) {
	key := testKey(t, "memo")
	spec := masking.Spec{Transformer: "digits"}
	plain, err := masking.New(spec, key)
	if err != nil {
		t.Fatal(err)
	}
	mt, err := masking.NewMetered(spec, key)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	var budget atomic.Int64
	budget.Store(memoBudget)
	cm := &columnMask{t: countingTransformer{mt, &n}, metered: mt, leak: &leakHashes{}, memo: newMemo(&budget)}
	long := strings.Repeat("7", memoMaxLen+1)
	var vals []string
	for i := range 20000 {
		vals = append(vals, fmt.Sprintf("%07d", i%300)) // 300 distinct values
		if i%1000 == 0 {
			vals = append(vals, long, "12x") // too long; refused
		}
	}
	for _, v := range vals {
		out, outNull, odds, err := cm.apply(nil, []byte(v), false)
		want, _, wantErr := masking.Apply(plain, nil, []byte(v), false)
		if (err == nil) != (wantErr == nil) || string(out) != string(want) || outNull {
			t.Fatalf("%q: %q %v, want %q %v", v, out, err, want, wantErr)
		}
		if err == nil {
			meter, _ := masking.NewFixedPointMeter(spec)
			if w := meter.FixedPointOdds([]byte(v)); odds != w {
				t.Fatalf("%q: odds %g, want %g", v, odds, w)
			}
		}
	}
	if cm.memo.off {
		t.Fatal("the memo turned off on a column of 300 distinct values")
	}
	// Each distinct short value about once (a set holding more than
	// memoWays of them evicts some), the long and refused ones every time.
	if n < 300+2*20 || n > 1000 {
		t.Errorf("masked %d of %d values, want 340 to 1,000", n, len(vals))
	}
	if out, outNull, _, err := cm.apply(nil, nil, true); err != nil || !outNull || len(out) != 0 {
		t.Errorf("NULL: %q %v %v", out, outNull, err)
	}

	if got := budget.Load(); got != memoBudget-memoBytes {
		t.Errorf("budget left %d, want %d", got, memoBudget-memoBytes)
	}
	cm.memo.release()
	if got := budget.Load(); got != memoBudget {
		t.Errorf("budget after release %d, want %d", got, memoBudget)
	}

	// Columns whose values do not repeat turn their memo off after the
	// trial, whether its last lookup found a value or not, and so do
	// columns of values too long to remember.
	for _, c := range []struct {
		name string
		val  func(i int) string
	}{
		{"distinct", func(i int) string { return fmt.Sprintf("%09d", i) }},
		{"distinct, the trial's last lookup a repeat", func(i int) string {
			if i == memoTrial-1 {
				i--
			}
			return fmt.Sprintf("%09d", i)
		}},
		{"long", func(i int) string { return strings.Repeat("9", memoMaxLen) + fmt.Sprintf("%09d", i%7) }},
	} {
		d := &columnMask{t: plain, memo: newMemo(&budget)}
		for i := range memoTrial + 10 {
			if _, _, _, err := d.apply(nil, []byte(c.val(i)), false); err != nil {
				t.Fatal(err)
			}
		}
		if !d.memo.off || d.memo.slots != nil {
			t.Errorf("%s: the memo is still on after %d lookups with %d hits", c.name, d.memo.lookups, d.memo.hits)
		}
		if got := budget.Load(); got != memoBudget {
			t.Errorf("%s: budget %d after the memo turned off, want %d", c.name, got, memoBudget)
		}
	}

	// Outputs longer than memoMaxOut are not remembered: the budget
	// counts no more for any value.
	long64k, err := masking.New(masking.Spec{Transformer: "redact", Options: map[string]any{"value": strings.Repeat("x", 64<<10)}}, key)
	if err != nil {
		t.Fatal(err)
	}
	big := &columnMask{t: long64k, memo: newMemo(&budget)}
	for i := range 100 {
		if _, _, _, err := big.apply(nil, []byte(fmt.Sprint(i%10)), false); err != nil {
			t.Fatal(err)
		}
	}
	held := 0
	for _, sl := range big.memo.slots {
		held += cap(sl.in) + cap(sl.out)
	}
	if held > memoSlots*(memoMaxLen+memoMaxOut) {
		t.Errorf("the memo holds %d bytes of values, more than its share of the budget", held)
	}
	big.memo.release()

	// With no budget left a memo stays off, and masks as well.
	budget.Store(memoBytes - 1)
	poor := &columnMask{t: plain, memo: newMemo(&budget)}
	for _, v := range []string{"0000042", "0000042"} {
		out, _, _, err := poor.apply(nil, []byte(v), false)
		want, _, _ := masking.Apply(plain, nil, []byte(v), false)
		if err != nil || string(out) != string(want) {
			t.Fatalf("%q: %q %v, want %q", v, out, err, want)
		}
	}
	if !poor.memo.off || budget.Load() != memoBytes-1 {
		t.Errorf("a memo without budget: off %v, budget %d", poor.memo.off, budget.Load())
	}
}
