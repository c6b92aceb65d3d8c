#!/usr/bin/env bash
# Build (or reuse) the User-Mode Linux guest kernel of the real-guest rig.
#
#   tests/vm/build-kernel.sh            # prints the path of the `linux` binary (last line of stdout)
#
# Source: Debian trixie's `linux-source-6.12` binary package (the kernel with
# Debian's patches, as a tarball). It is downloaded with a private apt state
# under the cache directory, so the machine's own apt sources and pins are not
# changed and nothing on the host gets upgraded from trixie.
# Config: `make ARCH=um defconfig` + tests/vm/uml.config, then olddefconfig;
# every line of the fragment is checked in the final .config.
# Cache: $VHOST_HWSIM_CACHE (default ~/.cache/vhost-hwsim)/linux-<srcversion>-<confighash>.
# A second run with the same source version and fragment only checks the cache.
#
# Environment:
#   VHOST_HWSIM_CACHE         cache directory (default ~/.cache/vhost-hwsim)
#   KERNEL_SOURCE_PACKAGE     default linux-source-6.12
#   KERNEL_SOURCE_SUITE       default trixie
#   KERNEL_REFRESH_SOURCE=1   look for a newer source package even if one is cached
#   JOBS                      make -j (default: nproc)
set -euo pipefail

die() { echo "build-kernel: error: $*" >&2; exit 1; }
log() { echo "build-kernel: $*" >&2; }

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
FRAGMENT=$HERE/uml.config
CACHE=${VHOST_HWSIM_CACHE:-$HOME/.cache/vhost-hwsim}
SRC_PKG=${KERNEL_SOURCE_PACKAGE:-linux-source-6.12}
SUITE=${KERNEL_SOURCE_SUITE:-trixie}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
JOBS=${JOBS:-$(nproc)}
# Bump when the build recipe (not the fragment) changes in a way that changes the binary.
RECIPE=1

[[ -f $FRAGMENT ]] || die "config fragment $FRAGMENT is missing"
mkdir -p "$CACHE"
# One build at a time per cache directory.
exec 9>"$CACHE/.build-kernel.lock"
flock 9

CONFIG_HASH=$( { echo "recipe=$RECIPE"; cat "$FRAGMENT"; } | sha256sum | cut -c1-12)

# ---------------------------------------------------------------- host tools
need_pkgs=()
for p in build-essential flex bison bc libelf-dev xz-utils ca-certificates; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need_pkgs+=("$p")
done
if ((${#need_pkgs[@]})); then
    [[ $(id -u) -eq 0 ]] || die "missing build dependencies (${need_pkgs[*]}) and not root to install them"
    log "installing build dependencies: ${need_pkgs[*]}"
    apt-get update -qq >&2 || die "apt-get update failed"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >&2 \
        || die "apt-get install ${need_pkgs[*]} failed"
fi

# ---------------------------------------------------------------- kernel source
SRCDIR=$CACHE/src
APTDIR=$CACHE/apt-$SUITE
mkdir -p "$SRCDIR"

private_apt() {
    apt-get \
        -o Dir::Etc::SourceList="$APTDIR/sources.list" \
        -o Dir::Etc::SourceParts="$APTDIR/empty" \
        -o Dir::Etc::Preferences=/dev/null \
        -o Dir::Etc::PreferencesParts="$APTDIR/empty" \
        -o APT::Sandbox::User=root \
        -o Dir::State::Lists="$APTDIR/lists" \
        -o Dir::Cache="$APTDIR/cache" \
        -o Dir::State::status=/dev/null \
        -o Acquire::Languages=none \
        -o APT::Get::List-Cleanup=0 \
        "$@"
}

fetch_source_deb() {
    mkdir -p "$APTDIR/lists/partial" "$APTDIR/cache/archives/partial" "$APTDIR/empty"
    echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $MIRROR $SUITE main" >"$APTDIR/sources.list"
    log "fetching the $SUITE package index (private apt state in $APTDIR)"
    private_apt -qq update >&2 || die "apt-get update for $SUITE failed (is $MIRROR reachable? is debian-archive-keyring current?)"
    local ver
    ver=$(private_apt -qq --print-uris download "$SRC_PKG" 2>/dev/null | awk '{print $2}' | sed -n 's/.*_\(.*\)_all\.deb$/\1/p' | head -n1)
    [[ -n $ver ]] || die "package $SRC_PKG not found in $SUITE"
    local deb=$SRCDIR/${SRC_PKG}_${ver}_all.deb
    if [[ ! -s $deb ]]; then
        log "downloading $SRC_PKG $ver"
        (cd "$SRCDIR" && private_apt -q download "$SRC_PKG=$ver" >&2) || die "apt-get download $SRC_PKG=$ver failed"
        # apt-get download names the file with the URL-encoded version (':' -> %3a); normalise.
        local got
        got=$(ls -t "$SRCDIR"/"${SRC_PKG}"_*_all.deb | head -n1)
        [[ $got == "$deb" ]] || mv -f "$got" "$deb"
    fi
    echo "$deb"
}

SRC_DEB=
if [[ ${KERNEL_REFRESH_SOURCE:-0} != 1 ]]; then
    SRC_DEB=$(ls -t "$SRCDIR"/"${SRC_PKG}"_*_all.deb 2>/dev/null | head -n1 || true)
fi
[[ -n $SRC_DEB ]] || SRC_DEB=$(fetch_source_deb)
SRC_VER=$(dpkg-deb -f "$SRC_DEB" Version) || die "$SRC_DEB is not a valid .deb (delete it and rerun)"
SRC_VER_SAFE=${SRC_VER//[^A-Za-z0-9.+-]/_}

OUT=$CACHE/linux-$SRC_VER_SAFE-$CONFIG_HASH
if [[ -x $OUT && -s $OUT.config ]]; then
    log "cached kernel $OUT ($SRC_PKG $SRC_VER, config $CONFIG_HASH)"
    echo "$OUT"
    exit 0
fi

TREE=$CACHE/build/linux-$SRC_VER_SAFE
if [[ ! -f $TREE/.unpacked ]]; then
    log "unpacking $SRC_DEB into $TREE"
    rm -rf "$TREE" "$TREE.tmp"
    mkdir -p "$TREE.tmp"
    # The .deb ships /usr/src/<pkg>.tar.xz: the complete patched source tree.
    dpkg-deb --fsys-tarfile "$SRC_DEB" | tar -x -C "$TREE.tmp" --wildcards './usr/src/*.tar.xz' \
        || die "could not extract the source tarball from $SRC_DEB"
    tarball=$(ls "$TREE.tmp"/usr/src/*.tar.xz)
    tar -xJf "$tarball" -C "$TREE.tmp" || die "could not unpack $tarball"
    rm -f "$tarball"
    inner=$(ls -d "$TREE.tmp"/linux-source-*/ | head -n1)
    [[ -f $inner/Makefile ]] || die "no kernel tree found in $tarball"
    mv "$inner" "$TREE"
    rm -rf "$TREE.tmp"
    touch "$TREE/.unpacked"
fi
KERNELVERSION=$(make -s -C "$TREE" kernelversion)

# ---------------------------------------------------------------- configure
# One object tree per source version: a changed fragment rebuilds incrementally.
OBJ=$CACHE/build/obj-$SRC_VER_SAFE
mkdir -p "$OBJ"
log "configuring $KERNELVERSION (Debian $SRC_VER) in $OBJ"
make -s -C "$TREE" O="$OBJ" ARCH=um defconfig >&2 || die "make defconfig failed"
# merge_config.sh -m merges the fragment into .config without running make.
(cd "$OBJ" && ARCH=um "$TREE/scripts/kconfig/merge_config.sh" -m -O "$OBJ" "$OBJ/.config" "$FRAGMENT" >/dev/null) \
    || die "merge_config.sh failed"
make -s -C "$TREE" O="$OBJ" ARCH=um olddefconfig >&2 || die "make olddefconfig failed"

# Every assignment in the fragment must be in the final .config verbatim.
missing=()
while IFS= read -r line; do
    if [[ $line =~ ^(CONFIG_[A-Za-z0-9_]+)=(.*)$ ]]; then
        grep -qxF "$line" "$OBJ/.config" || missing+=("$line (got: $(grep -E "^(# )?${BASH_REMATCH[1]}[= ]" "$OBJ/.config" || echo 'absent'))")
    elif [[ $line =~ ^#\ (CONFIG_[A-Za-z0-9_]+)\ is\ not\ set$ ]]; then
        if grep -qE "^${BASH_REMATCH[1]}=" "$OBJ/.config"; then
            missing+=("$line (got: $(grep -E "^${BASH_REMATCH[1]}=" "$OBJ/.config"))")
        fi
    fi
done <"$FRAGMENT"
if ((${#missing[@]})); then
    printf 'build-kernel: config option not as requested: %s\n' "${missing[@]}" >&2
    die "the fragment $FRAGMENT does not apply to $KERNELVERSION (see above; check dependencies with 'make ARCH=um menuconfig' in $OBJ)"
fi
log "all $(grep -cE '^(CONFIG_|# CONFIG_.* is not set)' "$FRAGMENT") fragment options verified"

# ---------------------------------------------------------------- build
log "building $KERNELVERSION for ARCH=um with -j$JOBS (log: $OBJ/build.log)"
start=$(date +%s)
if ! make -C "$TREE" O="$OBJ" ARCH=um -j"$JOBS" linux >"$OBJ/build.log" 2>&1; then
    tail -n 40 "$OBJ/build.log" >&2
    die "kernel build failed (full log: $OBJ/build.log)"
fi
secs=$(( $(date +%s) - start ))
[[ -x $OBJ/linux ]] || die "build finished but $OBJ/linux is missing"
log "kernel build took ${secs}s ($((secs / 60))m$((secs % 60))s)"
echo "$(date -u +%FT%TZ) $KERNELVERSION debian=$SRC_VER config=$CONFIG_HASH jobs=$JOBS build_seconds=$secs" >>"$CACHE/build-times.log"

cp "$OBJ/.config" "$OUT.config.tmp"
cp "$OBJ/linux" "$OUT.tmp"
mv -f "$OUT.config.tmp" "$OUT.config"
mv -f "$OUT.tmp" "$OUT"
log "kernel ready: $OUT"
echo "$OUT"
