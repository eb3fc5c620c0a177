# The provider derives every credential from one root secret, given as an
# ephemeral variable (or STAGING_CREDENTIAL_ROOT_SECRET): never in a plan
# or the state. Generate it once with `openssl rand -hex 32` and keep it in
# a secret manager, away from staging's own configuration.
variable "credential_root_secret" {
  type      = string
  sensitive = true
  ephemeral = true
}

variable "staging_dsn" {
  type      = string
  sensitive = true
  ephemeral = true
}

provider "staging" {
  credential_root_secret = var.credential_root_secret
  postgres {
    name = "staging"
    dsn  = var.staging_dsn
    role = "staging"
  }
}

resource "staging_team" "payments" {
  name = "payments"
}

resource "staging_environment" "checkout" {
  name = "pay-checkout"
  team = staging_team.payments.name
  ttl  = "7d"
}

# The pattern: ephemeral credential -> write-only password -> role ->
# application configuration. The same value comes back in every plan and
# apply until version changes, so the role's password and the
# application's copy never drift apart.
ephemeral "staging_credential" "app_db" {
  environment = staging_environment.checkout.name
  name        = "app-db"
  version     = 1 # bump here and in password_wo_version to rotate
  length      = 40
  exclude     = "0O1lI"
}

resource "staging_postgres_role" "app" {
  postgres            = "staging"
  name                = "${staging_environment.checkout.namespace}_app"
  environment         = staging_environment.checkout.name # valid until the environment expires
  preset              = "read_write"
  password_wo         = ephemeral.staging_credential.app_db.value
  password_wo_version = 1
}

# A token for a webhook, and a deploy key whose public half may be stored.
ephemeral "staging_credential" "webhook" {
  environment = staging_environment.checkout.name
  name        = "webhook-signing"
  type        = "token"
  bytes       = 32
  encoding    = "hex"
}

ephemeral "staging_credential" "deploy" {
  environment = staging_environment.checkout.name
  name        = "deploy-key"
  type        = "ed25519"
}

# Hand the values to the application through write-only arguments or
# provider configuration, such as a Kubernetes secret's `data_wo` or a
# secret manager's `secret_string_wo` (Terraform >= 1.11), for example:
#
# resource "aws_secretsmanager_secret_version" "app" {
#   secret_id                = aws_secretsmanager_secret.app.id
#   secret_string_wo         = "postgres://${staging_postgres_role.app.name}:${ephemeral.staging_credential.app_db.value}@staging-db:5432/shop"
#   secret_string_wo_version = 1
# }
