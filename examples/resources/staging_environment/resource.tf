resource "staging_environment" "feature" {
  name       = "pay-feature-x"
  team       = staging_team.payments.name
  owner      = "alice@example.com"
  production = "prod-eu"
  ttl        = "72h" # change it to extend: the new ttl counts from the apply
  labels = {
    pr = "1234"
  }
}

# Every resource of the environment carries its namespace and tags.
resource "aws_s3_bucket" "assets" {
  bucket = "${staging_environment.feature.namespace}-assets"
  tags   = staging_environment.feature.tags
}
