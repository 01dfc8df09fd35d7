#!/bin/sh
# Builds dist/gpuwd_<version>_amd64.deb and dist/gpuwd-agent_<version>_amd64.deb
# from the binaries in BIN_DIR (make package builds them first) with nfpm.
#
#   BIN_DIR      where gpuwd and gpuwd-agent are (default bin)
#   DIST_DIR     where the packages go (default dist)
#   VERSION      a Debian version (1.2.3), or git describe's output, which is
#                turned into one: v1.2.3 -> 1.2.3, v1.2.3-4-gabc1234 ->
#                1.2.3+git<date>.4.abc1234, abc1234 (no tag) ->
#                0.0.0~git<date>.<commits>.abc1234, where <date> is the commit's;
#                -dirty adds .dirty (default: git describe --tags --always --dirty)
#   MAINTAINER   the packages' Maintainer field
#
# package.sh --print-version prints the Debian version and exits.
set -eu

cd "$(dirname "$0")/.."
BIN_DIR=${BIN_DIR:-bin}
DIST_DIR=${DIST_DIR:-dist}
MAINTAINER=${MAINTAINER:-gpu-watchdog maintainers <maintainers@gpu-watchdog.invalid>}

die() {
	echo "package.sh: $*" >&2
	exit 1
}

# The commit's date (UTC), for versions between tags.
commit_date() { TZ=UTC git log -1 --format=%cd --date=format-local:%Y%m%d; }

# deb_version turns VERSION (a Debian version or git describe's output) into
# a Debian version that sorts as the commits do.
deb_version() {
	v=${1#v}
	dirty=
	case $v in *-dirty)
		v=${v%-dirty}
		dirty=.dirty
		;;
	esac
	if printf '%s\n' "$v" | grep -Eq '^[0-9]+\.[0-9A-Za-z.+~]*$'; then
		case $dirty in
		"") echo "$v" ;;
		*) echo "$v+dirty" ;;
		esac
	elif printf '%s\n' "$v" | grep -Eq '^[0-9]+\.[0-9A-Za-z.+~]*-[0-9]+-g[0-9a-f]+$'; then
		printf '%s\n' "$v" | sed -E "s/^(.*)-([0-9]+)-g([0-9a-f]+)\$/\\1+git$(commit_date).\\2.\\3$dirty/"
	elif printf '%s\n' "$v" | grep -Eq '^[0-9a-f]{7,40}$'; then
		echo "0.0.0~git$(commit_date).$(git rev-list --count HEAD).$v$dirty"
	else
		die "cannot make a Debian version of VERSION=$1: set VERSION=1.2.3"
	fi
}

VERSION=$(deb_version "${VERSION:-$(git describe --tags --always --dirty)}")
if command -v dpkg >/dev/null 2>&1; then
	dpkg --validate-version "$VERSION" || die "VERSION=$VERSION is not a Debian version"
fi
if [ "${1:-}" = --print-version ]; then
	echo "$VERSION"
	exit 0
fi

for b in gpuwd gpuwd-agent; do
	[ -x "$BIN_DIR/$b" ] || die "$BIN_DIR/$b is missing: run make build"
done
command -v objdump >/dev/null 2>&1 || die "objdump is missing: apt-get install binutils"
# The newest glibc symbol version the agent needs.
glibc=$(objdump -T "$BIN_DIR/gpuwd-agent" | sed -n 's/.*GLIBC_\([0-9][0-9.]*\).*/\1/p' | sort -uV | tail -n 1)
[ -n "$glibc" ] || die "$BIN_DIR/gpuwd-agent links no glibc symbols: built without cgo?"

# Reproducible: file times are the commit's.
if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
	SOURCE_DATE_EPOCH=$(git log -1 --format=%ct 2>/dev/null || date +%s)
fi
export BIN_DIR VERSION MAINTAINER SOURCE_DATE_EPOCH
export LIBC_DEPENDS="libc6 (>= $glibc)"

mkdir -p "$DIST_DIR"
for p in gpuwd gpuwd-agent; do
	go tool nfpm pkg --packager deb --config "packaging/nfpm/$p.yaml" \
		--target "$DIST_DIR/${p}_${VERSION}_amd64.deb" >/dev/null
	echo "$DIST_DIR/${p}_${VERSION}_amd64.deb"
done
