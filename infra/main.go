// Command infra is Tilgang's CDK app: one stack, TilgangStack, with the HTTP API, the functions,
// the table, the queues, the event bus, the schedule and the Cognito user pool.
//
// The CDK CLI builds and runs it from the repository root, as cdk.json says, and hands it the
// context of cdk.json. It runs from the root, not from infra/, because the CLI gives it a
// relative output folder (cdk.out) that must land where the CLI reads it. Run by hand or from a test, it does not read cdk.json: pass the same context
// (AppProps.Context, or CDK_CONTEXT_JSON) to get the template that is deployed.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
)

// Context keys of the app.
const (
	// ctxAssetDir overrides where the function binaries are read from (default build, the
	// Makefile's build/<fn>/bootstrap, relative to the repository root).
	ctxAssetDir = "assetDir"
	// ctxStubAssets ("true") synthesizes with stub bootstrap files, to check the template
	// without cross-compiling the functions. Never deploy such a template.
	ctxStubAssets = "stubAssets"
)

func main() {
	defer jsii.Close()

	app := awscdk.NewApp(nil)
	assetDir, err := filepath.Abs(contextString(app, ctxAssetDir, "build"))
	if err != nil {
		fail(err)
	}
	if contextString(app, ctxStubAssets, "") == "true" {
		if assetDir, err = writeStubAssets(); err != nil {
			fail(err)
		}
		// Synth copies the assets into cdk.out, so the stubs can go afterwards.
		defer os.RemoveAll(assetDir)
	}
	if _, err := NewTilgangStack(app, "TilgangStack", &TilgangStackProps{
		StackProps: awscdk.StackProps{
			// No Env: the template stays environment-agnostic so synth needs no credentials
			// and no look-ups; `cdk deploy` fills in the account and region.
			Description: jsii.String("Tilgang: user and access management"),
		},
		AssetDir: assetDir,
	}); err != nil {
		fail(err)
	}
	app.Synth(nil)
}

// writeStubAssets writes a stub bootstrap per function into a temporary folder.
func writeStubAssets() (string, error) {
	dir, err := os.MkdirTemp("", "tilgang-assets-")
	if err != nil {
		return "", err
	}
	for _, fn := range deployedFunctions() {
		if err := os.MkdirAll(filepath.Join(dir, fn), 0o755); err != nil {
			return "", err
		}
		stub := []byte("#!/bin/sh\necho 'stub bootstrap of " + fn + ": run make build'\nexit 1\n")
		if err := os.WriteFile(filepath.Join(dir, fn, "bootstrap"), stub, 0o755); err != nil {
			return "", err
		}
	}
	return dir, nil
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "infra:", err)
	jsii.Close()
	os.Exit(1)
}
