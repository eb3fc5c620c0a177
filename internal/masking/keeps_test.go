package masking

import (
	"strings"
	"testing"
)

// TestVersionChange_arrayDecoration: an array column records its version
// as "email/v2+array"; that is current, not a change that would re-copy
// the clone at every plan. An old version under the decoration still is.
func TestVersionChange_arrayDecoration(t *testing.T) {
	cur := Version("email")
	if why := VersionChange(cur + "+array"); why != "" {
		t.Errorf("VersionChange(%s+array) = %q, want no change", cur, why)
	}
	if why := VersionChange("email/v1+array"); !strings.Contains(why, cur) {
		t.Errorf("VersionChange(email/v1+array) = %q, want a change to %s", why, cur)
	}
}
