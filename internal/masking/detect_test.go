package masking

import (
	"fmt"
	"testing"
)

// Sample sets for the labelled fixture. Personal data here is invented.
var (
	sEmails     = []string{"alice@example.com", "bob.jones@mail.org", "c.wu+tag@corp.io", "dmitri@yandex.ru", "eve_smith@uni.edu"}
	sPhones     = []string{"+1 415-555-0134", "+44 20 7946 0958", "(212) 555-0199", "+49 30 1234567", "555-867-5309"}
	sPhoneDigs  = []string{"4155550134", "2125550199", "3125550123", "6465550101"}
	sFirst      = []string{"Alice", "Robert", "Maria", "James", "Olivia"}
	sFirstRare  = []string{"Zebulon", "Ottoline", "Kasimir", "Thaddeus", "Ysolde"}
	sLast       = []string{"Smith", "García", "Nguyen", "O'Brien", "Müller"}
	sFull       = []string{"Alice Smith", "James O'Brien", "Maria García", "Robert Chen", "Olivia Müller"}
	sFullRev    = []string{"Smith, Alice", "Chen, Robert", "García, Maria"}
	sProducts   = []string{"Wireless Mouse", "USB-C Cable 2m", "Standing Desk", "Coffee Beans 1kg", "Noise Cancelling Headphones"}
	sCompanies  = []string{"Acme Corp", "Globex", "Initech LLC", "Umbrella plc", "Stark Industries"}
	sAddresses  = []string{"12 Main Street", "450 Oak Avenue, Apt 3", "7 Baker St", "1600 Pennsylvania Ave NW", "Hauptstraße 5"}
	sCities     = []string{"Berlin", "Paris", "Springfield", "Lisbon", "Osaka"}
	sBirth      = []string{"1985-03-14", "1990-11-02", "1972-07-30", "2001-01-09"}
	sBirthEU    = []string{"14/03/1985", "02/11/1990", "30/07/1972"}
	sTimestamps = []string{"2024-01-02 03:04:05+00", "2023-12-31 23:59:59.123+00"}
	sCards      = []string{"4111111111111111", "5500 0000 0000 0004", "3400 000000 00009", "4012888888881881", "6011000990139424"}
	sIBANs      = []string{"DE89370400440532013000", "GB82 WEST 1234 5698 7654 32", "FR1420041010050500013M02606", "NL91ABNA0417164300", "ES9121000418450200051332"}
	sSSNs       = []string{"123-45-6789", "234-56-7890", "345-67-8901", "456-78-9012"}
	sPassports  = []string{"X1234567", "P9876543", "L5556667"}
	sTaxIDs     = []string{"12 345 678 901", "98 765 432 109"}
	sIPv4       = []string{"192.168.1.10", "10.0.0.5", "203.0.113.7", "172.16.4.20"}
	sIPv6       = []string{"2001:db8::1", "fe80::1ff:fe23:4567:890a", "2001:db8:85a3::8a2e:370:7334"}
	sFreeText   = []string{"Please call me at +1 415 555 0134 tomorrow", "Customer wrote from alice@example.com about the refund", "no issues", "Left parcel at door, ring 555-867-5309"}
	sCleanText  = []string{"Great product", "Delivered late", "Box was damaged", "Works as expected"}
	sIDs        = []string{"1", "2", "3", "17", "42"}
	sUUIDs      = []string{"123e4567-e89b-42d3-a456-426614174000", "9b2f1c6e-3f1a-4b8e-9c1d-2a7e5f6b8c9d"}
	sBools      = []string{"t", "f", "t"}
	sCounts     = []string{"0", "3", "12", "7"}
	sStatuses   = []string{"active", "pending", "suspended"}
	sSKUs       = []string{"SKU-1234", "SKU-5678", "SKU-9012"}
	sPrices     = []string{"19.99", "5.00", "120.50"}
	sVersions   = []string{"1.2.3", "2.0.0", "0.9.1"}
	sURLs       = []string{"https://example.com/a", "https://shop.example.org/p/12"}
	sHashes     = []string{"5f4dcc3b5aa765d61d8327deb882cf99", "e99a18c428cb38d5f260853678922e03"}
	sOrders     = []string{"ORD-2024-000123", "ORD-2024-000124", "ORD-2023-999001"}
	sJSONClean  = []string{`{"theme":"dark","beta":true}`, `{"theme":"light"}`}
	sJSONPII    = []string{`{"contact":{"email":"alice@example.com"},"note":"vip customer"}`, `{"contact":{"email":"bob@mail.org"}}`}
	sCurrencies = []string{"EUR", "USD", "GBP"}
	sCountries  = []string{"DE", "FR", "US"}
	sHosts      = []string{"db-1.internal", "api.example.com"}
	sTemplates  = []string{"welcome_v2", "reset_password"}
	sTitles     = []string{"Quarterly report", "Onboarding checklist", "Release notes 1.4"}
	sZips       = []string{"10115", "75001", "94107"}
	sUsernames  = []string{"alice_s", "bjones", "cwu42"}
	sMACs       = []string{"00:1a:2b:3c:4d:5e", "a4:5e:60:e8:12:34"}
	sDomains    = []string{"example.com", "corp.io", "mail.org"}
)

type fixtureColumn struct {
	name, sqlType string
	samples       []string
	kind          string
}

// piiFixture is the labelled fixture: columns as they appear in real
// schemas, with the kind of personal data they hold ("" for none).
var piiFixture = []fixtureColumn{
	// e-mail
	{"email", "text", sEmails, KindEmail},
	{"email", "character varying(255)", nil, KindEmail},
	{"user_email", "text", sEmails, KindEmail},
	{"emailAddress", "varchar", sEmails, KindEmail},
	{"contact_email", "citext", sEmails, KindEmail},
	{"billing_email", "text", nil, KindEmail},
	{"e_mail", "text", sEmails, KindEmail},
	{"mail", "text", sEmails, KindEmail},
	{"secondary_email", "text", sEmails, KindEmail},
	{"login", "text", sEmails, KindEmail},
	{"recipient", "text", sEmails, KindEmail},
	{"reply_to", "text", sEmails, KindEmail},
	{"owner", "text", sEmails, KindEmail},
	{"notify_address", "text", sEmails, KindEmail},
	{"customer_email_address", "text", nil, KindEmail},
	{"EmailAddr", "nvarchar", nil, KindEmail},
	{"cc_email", "text", sEmails, KindEmail},
	{"invite_email", "text", sEmails, KindEmail},
	// e-mail negatives
	{"email_verified", "boolean", sBools, ""},
	{"email_verified_at", "timestamp with time zone", sTimestamps, ""},
	{"email_count", "integer", sCounts, ""},
	{"email_opt_in", "boolean", sBools, ""},
	{"email_template", "text", sTemplates, ""},
	{"email_status", "text", sStatuses, ""},
	{"email_hash", "text", sHashes, ""},
	{"num_emails", "integer", sCounts, ""},
	{"email_id", "bigint", sIDs, ""},
	{"email_domain", "text", sDomains, ""},
	{"is_email_confirmed", "boolean", sBools, ""},
	{"email_bounced", "boolean", sBools, ""},
	{"mail_server", "text", sHosts, ""},
	{"email_provider", "text", sStatuses, ""},
	// phone
	{"phone", "text", sPhones, KindPhone},
	{"phone_number", "varchar(32)", sPhones, KindPhone},
	{"mobile", "text", sPhones, KindPhone},
	{"mobile_phone", "text", nil, KindPhone},
	{"cell_phone", "text", sPhones, KindPhone},
	{"telephone", "text", sPhones, KindPhone},
	{"tel", "text", sPhones, KindPhone},
	{"fax", "text", sPhones, KindPhone},
	{"msisdn", "text", sPhoneDigs, KindPhone},
	{"contact_number", "text", sPhones, KindPhone},
	{"phoneNumber", "varchar", nil, KindPhone},
	{"home_phone", "text", sPhones, KindPhone},
	{"work_phone", "text", sPhones, KindPhone},
	{"phone", "bigint", sPhoneDigs, KindPhone},
	{"emergency_contact_phone", "text", sPhones, KindPhone},
	{"contact", "text", sPhones, KindPhone},
	{"primary_contact", "text", sPhones, KindPhone},
	// phone negatives
	{"phone_count", "integer", sCounts, ""},
	{"phone_verified", "boolean", sBools, ""},
	{"phone_country_code", "text", sCountries, ""},
	{"phone_type", "text", sStatuses, ""},
	{"phone_extension", "text", []string{"12", "305"}, ""},
	{"num_phones", "integer", sCounts, ""},
	{"cell_id", "integer", sIDs, ""},
	{"order_number", "text", sOrders, ""},
	{"version", "text", sVersions, ""},
	{"microphone_enabled", "boolean", sBools, ""},
	// names
	{"first_name", "text", sFirst, KindFirstName},
	{"firstname", "varchar(100)", sFirst, KindFirstName},
	{"given_name", "text", sFirst, KindFirstName},
	{"FirstName", "nvarchar", nil, KindFirstName},
	{"fname", "text", sFirst, KindFirstName},
	{"forename", "text", sFirstRare, KindFirstName},
	{"customer_first_name", "text", sFirstRare, KindFirstName},
	{"first_name", "text", nil, KindFirstName},
	{"last_name", "text", sLast, KindLastName},
	{"lastname", "text", sLast, KindLastName},
	{"surname", "text", sLast, KindLastName},
	{"family_name", "text", sLast, KindLastName},
	{"LastName", "varchar", nil, KindLastName},
	{"lname", "text", sLast, KindLastName},
	{"maiden_name", "text", sLast, KindLastName},
	{"contact_last_name", "text", nil, KindLastName},
	{"full_name", "text", sFull, KindFullName},
	{"fullname", "text", sFull, KindFullName},
	{"name", "text", sFull, KindFullName},
	{"name", "text", sFullRev, KindFullName},
	{"customer_name", "text", sFull, KindFullName},
	{"contact_name", "text", nil, KindFullName},
	{"cardholder_name", "text", sFull, KindFullName},
	{"account_holder_name", "text", sFull, KindFullName},
	{"recipient_name", "text", sFull, KindFullName},
	{"sender_name", "text", nil, KindFullName},
	{"patient_name", "text", sFull, KindFullName},
	{"employee_name", "text", sFull, KindFullName},
	{"author_name", "text", sFull, KindFullName},
	{"shipping_name", "text", sFull, KindFullName},
	{"legal_name", "text", sFull, KindFullName},
	{"person_name", "text", nil, KindFullName},
	{"beneficiary_name", "text", sFull, KindFullName},
	{"emergency_contact_name", "text", sFull, KindFullName},
	{"owner_name", "text", sFull, KindFullName},
	{"guest_name", "text", sFull, KindFullName},
	{"signed_by", "text", sFull, KindFullName},
	{"created_by", "text", sFull, KindFullName},
	{"assignee", "text", sFull, KindFullName},
	// name negatives
	{"name", "text", sProducts, ""},
	{"name", "text", sCompanies, ""},
	{"name", "text", sCities, ""},
	{"name", "text", sTemplates, ""},
	{"product_name", "text", sProducts, ""},
	{"company_name", "text", sCompanies, KindCompany}, // issue #10: a person's company is personal data
	{"file_name", "text", []string{"report.pdf", "a.csv"}, ""},
	{"table_name", "name", []string{"users", "orders"}, ""},
	{"hostname", "text", sHosts, ""},
	{"display_name", "text", sProducts, ""},
	{"category_name", "text", []string{"Books", "Garden"}, ""},
	{"plan_name", "text", []string{"Pro", "Free"}, ""},
	{"bank_name", "text", sCompanies, ""},
	{"merchant_name", "text", sCompanies, ""},
	{"project_name", "text", sTitles, ""},
	{"team_name", "text", []string{"Payments", "Search"}, ""},
	{"first_login_at", "timestamp", sTimestamps, ""},
	{"last_login_at", "timestamp with time zone", sTimestamps, ""},
	{"last_seen", "timestamp", sTimestamps, ""},
	{"first_order_id", "bigint", sIDs, ""},
	{"username", "text", sUsernames, KindUsername}, // issue #10: usernames often are names
	{"screen_name", "text", sUsernames, KindUsername},
	{"title", "text", sTitles, ""},
	{"name_length", "integer", sCounts, ""},
	{"street_name", "text", []string{"Main Street", "Oak Avenue"}, ""},
	{"brand", "text", sCompanies, ""},
	{"city_name", "text", sCities, ""},
	{"nickname", "text", sUsernames, KindUsername},
	// addresses
	{"address", "text", sAddresses, KindAddress},
	{"street_address", "text", sAddresses, KindAddress},
	{"address_line1", "text", sAddresses, KindAddress},
	{"address_line_2", "text", nil, KindAddress},
	{"billing_address", "text", sAddresses, KindAddress},
	{"shipping_address", "text", sAddresses, KindAddress},
	{"home_address", "text", nil, KindAddress},
	{"mailing_address", "text", sAddresses, KindAddress},
	{"addr1", "text", sAddresses, KindAddress},
	{"street", "text", sAddresses, KindAddress},
	{"location", "text", sAddresses, KindAddress},
	{"delivery_to", "text", sAddresses, KindAddress},
	{"postal_address", "text", nil, KindAddress},
	{"residence", "text", sAddresses, KindAddress},
	// address negatives
	{"ip_address", "inet", sIPv4, KindIP},
	{"mac_address", "macaddr", sMACs, ""},
	{"email_address", "text", sEmails, KindEmail},
	{"address_verified", "boolean", sBools, ""},
	{"address_type", "text", sStatuses, ""},
	{"address_id", "bigint", sIDs, ""},
	{"wallet_address", "text", sHashes, ""},
	{"server_address", "text", sHosts, ""},
	{"city", "text", sCities, ""},
	{"country", "text", sCountries, ""},
	{"zip_code", "text", sZips, KindPostalCode}, // issue #10: postal codes are quasi-identifiers
	// birth dates
	{"birth_date", "date", sBirth, KindBirthDate},
	{"date_of_birth", "date", sBirth, KindBirthDate},
	{"dob", "date", sBirth, KindBirthDate},
	{"birthday", "date", nil, KindBirthDate},
	{"birthdate", "text", sBirthEU, KindBirthDate},
	{"DateOfBirth", "timestamp without time zone", sTimestamps, KindBirthDate},
	{"born_on", "date", sBirth, KindBirthDate},
	{"patient_dob", "date", sBirth, KindBirthDate},
	// birth date negatives
	{"created_at", "timestamp with time zone", sTimestamps, ""},
	{"updated_at", "timestamp with time zone", sTimestamps, ""},
	{"order_date", "date", sBirth, ""},
	{"start_date", "date", sBirth, ""},
	{"birth_year_verified", "boolean", sBools, ""},
	{"place_of_birth", "text", sCities, ""},
	{"expires_on", "date", sBirth, ""},
	// cards
	{"card_number", "text", sCards, KindCreditCard},
	{"credit_card", "text", sCards, KindCreditCard},
	{"cc_number", "text", sCards, KindCreditCard},
	{"pan", "text", sCards, KindCreditCard},
	{"card_no", "varchar(19)", nil, KindCreditCard},
	{"creditCardNumber", "text", sCards, KindCreditCard},
	{"payment_instrument", "text", sCards, KindCreditCard},
	{"cc", "text", sCards, KindCreditCard},
	// card negatives
	{"card_last4", "text", []string{"1111", "0004"}, ""},
	{"card_brand", "text", []string{"visa", "mastercard"}, ""},
	{"card_expiry", "text", []string{"12/27", "01/26"}, ""},
	{"card_type", "text", []string{"credit", "debit"}, ""},
	{"card_count", "integer", sCounts, ""},
	{"order_total", "numeric(12,2)", sPrices, ""},
	{"tracking_number", "text", []string{"1Z999AA10123456784", "9400111899223856789012"}, ""},
	// IBANs
	{"iban", "text", sIBANs, KindIBAN},
	{"IBAN", "varchar(34)", nil, KindIBAN},
	{"payout_iban", "text", sIBANs, KindIBAN},
	{"bank_account", "text", sIBANs, KindIBAN},
	{"account", "text", sIBANs, KindIBAN},
	{"refund_account", "text", sIBANs, KindIBAN},
	// IBAN negatives
	{"iban_verified", "boolean", sBools, ""},
	{"account_type", "text", sStatuses, ""},
	{"bank_country", "text", sCountries, ""},
	{"currency", "char(3)", sCurrencies, ""},
	// national IDs
	{"ssn", "text", sSSNs, KindNationalID},
	{"social_security_number", "text", sSSNs, KindNationalID},
	{"national_id", "text", sPassports, KindNationalID},
	{"tax_id", "text", sTaxIDs, KindNationalID},
	{"passport_number", "text", sPassports, KindNationalID},
	{"drivers_license", "text", sPassports, KindNationalID},
	{"nino", "text", []string{"QQ123456C", "AB654321D"}, KindNationalID},
	{"sin", "text", []string{"046 454 286", "130 692 544"}, KindNationalID},
	{"tin", "varchar", nil, KindNationalID},
	{"id_number", "text", sPassports, KindNationalID},
	{"personal_id", "text", sSSNs, KindNationalID},
	{"gov_id", "text", sSSNs, KindNationalID},
	{"ssn", "bigint", []string{"123456789", "234567890"}, KindNationalID},
	// national ID negatives
	{"id", "bigint", sIDs, ""},
	{"user_id", "bigint", sIDs, ""},
	{"customer_id", "uuid", sUUIDs, ""},
	{"external_id", "text", sOrders, ""},
	{"session_id", "text", sHashes, ""},
	{"tax_rate", "numeric", sPrices, ""},
	{"tenant_id", "integer", sIDs, ""},
	{"request_id", "uuid", sUUIDs, ""},
	{"ssn_verified", "boolean", sBools, ""},
	// IPs
	{"ip", "inet", sIPv4, KindIP},
	{"ip_address", "text", sIPv4, KindIP},
	{"client_ip", "text", sIPv6, KindIP},
	{"last_login_ip", "inet", sIPv4, KindIP},
	{"remote_addr", "text", sIPv4, KindIP},
	{"ipv6", "text", sIPv6, KindIP},
	{"source", "text", sIPv4, KindIP},
	{"signup_ip", "inet", nil, KindIP},
	{"origin", "inet", sIPv6, KindIP},
	// IP negatives
	{"ip_whitelist_enabled", "boolean", sBools, ""},
	{"ip_count", "integer", sCounts, ""},
	{"zip", "text", sZips, KindPostalCode},
	{"recipient_count", "integer", sCounts, ""},
	{"ship_to_country", "text", sCountries, ""},
	{"app_version", "text", sVersions, ""},
	{"ip_allowlist", "text", []string{"10.0.0.0/8"}, ""},
	// free text with personal data
	{"notes", "text", sFreeText, KindFreeTextPII},
	{"comment", "text", sFreeText, KindFreeTextPII},
	{"description", "text", sFreeText, KindFreeTextPII},
	{"message_body", "text", sFreeText, KindFreeTextPII},
	{"support_ticket_text", "text", sFreeText, KindFreeTextPII},
	{"metadata", "jsonb", sJSONPII, KindFreeTextPII},
	{"delivery_instructions", "text", sFreeText, KindFreeTextPII},
	// free text negatives
	{"notes", "text", sCleanText, ""},
	{"review", "text", sCleanText, ""},
	{"settings", "jsonb", sJSONClean, ""},
	{"description", "text", sTitles, ""},
	{"changelog", "text", sVersions, ""},
	// other non-personal columns
	{"created_at", "timestamp", nil, ""},
	{"status", "text", sStatuses, ""},
	{"sku", "text", sSKUs, ""},
	{"price", "numeric(10,2)", sPrices, ""},
	{"quantity", "integer", sCounts, ""},
	{"url", "text", sURLs, ""},
	{"homepage", "text", sURLs, ""},
	{"password_hash", "text", sHashes, KindCredential}, // issue #10: hashes can be cracked offline
	{"api_key_hash", "text", sHashes, KindCredential},
	{"is_active", "boolean", sBools, ""},
	{"deleted", "boolean", sBools, ""},
	{"uuid", "uuid", sUUIDs, ""},
	{"slug", "text", sTemplates, ""},
	{"locale", "text", []string{"en-US", "de-DE"}, ""},
	{"timezone", "text", []string{"Europe/Berlin", "UTC"}, ""},
	{"currency_code", "text", sCurrencies, ""},
	{"amount", "numeric", sPrices, ""},
}

// classify returns the top detected kind or "".
func classify(c fixtureColumn) string {
	f := Detect(Column{Name: c.name, SQLType: c.sqlType, Samples: c.samples})
	if len(f) == 0 {
		return ""
	}
	return f[0].Kind
}

func TestDetect_PrecisionRecall(t *testing.T) {
	if len(piiFixture) < 200 {
		t.Fatalf("fixture has %d columns, want at least 200", len(piiFixture))
	}
	tp, fp, fn := 0, 0, 0
	for _, c := range piiFixture {
		got := classify(c)
		switch {
		case got == "" && c.kind == "": // true negative
		case got == c.kind:
			tp++
		case got != "" && c.kind == "":
			fp++
			t.Logf("false positive: %s %s -> %s", c.name, c.sqlType, got)
		case got == "" && c.kind != "":
			fn++
			t.Logf("false negative: %s %s (want %s)", c.name, c.sqlType, c.kind)
		default: // wrong kind: a false positive and a false negative
			fp++
			fn++
			t.Logf("wrong kind: %s %s -> %s (want %s)", c.name, c.sqlType, got, c.kind)
		}
	}
	precision := float64(tp) / float64(tp+fp)
	recall := float64(tp) / float64(tp+fn)
	summary := fmt.Sprintf("PII detector on %d labelled columns: precision %.3f, recall %.3f (tp=%d fp=%d fn=%d)",
		len(piiFixture), precision, recall, tp, fp, fn)
	t.Log(summary)
	fmt.Println(summary) // visible without -v
	if recall < 0.95 || precision < 0.9 {
		t.Errorf("want recall >= 0.95 and precision >= 0.9")
	}
}
