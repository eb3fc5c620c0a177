package isolation

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
)

// SCRAMIterations is the iteration count of the verifiers SCRAMVerifier
// makes, PostgreSQL's default (scram_iterations).
const SCRAMIterations = 4096

// ErrNonASCIIPassword is returned for a password PostgreSQL would
// normalise with SASLprep before hashing, which SCRAMVerifier does not do.
var ErrNonASCIIPassword = errors.New("the password holds characters outside ASCII; PostgreSQL normalises those (SASLprep) before hashing, " +
	"which this provider does not reproduce: use an ASCII password, such as one from staging_credential")

// SCRAMVerifier returns the SCRAM-SHA-256 verifier PostgreSQL stores for
// password (RFC 5802 and RFC 7677, PostgreSQL's text form
// SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>), with a fresh
// random salt. Setting a role's password to its verifier, as psql's
// \password does, keeps the password itself out of the server's
// statement log. Only ASCII passwords are accepted: SASLprep leaves them
// unchanged.
func SCRAMVerifier(password string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("isolation: drawing a salt: %w", err)
	}
	return scramVerifier(password, salt, SCRAMIterations)
}

func scramVerifier(password string, salt []byte, iterations int) (string, error) {
	for i := 0; i < len(password); i++ {
		if password[i] >= 0x80 {
			return "", ErrNonASCIIPassword
		}
	}
	serverKey, storedKey, err := scramKeys(password, salt, iterations)
	if err != nil {
		return "", err
	}
	enc := base64.StdEncoding
	return fmt.Sprintf("SCRAM-SHA-256$%d:%s$%s:%s", iterations, enc.EncodeToString(salt), enc.EncodeToString(storedKey), enc.EncodeToString(serverKey)), nil
}

// scramKeys computes ServerKey and StoredKey from the salted password.
func scramKeys(password string, salt []byte, iterations int) (serverKey, storedKey []byte, err error) {
	salted, err := pbkdf2.Key(sha256.New, password, salt, iterations, sha256.Size)
	if err != nil {
		return nil, nil, fmt.Errorf("isolation: salting the password: %w", err)
	}
	mac := func(key []byte, msg string) []byte {
		h := hmac.New(sha256.New, key)
		h.Write([]byte(msg))
		return h.Sum(nil)
	}
	clientKey := mac(salted, "Client Key")
	sum := sha256.Sum256(clientKey)
	return mac(salted, "Server Key"), sum[:], nil
}
