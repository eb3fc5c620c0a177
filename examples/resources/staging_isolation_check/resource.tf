variable "prod_dsn" {
  type      = string
  sensitive = true
  ephemeral = true
}

variable "staging_dsn" {
  type      = string
  sensitive = true
  ephemeral = true
}

variable "credential_root_secret" {
  type      = string
  sensitive = true
  ephemeral = true
}

provider "staging" {
  credential_root_secret = var.credential_root_secret
  postgres {
    name = "prod" # its host and port count as production hosts
    dsn  = var.prod_dsn
    role = "production"
  }
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

ephemeral "staging_credential" "app_db" {
  environment = staging_environment.checkout.name
  name        = "app-db"
}

resource "staging_postgres_role" "app" {
  postgres            = "staging"
  name                = "${staging_environment.checkout.namespace}_app"
  environment         = staging_environment.checkout.name
  preset              = "read_write"
  password_wo         = ephemeral.staging_credential.app_db.value
  password_wo_version = 1
}

# Fingerprints production publishes of its own secrets, for example with
# provider::staging::secret_fingerprint(var.orders_db_password, "…salt…")
# in production's configuration. Only fingerprints cross over.
variable "production_fingerprints" {
  type        = map(string)
  description = "Name → Argon2id fingerprint of each production secret."
  default     = {}
}

resource "staging_isolation_check" "checkout" {
  environment = staging_environment.checkout.name # the report goes to the audit log

  # Staging's application configuration: write-only, never in plan or
  # state; findings name keys, never values.
  config_wo = {
    DATABASE_URL   = "postgres://${staging_postgres_role.app.name}:${ephemeral.staging_credential.app_db.value}@staging-db.internal:5432/shop"
    PAYMENTS_API   = "https://api-m.sandbox.paypal.com"
    LIVE_PAYMENTS  = "false"
    MAIL_TRANSPORT = "mailpit:1025"
  }

  production_hosts               = ["*.prod.example.com", "payments-db.internal:5432"]
  production_cidrs               = ["10.20.0.0/16"]
  production_secret_fingerprints = var.production_fingerprints

  forbidden_flag {
    name   = "real_mail"
    key    = "MAIL_TRANSPORT"
    values = ["ses", "smtp.sendgrid.net:587"]
    reason = "staging delivers mail to a sink, never to customers"
  }

  postgres = "staging" # foreign servers, user mappings, dblink strings, subscriptions

  # The live probe: staging's login must be refused by production.
  probe_production  = "prod"
  probe_user        = staging_postgres_role.app.name
  probe_password_wo = ephemeral.staging_credential.app_db.value
  probe_timeout     = "3s"
}

output "isolation_report" {
  value = staging_isolation_check.checkout.report
}
