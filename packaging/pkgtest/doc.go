// Package pkgtest checks gpu-watchdog's packaging as a user meets it: the
// systemd units pass systemd-analyze verify and keep their sandbox, the
// example configuration and environment files match what the programs
// accept, and the .deb files that packaging/package.sh builds hold the
// right files, conffiles, scripts, version and dependencies. Each package is
// installed, upgraded, removed and purged with the real dpkg in a throwaway
// root (dpkg --root with --force-script-chrootless: the maintainer scripts
// act on $DPKG_ROOT, with the real useradd, userdel and systemctl --root),
// and purging must leave that root as it was.
//
// The tests use real programs (make, nfpm through go tool, dpkg, dpkg-deb,
// systemd-analyze, shellcheck); one that is missing skips the tests that
// need it, or fails them under CI=true. Installing needs root.
package pkgtest
