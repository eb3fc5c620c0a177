resource "staging_team" "payments" {
  name             = "payments"
  max_environments = 5     # creating a sixth fails and lists the five
  default_ttl      = "72h" # environments without a ttl get three days
  max_ttl          = "14d" # and none may live longer than two weeks
  owners           = ["alice@example.com", "bob@example.com"]
}
