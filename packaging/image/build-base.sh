#!/bin/sh
# build-base.sh makes a local stand-in for RunPod's base image, for machines
# that reach no image registry (the image tests; anyone behind a closed
# network): a Debian bookworm rootfs made with debootstrap (minbase, plus
# Slurm, munge, tini and a few tools), with a /start.sh that starts a
# container as RunPod's does (runpod-start.sh), imported into Docker.
# It also has systemd (not running: /start.sh is the command), so that a
# container booted with /sbin/init as its command is a Debian box that
# installs the .debs (the image tests' TestDeb*):
#
#   sudo packaging/image/build-base.sh gpuwd-base:bookworm
#   DOCKER_BUILDKIT=1 docker build -f Dockerfile.agent \
#     --build-arg BASE_IMAGE=gpuwd-base:bookworm ... .
#
# The Dockerfiles install nothing a base already has, so an image built on it
# needs no network. debootstrap takes a few minutes; its rootfs is kept as a
# tarball in the cache directory, keyed by the suite, mirror and package
# list, so later runs only import it (seconds).
#
# Usage: build-base.sh [-l NAME=VALUE]... IMAGE
#   -l NAME=VALUE   a label on the image (repeatable)
# Environment:
#   GPUWD_BASE_CACHE  the cache directory
#                     (default ${XDG_CACHE_HOME:-$HOME/.cache}/gpuwd-imagetest)
#   DEBIAN_MIRROR     default http://deb.debian.org/debian
#   DOCKER            the docker client (default docker)
# Needs root, debootstrap (apt-get install debootstrap), GNU tar and docker.
set -eu

suite=bookworm
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
packages=slurmd,slurmctld,slurm-client,munge,tini,ca-certificates,procps,iproute2,curl,systemd,systemd-sysv
cache=${GPUWD_BASE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gpuwd-imagetest}
docker=${DOCKER:-docker}
here=$(cd "$(dirname "$0")" && pwd)

usage() {
    echo "usage: $0 [-l NAME=VALUE]... IMAGE" >&2
    exit 2
}

labels=""
while getopts l: opt; do
    case $opt in
    l) labels="$labels
$OPTARG" ;;
    *) usage ;;
    esac
done
shift $((OPTIND - 1))
[ $# -eq 1 ] || usage
image=$1

if [ "$(id -u)" != 0 ]; then
    echo "$0: debootstrap needs root" >&2
    exit 1
fi
for tool in debootstrap tar sha256sum; do
    command -v "$tool" >/dev/null 2>&1 || {
        echo "$0: $tool not found (apt-get install debootstrap)" >&2
        exit 1
    }
done

# The cache key changes with anything that changes the rootfs. Bump the
# "v2" when the steps below change.
key=$(printf '%s\n' v2 "$suite" "$mirror" "$packages" | sha256sum | cut -c1-16)
tarball=$cache/rootfs-$suite-$key.tar

tmp=$(mktemp -d "${TMPDIR:-/tmp}/gpuwd-base.XXXXXX")
cleanup() {
    # debootstrap mounts /proc and /sys in the rootfs; a run cut short may
    # leave them there, and rm must not walk into them.
    if [ -d "$tmp/rootfs" ]; then
        grep -o " $tmp/rootfs/[^ ]*" /proc/mounts | sort -r | while read -r m; do
            umount -l "$m" 2>/dev/null || true
        done
    fi
    rm -rf --one-file-system "$tmp"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

if [ ! -f "$tarball" ]; then
    echo "debootstrap $suite ($packages) from $mirror: a few minutes, once" >&2
    root=$tmp/rootfs
    # Two stages, so that a policy-rc.d is in place before any package is
    # configured: postinst scripts must not start munged or slurmctld (in
    # the chroot, they would run on this machine). It stays in the image,
    # as in Docker's Debian images.
    debootstrap --variant=minbase --include="$packages" --foreign "$suite" "$root" "$mirror" >&2
    printf '#!/bin/sh\n# No service starts while packages are installed.\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
    chmod 755 "$root/usr/sbin/policy-rc.d"
    chroot "$root" /debootstrap/debootstrap --second-stage >&2
    chroot "$root" apt-get clean
    rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/log/*.log
    : >"$root/etc/hostname"
    # Every container gets its own machine id: systemd makes one at boot
    # where the file is empty, as in Docker's Debian images.
    : >"$root/etc/machine-id"
    mkdir -p "$cache"
    tar --numeric-owner -C "$root" \
        --exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' --exclude='./run/*' --exclude='./tmp/*' \
        -cf "$tmp/rootfs.tar" .
    mv "$tmp/rootfs.tar" "$tarball.tmp.$$"
    mv "$tarball.tmp.$$" "$tarball" # atomic: a concurrent run sees all or nothing
fi

# The image: the cached rootfs plus /start.sh, appended to a copy.
mkdir "$tmp/stage"
cp "$here/runpod-start.sh" "$tmp/stage/start.sh"
chmod 755 "$tmp/stage/start.sh"
cp "$tarball" "$tmp/image.tar"
tar --numeric-owner --owner=0 --group=0 -C "$tmp/stage" -rf "$tmp/image.tar" ./start.sh

set -- --change 'CMD ["/start.sh"]' \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'WORKDIR /' \
    --change "LABEL org.opencontainers.image.description=\"Debian $suite with Slurm and a RunPod-like /start.sh (gpu-watchdog build-base.sh)\""
old_ifs=$IFS
IFS='
'
for l in $labels; do
    set -- "$@" --change "LABEL $l"
done
IFS=$old_ifs
"$docker" import "$@" "$tmp/image.tar" "$image" >/dev/null
echo "$image"
