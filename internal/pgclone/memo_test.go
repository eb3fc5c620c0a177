package pgclone

import (
	"fmt"
	"strings"
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
	cm := &columnMask{t: countingTransformer{mt, &n}, metered: mt, leak: &leakHashes{}, memo: newMemo()}
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

	distinct := &columnMask{t: plain, memo: newMemo()}
	for i := range memoTrial + 10 {
		if _, _, _, err := distinct.apply(nil, []byte(fmt.Sprintf("%09d", i)), false); err != nil {
			t.Fatal(err)
		}
	}
	if !distinct.memo.off || distinct.memo.slots != nil {
		t.Errorf("the memo of a column of distinct values is still on after %d lookups with %d hits", distinct.memo.lookups, distinct.memo.hits)
	}
}
