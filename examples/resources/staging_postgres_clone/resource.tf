# The masking secret of the environment. Ephemeral: it never reaches plan or
# state, and the clone's key attribute is write-only.
variable "masking_key" {
  type      = string
  sensitive = true
  ephemeral = true
}

# Copy production into staging: a fifth of the customers with everything
# that references them, every personal column masked.
resource "staging_postgres_clone" "shop" {
  source      = "prod"    # a postgres connection with role = "production"
  target      = "staging" # role = "staging"; never the source database
  environment = staging_environment.checkout.name
  key         = var.masking_key
  key_version = 1 # bump when the key changes

  rule {
    table       = "customers"
    column      = "email"
    transformer = "email"
    domain      = "customer_email" # orders.billing_email uses the same domain: joins still match
  }
  rule {
    table       = "orders"
    column      = "billing_email"
    transformer = "email"
    domain      = "customer_email"
  }
  rule {
    table       = "customers"
    column      = "phone"
    transformer = "phone"
  }
  rule {
    table       = "customers"
    column      = "birth_date"
    transformer = "date_shift"
    options     = { max_days = "90", keep_year = "true" }
  }
  rule {
    table       = "payments"
    column      = "card_number"
    transformer = "credit_card"
  }

  subset {
    table   = "customers"
    percent = 20
  }
  null_dangling_references = true

  refresh_after = "7d" # plan a fresh copy once a week
  triggers = {
    release = var.release # or when production's schema changes
  }

  timeouts {
    create = "90m"
  }
}

variable "release" {
  type = string
}

output "rows_copied" {
  value = staging_postgres_clone.shop.rows_total
}
