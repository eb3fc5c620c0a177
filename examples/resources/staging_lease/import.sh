# Leases are imported by their id.
terraform import staging_lease.load_test lease-0123456789abcdef
