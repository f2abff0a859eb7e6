#!/usr/bin/env bash
# Writes the weights of the stand-in model aim-test/tiny-chat as a Hub repo directory for
# test/servers/model_server.py (ROOT/<org>/<name>/...): a config, a tokenizer and a 16 MiB
# safetensors file (an LFS file on the Hub stand-in, so it takes the CDN path). The bytes are the
# same on every run (AES-CTR over zeros with a fixed key), so a test can compare digests.
#   test/e2e/model-repo.sh ROOT
set -euo pipefail
root="${1:?usage: model-repo.sh ROOT}"
repo="$root/aim-test/tiny-chat"
mkdir -p "$repo"
if [[ ! -s "$repo/model.safetensors" ]]; then
  openssl enc -aes-128-ctr -nosalt -K 000102030405060708090a0b0c0d0e0f -iv 00000000000000000000000000000000 \
    -in /dev/zero 2>/dev/null | head -c $((16 * 1024 * 1024)) >"$repo/model.safetensors.tmp" || true
  [[ "$(stat -c %s "$repo/model.safetensors.tmp")" == $((16 * 1024 * 1024)) ]] || { echo "model-repo.sh: openssl failed" >&2; exit 1; }
  mv "$repo/model.safetensors.tmp" "$repo/model.safetensors"
fi
cat >"$repo/config.json" <<'JSON'
{"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 64,
 "num_hidden_layers": 2, "num_attention_heads": 2, "vocab_size": 256, "torch_dtype": "float16"}
JSON
cat >"$repo/tokenizer.json" <<'JSON'
{"version": "1.0", "model": {"type": "BPE", "vocab": {"<s>": 0, "</s>": 1}, "merges": []}}
JSON
printf '# aim-test/tiny-chat\n\nWeights of the AIM runtime stand-in (test data, no real model).\n' >"$repo/README.md"
echo "$repo"
