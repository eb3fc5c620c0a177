# tflint configuration for the documentation snippets under examples/
# (resources/, data-sources/, ephemeral-resources/, functions/, provider/):
# each is a fragment rendered into one page of docs/, not a root module, so
# the terraform block with version constraints (shown once, in the provider
# page and the quick start) is not repeated in every one. The root-module
# examples (quickstart/, complete/, postgres-clone*/) and the modules are
# linted with tflint's defaults.
rule "terraform_required_version" {
  enabled = false
}

rule "terraform_required_providers" {
  enabled = false
}
