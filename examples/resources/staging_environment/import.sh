# Environments are imported by name.
terraform import staging_environment.feature pay-feature-x
