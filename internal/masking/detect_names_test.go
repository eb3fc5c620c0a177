package masking

import "testing"

// TestDetect_personNamesWithoutKnownGivenNames: names from everywhere (no
// given name on the detector's short list) are found where the column name
// says a person is named: "*_name" of a person, a holder, and ambiguous
// names such as display_name when the values are shaped like person names;
// organisations' names and single words are not.
func TestDetect_personNamesWithoutKnownGivenNames(t *testing.T) {
	world := []string{"Oluwaseun Adeyemi", "Ngozi Okafor", "Thandiwe Dlamini", "Wiremu Ngata", "Saoirse Ní Bhriain"}
	orgs := []string{"Adeyemi Logistics Ltd", "Okafor & Sons", "Dlamini Holdings", "Ngata Trading Co.", "The Bhriain Group"}
	for _, tc := range []struct {
		name    string
		samples []string
		want    string
	}{
		{"customer_name", world, KindFullName},  // the name says person; before, unknown given names demoted it
		{"account_holder", world, KindFullName}, // a holder is a person
		{"AccountHolder", world, KindFullName},  // camel case
		{"display_name", world, KindFullName},   // ambiguous: the values decide
		{"public_display_name", world, KindFullName},
		{"display_name", orgs, ""}, // an organisation's name
		{"display_name", []string{"Dashboard", "Settings", "Reports", "Inbox", "Billing"}, ""},
		{"placeholder", world, ""},                 // "holder" is a whole word only
		{"holder_id", []string{"1", "2", "3"}, ""}, // a reference
		{"product_name", world, ""},                // an object's name stays an object's
	} {
		got := ""
		if f := Detect(Column{Name: tc.name, SQLType: "text", Samples: tc.samples}); len(f) > 0 {
			got = f[0].Kind
		}
		if got != tc.want {
			t.Errorf("Detect(%s, %q) = %q, want %q", tc.name, tc.samples[0], got, tc.want)
		}
	}
}

func TestPersonNameShaped(t *testing.T) {
	for s, want := range map[string]bool{
		"Oluwaseun Adeyemi": true, "Adeyemi, Oluwaseun": true, "Jean-Luc O'Neill": true, "Mary Ann Van Dyke": true,
		"Contoso Ltd": false, "Okafor & Sons": false, "ACME": false, "alice smith": false, "R2 D2": false,
		"The Beatles": false, "One Two Three Four Five": false,
	} {
		if got := personNameShaped(s); got != want {
			t.Errorf("personNameShaped(%q) = %v, want %v", s, got, want)
		}
	}
}
