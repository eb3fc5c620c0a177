# A production PostgreSQL database copied into staging through masking and
# subsetting, a least-privileged application login with an ephemeral
# password, a parity check of the copy's schema against production, and an
# isolation check of the application's staging configuration and database.

locals {
  # Rules are keyed by schema.table.column, the way the PII scan names columns.
  given_rules = {
    for r in var.rules : "${strcontains(r.table, ".") ? r.table : "public.${r.table}"}.${r.column}" => r
  }

  scan_rules = var.rules_from_scan ? {
    for c in data.staging_pii_scan.production[0].columns : "${c.table}.${c.column}" => {
      table       = c.table
      column      = c.column
      transformer = c.suggested_transformer
      domain      = c.suggested_domain == "" ? null : c.suggested_domain
      options     = try({ for k, v in jsondecode(c.suggested_options_json) : k => tostring(v) }, null)
      on_invalid  = c.suggested_on_invalid == "" ? null : c.suggested_on_invalid
    }
  } : {}

  # Given rules win over suggestions for the same column.
  rules = [for k in sort(keys(merge(local.scan_rules, local.given_rules))) : merge(local.scan_rules, local.given_rules)[k]]

  role_name       = "${var.environment.namespace}_${var.app_role.name}"
  credential_name = "${replace(var.app_role.name, "_", "-")}-db"
}

data "staging_pii_scan" "production" {
  count = var.rules_from_scan ? 1 : 0

  postgres = var.production_connection
}

resource "staging_postgres_clone" "this" {
  source      = var.production_connection
  target      = var.staging_connection
  environment = var.environment.name
  key         = var.masking_key
  key_version = var.key_version

  dynamic "rule" {
    for_each = local.rules
    content {
      table       = rule.value.table
      column      = rule.value.column
      transformer = rule.value.transformer
      domain      = rule.value.domain
      options     = rule.value.options
      on_invalid  = rule.value.on_invalid
    }
  }

  dynamic "subset" {
    for_each = var.subsets
    content {
      table   = subset.value.table
      percent = subset.value.percent
      where   = subset.value.where
    }
  }

  null_dangling_references = var.null_dangling_references
  refresh_after            = var.refresh_after
}

ephemeral "staging_credential" "app" {
  environment = var.environment.name
  name        = local.credential_name
  version     = var.app_role.credential_version
}

resource "staging_postgres_role" "app" {
  postgres            = var.staging_connection
  name                = local.role_name
  environment         = var.environment.name
  preset              = var.app_role.preset
  schemas             = var.app_role.schemas
  connection_limit    = var.app_role.connection_limit
  password_wo         = ephemeral.staging_credential.app.value
  password_wo_version = var.app_role.credential_version

  # The role's grants cover the tables of the copy.
  depends_on = [staging_postgres_clone.this]
}

data "staging_postgres_fingerprint" "production" {
  postgres = var.production_connection
  schemas  = var.parity_schemas
}

data "staging_postgres_fingerprint" "staging" {
  postgres = var.staging_connection
  schemas  = var.parity_schemas

  # Read the copy, not what was there before it.
  depends_on = [staging_postgres_clone.this]
}

resource "staging_parity_check" "database" {
  environment = var.environment.name

  production = {
    version    = data.staging_postgres_fingerprint.production.server_version
    encoding   = data.staging_postgres_fingerprint.production.encoding
    extensions = data.staging_postgres_fingerprint.production.extensions
    tables     = data.staging_postgres_fingerprint.production.tables
  }
  staging = {
    version    = data.staging_postgres_fingerprint.staging.server_version
    encoding   = data.staging_postgres_fingerprint.staging.encoding
    extensions = data.staging_postgres_fingerprint.staging.extensions
    tables     = data.staging_postgres_fingerprint.staging.tables
  }

  rule {
    path  = "version"
    match = "same_major"
  }
  rule {
    path  = "encoding"
    match = "exact"
  }
  rule {
    path  = "extensions"
    match = "exact"
  }
  rule {
    path  = "tables"
    match = "exact" # an unapplied migration fails the plan, naming the table
  }

  dynamic "exception" {
    for_each = var.parity_exceptions
    content {
      path    = exception.value.path
      reason  = exception.value.reason
      expires = exception.value.expires
    }
  }
}

resource "staging_isolation_check" "this" {
  environment = var.environment.name

  config_wo = merge(var.app_config, {
    DATABASE_URL = "postgres://${staging_postgres_role.app.name}:${ephemeral.staging_credential.app.value}@${var.staging_host}:${var.staging_port}/${staging_postgres_role.app.database}"
  })
  masking_key_wo = var.masking_key

  production_hosts               = var.production_hosts
  production_cidrs               = var.production_cidrs
  production_secret_fingerprints = var.production_secret_fingerprints

  postgres          = var.staging_connection
  probe_production  = var.probe_production ? var.production_connection : null
  probe_user        = var.probe_production ? staging_postgres_role.app.name : null
  probe_password_wo = var.probe_production ? ephemeral.staging_credential.app.value : null
}
