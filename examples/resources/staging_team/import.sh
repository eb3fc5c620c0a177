# Teams are imported by name.
terraform import staging_team.payments payments
