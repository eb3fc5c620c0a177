# Claim the shared QA environment for a load test. Anyone else who tries to
# lease it meanwhile is refused with this holder, reason and expiry.
resource "staging_lease" "load_test" {
  environment = "qa-shared"
  duration    = "4h"
  reason      = "load test of the checkout flow"
}
