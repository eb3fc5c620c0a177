package provider

import (
	"context"
	"errors"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/function"

	"github.com/stagingkit/terraform-provider-staging/internal/isolation"
)

var _ function.Function = (*secretFingerprintFunction)(nil)

func newSecretFingerprintFunction() function.Function { return &secretFingerprintFunction{} }

// secretFingerprintFunction is provider::staging::secret_fingerprint: how
// the production side publishes its secrets for staging_isolation_check
// without giving them away.
type secretFingerprintFunction struct{}

func (f *secretFingerprintFunction) Metadata(_ context.Context, _ function.MetadataRequest, resp *function.MetadataResponse) {
	resp.Name = "secret_fingerprint"
}

func (f *secretFingerprintFunction) Definition(_ context.Context, _ function.DefinitionRequest, resp *function.DefinitionResponse) {
	p := isolation.DefaultFingerprintParams
	resp.Definition = function.Definition{
		Summary: "Fingerprint a production secret so staging can prove it does not hold it.",
		MarkdownDescription: "Returns the Argon2id fingerprint of `value` with `salt`, in PHC string format " +
			"(`$argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt>$<hash>`, unpadded base64). " +
			"The production side publishes fingerprints of its secrets (in outputs, a parameter store, a file) and " +
			"`staging_isolation_check` compares every staging configuration value against them, so the production " +
			"secret itself never has to be given to staging.\n\n" +
			fmt.Sprintf("Parameters: Argon2id (RFC 9106), %d KiB of memory, %d passes, %d lane, %d bytes of output: ", p.MemoryKiB, p.Time, p.Threads, p.KeyLen) +
			"OWASP's first recommended configuration, " +
			"about 60 ms per fingerprint on a 2-core machine, so that a leaked fingerprint does not let anyone try a dictionary of weak passwords cheaply. " +
			"The salt must be at least 8 bytes; use 16 random bytes or more, one salt for all secrets of an environment " +
			"(the check then hashes each staging value once). The salt is not a secret and is part of the result. " +
			"Pass `value` from an ephemeral or sensitive source; the result is safe to store.",
		Parameters: []function.Parameter{
			function.StringParameter{
				Name:                "value",
				MarkdownDescription: "The production secret to fingerprint.",
			},
			function.StringParameter{
				Name:                "salt",
				MarkdownDescription: "The salt, at least 8 bytes (16 random bytes recommended), the same for every secret published for one check.",
			},
		},
		Return: function.StringReturn{},
	}
}

func (f *secretFingerprintFunction) Run(ctx context.Context, req function.RunRequest, resp *function.RunResponse) {
	var value, salt string
	resp.Error = function.ConcatFuncErrors(resp.Error, req.Arguments.Get(ctx, &value, &salt))
	if resp.Error != nil {
		return
	}
	fp, err := isolation.SecretFingerprint(value, salt)
	if errors.Is(err, isolation.ErrEmptySalt) || errors.Is(err, isolation.ErrShortSalt) {
		resp.Error = function.NewArgumentFuncError(1, "Invalid salt: "+err.Error())
		return
	}
	if err != nil {
		resp.Error = function.NewFuncError("Error computing the fingerprint: " + err.Error())
		return
	}
	resp.Error = function.ConcatFuncErrors(resp.Error, resp.Result.Set(ctx, fp))
}
