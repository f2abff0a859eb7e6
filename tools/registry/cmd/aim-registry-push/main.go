// aim-registry-push pushes the fixed set of test images that aim-engine's registry integration
// suite expects (see test/integration/registry/). The images are tiny (one small layer) and
// deterministic, so digests are stable between runs.
package main

import (
	"flag"
	"fmt"
	"log"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

const recommended = `[{"gpuModel":"MI300X","gpuCount":1,"precision":"fp8","metric":"latency"},` +
	`{"gpuModel":"MI300X","gpuCount":8,"precision":"fp16","metric":"throughput","profileId":"p-8x"}]`

func main() {
	registry := flag.String("registry", "127.0.0.1:5101", "registry host:port (plain HTTP)")
	user := flag.String("user", "", "user (basic credentials, also used against a token realm)")
	password := flag.String("password", "", "password")
	flag.Parse()

	opts := []remote.Option{}
	if *user != "" {
		opts = append(opts, remote.WithAuth(&authn.Basic{Username: *user, Password: *password}))
	}

	labelled := image(types.DockerManifestSchema2, types.DockerConfigJSON, types.DockerLayer, "amd64", map[string]string{
		"com.amd.aim.model.canonicalName":               "meta-llama/Llama-3.1-8B-Instruct",
		"com.amd.aim.model.recommendedDeployments":      recommended,
		"com.amd.aim.model.tags":                        "chat, llama ,,instruct",
		"com.amd.aim.hfToken.required":                  "true",
		"aim.eai.amd.com/model.recommended-deployments": recommended,
		"aim.eai.amd.com/model.name":                    "meta-llama/Llama-3.1-8B-Instruct",
		"aim.eai.amd.com/model.family":                  "llama",
		"org.opencontainers.image.title":                "Llama 3.1 8B Instruct",
		"org.opencontainers.image.vendor":               "Meta",
		"org.opencontainers.image.licenses":             "llama3.1",
		"org.opencontainers.image.version":              "1.0.0",
	})
	push(*registry, "aim/llama-3-8b:1.0.0", labelled, opts)
	push(*registry, "aim/plain:1.0.0", image(types.DockerManifestSchema2, types.DockerConfigJSON, types.DockerLayer, "amd64", nil), opts)

	// An OCI index whose first entry is arm64, so a client that takes the first manifest is wrong.
	arm := image(types.OCIManifestSchema1, types.OCIConfigJSON, types.OCILayer, "arm64",
		map[string]string{"org.opencontainers.image.title": "arm64 variant"})
	amd := image(types.OCIManifestSchema1, types.OCIConfigJSON, types.OCILayer, "amd64",
		map[string]string{"org.opencontainers.image.title": "amd64 variant",
			"com.amd.aim.model.canonicalName": "example/multiarch"})
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	idx = mutate.AppendManifests(idx,
		mutate.IndexAddendum{Add: arm, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64"}}},
		mutate.IndexAddendum{Add: amd, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}})
	ref, err := name.ParseReference(*registry+"/aim/multiarch:1.0.0", name.Insecure)
	if err != nil {
		log.Fatal(err)
	}
	if err := remote.WriteIndex(ref, idx, opts...); err != nil {
		log.Fatalf("push %s: %v", ref, err)
	}
	fmt.Println("pushed", ref)

	// Many tags on one repository, for tag-list pagination and semver filtering.
	for _, tag := range []string{"0.9.0", "1.0.0", "1.1.0-rc1", "1.2.0", "v2.0.0", "latest", "dev"} {
		push(*registry, "aim/tagged:"+tag, image(types.DockerManifestSchema2, types.DockerConfigJSON, types.DockerLayer, "amd64",
			map[string]string{"org.opencontainers.image.version": tag}), opts)
	}
}

func image(manifestType, configType, layerType types.MediaType, arch string, labels map[string]string) v1.Image {
	layer := static.NewLayer([]byte("aim-engine registry test layer for "+arch), layerType)
	img, err := mutate.AppendLayers(mutate.ConfigMediaType(mutate.MediaType(empty.Image, manifestType), configType), layer)
	if err != nil {
		log.Fatal(err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		log.Fatal(err)
	}
	cfg = cfg.DeepCopy()
	cfg.OS = "linux"
	cfg.Architecture = arch
	cfg.Config.Labels = labels
	img, err = mutate.ConfigFile(img, cfg)
	if err != nil {
		log.Fatal(err)
	}
	return img
}

func push(registry, repoTag string, img v1.Image, opts []remote.Option) {
	ref, err := name.ParseReference(registry+"/"+repoTag, name.Insecure)
	if err != nil {
		log.Fatal(err)
	}
	if err := remote.Write(ref, img, opts...); err != nil {
		log.Fatalf("push %s: %v", ref, err)
	}
	fmt.Println("pushed", ref)
}
