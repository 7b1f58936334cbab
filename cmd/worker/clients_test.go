package main

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The MongoDB driver's URI errors quote raw option values and parts of the
// password: the worker replaces them with a reason that names the host only.
func TestNewMongoErrorNamesHostNotSecrets(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, uri string }{
		{"bad option value", "mongodb://u:" + secretWord + "@h1:27017/?maxPoolSize=" + secretWord},
		{"bad tls value", "mongodb://u:" + secretWord + "@h1:27017/?tlsCertificateKeyFilePassword=" + secretWord + "&tls=" + secretWord},
		{"bad escape in password", "mongodb://u:" + secretWord + "%zz" + secretWord + "@h1:27017/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := newMongo(Config{MongoURI: tt.uri})
			require.Error(t, err)
			assert.NotContains(t, err.Error(), secretWord)
			assert.NotContains(t, err.Error(), "zz")
			assert.Contains(t, err.Error(), "h1:27017")
		})
	}
}

func TestScrubSecrets(t *testing.T) {
	t.Parallel()
	uri := "mongodb://carol:" + secretWord + "@m1/?authSource=admin;authMechanismProperties=AWS_SESSION_TOKEN:tok-123"
	err := scrubSecrets(errors.New("auth as carol:"+secretWord+" with AWS_SESSION_TOKEN:tok-123 failed on m1"), uri)
	assert.Equal(t, "auth as carol:xxxxx with xxxxx failed on m1", err.Error())
	err = scrubSecrets(errors.New("token tok-123 refused"), uri)
	assert.Equal(t, "token xxxxx refused", err.Error(), "a part of a secret value")
}
