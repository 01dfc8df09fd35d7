// Package imagetest holds the tests of the container images: the RunPod pod
// image (Dockerfile.agent) and the aggregator's (packaging/gpuwd.Dockerfile).
// It exists because what makes a pod useful lies between the programs and
// the platform, where no unit test looks: the base image's /start.sh running
// the start hook, the hook returning at once, the supervisor restarting the
// agent, SIGTERM reaching the agent through tini so that a stopped worker
// leaves its Slurm cluster, env alone turning pods into a cluster.
//
// The tests boot containers as RunPod boots pods: the image's own command
// (/start.sh), RUNPOD_* and GPUWD_* environment, simulated GPUs with device
// files, on a Docker network of their own. They need root, a Docker engine
// and a docker client that builds with BuildKit, and debootstrap: no image
// registry is used. The base image is made from Debian's mirror by
// packaging/image/build-base.sh (its rootfs is cached, see there), the
// binaries are built on this machine, and the images are built from them
// with AGENT_FROM=prebuilt / GPUWD_FROM=prebuilt, so no golang image is
// pulled. Everything a run creates (containers, networks, images) carries
// its labels and is removed at the end, with the build cache records its
// builds added; a run that was killed leaves them to the next run, which
// removes its containers, networks and images (not its build cache).
// The same base image, booted with systemd as PID 1 and no network, is also
// the Debian machine on which TestDebInstallStartUpgradeRemovePurge installs
// both .debs (packaging/package.sh) with dpkg, runs their units, upgrades,
// removes and purges them (deb_test.go).
// Without root, docker (a client that builds with BuildKit: buildx, or
// Debian's docker.io) or debootstrap the tests skip, and fail under CI=true.
//
//	go test ./packaging/imagetest/ -v
//	go test ./packaging/imagetest/ -run '^$' -bench BenchmarkPodBootToUseful -benchtime 3x
package imagetest
