provider "staging" {
  masking_key = var.masking_key # never stored; or STAGING_MASKING_KEY

  postgres {
    name = "prod"
    dsn  = var.prod_dsn
    role = "production"
  }
}

# Realistic, masked fixtures for an integration test, from production.
data "staging_masked_rows" "customers" {
  postgres = "prod"
  query    = "SELECT id, email, first_name, country FROM customers ORDER BY id"
  limit    = 20

  rule {
    column      = "email"
    transformer = "email"
    domain      = "customer_email"
  }
  rule {
    column      = "first_name"
    transformer = "first_name"
  }
}

resource "local_file" "fixtures" {
  filename = "${path.module}/fixtures/customers.json"
  content  = jsonencode(data.staging_masked_rows.customers.rows)
}

# Ephemeral (Terraform >= 1.10): neither is written to a saved plan or the
# state, and both may only feed provider configuration.
variable "masking_key" {
  type      = string
  sensitive = true
  ephemeral = true
}

variable "prod_dsn" {
  type      = string
  sensitive = true
  ephemeral = true
}
