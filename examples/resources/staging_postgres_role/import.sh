# A role is imported by <postgres connection>/<role name>. A role this
# provider created recovers its preset, schemas, environment and
# password_wo_version from its registration, so the plan after the import
# is empty.
terraform import staging_postgres_role.reporting staging/pay-checkout-kxy6cn_reporting
