#!/usr/bin/env bash
# Builds the project's container images offline and reproducibly, with no Docker daemon and no base
# image from any registry: the root filesystems come from Debian packages (mmdebstrap, the
# machine's own apt sources), the layers are deterministic tarballs, and the manifests are written
# here as an OCI image layout. The same sources and binaries give the same digests.
#
#   deploy/images/build.sh [--push REGISTRY] [--out DIR] [IMAGE...]
#
# IMAGE (default: operator):
#   operator     aim-engine:<version>   aim-engine, aimctl and aim-fetch over Debian's runtime
#                                       libraries only; runs as 65532; also the default downloader
#   pause        aim-pause:<version>    the pod sandbox of the local real node (a static binary)
#   aim-runtime  aim-standin/<model>:<version>  the AIM runtime stand-in (test infrastructure):
#                                       one image per model of test/images/aim-runtime/models.txt
#   all          every one of them
#
# --push REGISTRY  also copies each image to REGISTRY (plain HTTP, e.g. 10.88.0.1:5000) with skopeo
# --out DIR        where the OCI layouts go (default .local/images)
# Environment: AIM_BUILD_DIR (release build of the binaries, default build/release; configured if
# needed and always brought up to date), SOURCE_DATE_EPOCH (default: the commit time of HEAD).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
OUT="$REPO/.local/images"
PUSH=""
BUILD_DIR="${AIM_BUILD_DIR:-$REPO/build/release}"
VERSION="$(sed -n 's/^project(aim-engine VERSION \([0-9.]*\).*/\1/p' "$REPO/CMakeLists.txt")"
REVISION="$(git -C "$REPO" rev-parse HEAD 2>/dev/null || echo unknown)"
export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-$(git -C "$REPO" log -1 --format=%ct 2>/dev/null || echo 0)}"
CREATED="$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)"

log() { printf '[images %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() {
  log "ERROR: $*"
  exit 1
}

images=()
while (($#)); do
  case "$1" in
  --push) PUSH="$2"; shift 2 ;;
  --out) OUT="$(realpath -m "$2")"; shift 2 ;;
  -h | --help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  operator | pause | aim-runtime) images+=("$1"); shift ;;
  all) images+=(operator pause aim-runtime); shift ;;
  *) die "unknown argument $1 (see --help)" ;;
  esac
done
((${#images[@]})) || images=(operator)
[[ -n "$VERSION" ]] || die "could not read the project version from CMakeLists.txt"
for tool in mmdebstrap skopeo jq gzip sha256sum tar; do
  command -v "$tool" >/dev/null || die "$tool is missing (scripts/install-deps.sh installs it)"
done
CACHE="$OUT/cache"
mkdir -p "$OUT" "$CACHE"

# The machine's apt sources (deb822 or one-line), so the images take the same mirror and suite
# as the build machine's own packages.
apt_sources() {
  local f
  for f in /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list; do
    [[ -s "$f" ]] && grep -qv '^\s*#' "$f" && { echo "$f"; return; }
  done
  die "no apt sources found on this machine"
}

sha256() { sha256sum "$1" | cut -d' ' -f1; }

# debian_layer NAME PACKAGE...: a gzipped layer of the packages and their dependencies, extracted
# (not configured: no maintainer scripts run, so nothing but files lands in the image), without
# documentation, with a CA bundle when ca-certificates is among them and a passwd with the
# nonroot user. Cached by the package list and the apt sources. Prints the layer file.
debian_layer() {
  local name="$1"
  shift
  local sources key dir tarball
  sources="$(apt_sources)"
  key="$(printf '%s\n' "$@" "$SOURCE_DATE_EPOCH" | cat - "$sources" "$0" | sha256sum | cut -c1-16)"
  tarball="$CACHE/$name-$key.tar"
  if [[ ! -s "$tarball" ]]; then
    dir="$(mktemp -d "$CACHE/rootfs.XXXXXX")"
    log "mmdebstrap: $* ($name)"
    local pkgs
    pkgs="$(IFS=,; echo "$*")"
    mmdebstrap --quiet --variant=extract --mode=root --include="$pkgs" \
      bookworm "$dir" "$sources" >&2 || die "mmdebstrap failed for $name"
    rm -rf "$dir"/usr/share/{doc,man,info,locale,lintian,bug,bash-completion} "$dir"/var/cache/* \
      "$dir"/var/lib/apt "$dir"/var/log/* "$dir"/dev/* "$dir"/etc/apt
    if [[ -d "$dir/usr/share/ca-certificates" ]]; then
      mkdir -p "$dir/etc/ssl/certs"
      find "$dir/usr/share/ca-certificates" -name '*.crt' | LC_ALL=C sort | xargs cat \
        >"$dir/etc/ssl/certs/ca-certificates.crt"
    fi
    mkdir -p "$dir/tmp" "$dir/etc" "$dir/home/nonroot"
    chmod 1777 "$dir/tmp"
    chown 65532:65532 "$dir/home/nonroot"
    printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' \
      >"$dir/etc/passwd"
    printf 'root:x:0:\nnonroot:x:65532:\n' >"$dir/etc/group"
    dir_tar "$dir" "$tarball.tmp"
    mv "$tarball.tmp" "$tarball"
    rm -rf "$dir"
  fi
  echo "$tarball"
}

# dir_tar DIR FILE: a deterministic tar of DIR's contents (sorted, fixed times and owners taken
# from the files' numeric ids, no atime/ctime).
dir_tar() {
  tar --sort=name --mtime="@$SOURCE_DATE_EPOCH" --clamp-mtime --numeric-owner --format=posix \
    --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime -C "$1" -cf "$2" .
}

# Layer blobs of the current image: add_layer TAR appends to LAYERS / DIFF_IDS.
add_layer() {
  local tar="$1" gz diff digest
  diff="$(sha256 "$tar")"
  gz="$tar.$diff.gz"
  [[ -s "$gz" ]] || gzip -n -6 -c "$tar" >"$gz"
  digest="$(sha256 "$gz")"
  LAYERS+=("$digest:$(stat -c %s "$gz"):$gz")
  DIFF_IDS+=("sha256:$diff")
}

# write_image NAME TAG CONFIG-JSON: writes the OCI layout $OUT/oci/NAME (one tagged manifest) from
# LAYERS/DIFF_IDS and a config fragment ({User, Entrypoint, Cmd, Env, Labels, ExposedPorts, ...}).
write_image() {
  local name="$1" tag="$2" cfg="$3" layout
  layout="$OUT/oci/$name"
  rm -rf "$layout"
  mkdir -p "$layout/blobs/sha256"
  printf '{"imageLayoutVersion":"1.0.0"}' >"$layout/oci-layout"
  local l digest size file layers_json="[]"
  for l in "${LAYERS[@]}"; do
    digest="${l%%:*}"
    size="${l#*:}"
    size="${size%%:*}"
    file="${l#*:*:}"
    cp "$file" "$layout/blobs/sha256/$digest"
    layers_json="$(jq -c --arg d "sha256:$digest" --argjson s "$size" \
      '. + [{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":$d,"size":$s}]' <<<"$layers_json")"
  done
  local diffs config
  diffs="$(printf '%s\n' "${DIFF_IDS[@]}" | jq -R . | jq -sc .)"
  config="$(jq -cS --argjson c "$cfg" --argjson diffs "$diffs" --arg created "$CREATED" -n \
    '{architecture:"amd64", os:"linux", created:$created, config:$c,
      rootfs:{type:"layers", diff_ids:$diffs},
      history:[$diffs[] | {created:$created, created_by:"deploy/images/build.sh"}]}')"
  printf '%s' "$config" >"$layout/config.json"
  local cdigest csize
  cdigest="$(sha256 "$layout/config.json")"
  csize="$(stat -c %s "$layout/config.json")"
  mv "$layout/config.json" "$layout/blobs/sha256/$cdigest"
  local manifest
  manifest="$(jq -cS -n --arg d "sha256:$cdigest" --argjson s "$csize" --argjson layers "$layers_json" \
    '{schemaVersion:2, mediaType:"application/vnd.oci.image.manifest.v1+json",
      config:{mediaType:"application/vnd.oci.image.config.v1+json", digest:$d, size:$s},
      layers:$layers}')"
  printf '%s' "$manifest" >"$layout/manifest.json"
  local mdigest msize
  mdigest="$(sha256 "$layout/manifest.json")"
  msize="$(stat -c %s "$layout/manifest.json")"
  mv "$layout/manifest.json" "$layout/blobs/sha256/$mdigest"
  jq -cS -n --arg d "sha256:$mdigest" --argjson s "$msize" --arg tag "$tag" \
    '{schemaVersion:2, mediaType:"application/vnd.oci.image.index.v1+json",
      manifests:[{mediaType:"application/vnd.oci.image.manifest.v1+json", digest:$d, size:$s,
                  annotations:{"org.opencontainers.image.ref.name":$tag}}]}' >"$layout/index.json"
  log "$name:$tag  sha256:$mdigest  ($(du -sh "$layout" | cut -f1))"
  echo "$name:$tag sha256:$mdigest" >>"$OUT/digests.txt.new"
  if [[ -n "$PUSH" ]]; then
    skopeo copy --quiet --preserve-digests --dest-tls-verify=false \
      "oci:$layout:$tag" "docker://$PUSH/$name:$tag" || die "pushing $name:$tag to $PUSH failed"
    log "pushed $PUSH/$name:$tag"
  fi
}

oci_labels() { # title description
  jq -cn --arg t "$1" --arg d "$2" --arg v "$VERSION" --arg r "$REVISION" --arg c "$CREATED" \
    '{"org.opencontainers.image.title":$t, "org.opencontainers.image.description":$d,
      "org.opencontainers.image.version":$v, "org.opencontainers.image.revision":$r,
      "org.opencontainers.image.created":$c, "org.opencontainers.image.licenses":"Apache-2.0",
      "org.opencontainers.image.source":"https://github.com/aim-engine/aim-engine"}'
}

# ---------------------------------------------------------------------------------------- images
build_operator() {
  local bin="$BUILD_DIR/cmd" b
  # Incremental: a build that is up to date costs a second, and a stale binary never gets in.
  if [[ ! -f "$BUILD_DIR/build.ninja" && "$BUILD_DIR" == "$REPO/build/release" ]]; then
    (cd "$REPO" && cmake --preset release >/dev/null) || die "cmake configure failed"
  fi
  log "building aim-engine, aimctl and aim-fetch (release, incremental) in $BUILD_DIR"
  cmake --build "$BUILD_DIR" --target aim-engine aimctl aim-fetch >/dev/null || die "the release build failed"
  local stage
  stage="$(mktemp -d "$CACHE/operator.XXXXXX")"
  mkdir -p "$stage/usr/local/bin"
  for b in aim-engine aimctl aim-fetch; do
    strip --strip-unneeded -o "$stage/usr/local/bin/$b" "$bin/$b/$b"
    chmod 0755 "$stage/usr/local/bin/$b"
  done
  LAYERS=() DIFF_IDS=()
  add_layer "$(debian_layer operator-base libc6 libstdc++6 libgcc-s1 libcurl4 libssl3 libyaml-cpp0.7 \
    libspdlog1.10 libfmt9 ca-certificates tzdata)"
  dir_tar "$stage" "$stage.tar"
  add_layer "$stage.tar"
  local cfg
  cfg="$(jq -cn --argjson labels "$(oci_labels aim-engine 'aim-engine operator, aimctl and the aim-fetch downloader')" \
    '{User:"65532:65532", Entrypoint:["/usr/local/bin/aim-engine"], WorkingDir:"/home/nonroot",
      Env:["PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/home/nonroot"], Labels:$labels}')"
  write_image aim-engine "$VERSION" "$cfg"
  rm -rf "$stage" "$stage.tar"
}

build_pause() {
  local stage
  stage="$(mktemp -d "$CACHE/pause.XXXXXX")"
  gcc -O2 -static -s -o "$stage/pause" "$REPO/tools/cluster/node/pause.c" || die "compiling pause.c failed"
  chmod 0755 "$stage/pause"
  LAYERS=() DIFF_IDS=()
  dir_tar "$stage" "$stage.tar"
  add_layer "$stage.tar"
  local cfg
  cfg="$(jq -cn --argjson labels "$(oci_labels aim-pause 'pod sandbox of the local real node')" \
    '{User:"65535:65535", Entrypoint:["/pause"], Labels:$labels}')"
  write_image aim-pause "$VERSION" "$cfg"
  rm -rf "$stage" "$stage.tar"
}

# One image per line of models.txt: "<image-name> <model id> <size in GB> [VAR=value ...]"; the
# labels come from the stand-in itself (aim_runtime.py labels), so they are stated once.
build_aim_runtime() {
  local src="$REPO/test/images/aim-runtime"
  [[ -f "$src/aim_runtime.py" && -f "$src/models.txt" ]] || die "$src/aim_runtime.py or models.txt missing"
  local base stage
  base="$(debian_layer python-base libc6 python3-minimal libpython3.11-stdlib)"
  stage="$(mktemp -d "$CACHE/aim-runtime.XXXXXX")"
  mkdir -p "$stage/opt/aim"
  install -m 0755 "$src/aim_runtime.py" "$stage/opt/aim/aim_runtime.py"
  dir_tar "$stage" "$stage.tar"
  local image model size extra
  while read -r image model size extra; do
    [[ -z "$image" || "$image" == \#* ]] && continue
    local env=("AIM_STANDIN_MODEL_ID=$model" "AIM_STANDIN_MODEL_SOURCE=hf://$model" "AIM_STANDIN_MODEL_SIZE_GB=$size")
    # shellcheck disable=SC2206
    [[ -n "$extra" ]] && env+=($extra)
    local labels cfg
    labels="$(env "${env[@]}" AIM_STANDIN_IMAGE_VERSION="$VERSION" python3 "$src/aim_runtime.py" labels)" ||
      die "aim_runtime.py labels failed for $image"
    labels="$(jq -c --argjson oci "$(oci_labels "$image" "AIM runtime stand-in serving $model")" \
      '$oci + .' <<<"$labels")"
    cfg="$(jq -cn --argjson labels "$labels" --argjson env "$(printf '%s\n' "${env[@]}" | jq -R . | jq -sc .)" \
      '{User:"65532:65532", Entrypoint:["/usr/bin/python3", "/opt/aim/aim_runtime.py"],
        Env:(["PATH=/usr/bin:/bin", "HOME=/tmp", "PYTHONDONTWRITEBYTECODE=1"] + $env),
        ExposedPorts:{"8000/tcp":{}}, Labels:$labels}')"
    LAYERS=() DIFF_IDS=()
    add_layer "$base"
    add_layer "$stage.tar"
    write_image "$image" "$VERSION" "$cfg"
  done <"$src/models.txt"
  rm -rf "$stage" "$stage.tar"
}

t0=$(date +%s)
: >"$OUT/digests.txt.new"
for image in "${images[@]}"; do
  case "$image" in
  operator) build_operator ;;
  pause) build_pause ;;
  aim-runtime) build_aim_runtime ;;
  esac
done
mv "$OUT/digests.txt.new" "$OUT/digests.txt"
log "done in $(($(date +%s) - t0)) s; layouts in $OUT/oci, digests in $OUT/digests.txt"
