// Command terraform-provider-staging serves the staging provider to
// Terraform over protocol 6.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"

	"github.com/stagingkit/terraform-provider-staging/internal/provider"
)

// Set at build time: -ldflags "-X main.version=1.2.3 -X main.commit=abc123".
var (
	version = "dev"
	commit  = "none"
)

func main() {
	var debug, showVersion bool
	flag.BoolVar(&debug, "debug", false, "run the provider with support for debuggers such as delve")
	flag.BoolVar(&showVersion, "version", false, "print the version and exit")
	flag.Parse()

	if showVersion {
		fmt.Printf("terraform-provider-staging %s (commit %s)\n", version, commit)
		return
	}

	err := providerserver.Serve(context.Background(), provider.New(version), providerserver.ServeOpts{
		Address: "registry.terraform.io/stagingkit/staging",
		Debug:   debug,
	})
	if err != nil {
		log.Fatal(err.Error())
	}
}
