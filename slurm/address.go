package slurm

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/gpu-watchdog/gpu-watchdog/slurm/conf"
)

// controller is the host and port of slurmctld: the conf server a worker
// was given; on a head, the address workers reach it at: on RunPod with
// global networking, the pod's private address, else the outbound one.
func (n *Node) controller(ctx context.Context) (string, int, error) {
	if n.opts.ConfServer != "" {
		return conf.SplitHostPort(n.opts.ConfServer, conf.DefaultControllerPort)
	}
	if ip := runPodPrivateIP(ctx, os.Getenv("RUNPOD_POD_ID"), net.DefaultResolver.LookupIPAddr); ip != "" {
		n.logger.Info("the head's address is its RunPod global networking address", "ip", ip)
		return ip, conf.DefaultControllerPort, nil
	}
	ip, err := outboundIP()
	if err != nil {
		return "", 0, fmt.Errorf("the head's address: %w (set --slurm-conf-server)", err)
	}
	return ip, conf.DefaultControllerPort, nil
}

// runPodPrivateIP is the IPv4 address of POD_ID.runpod.internal, the name
// RunPod's global networking gives a pod on the private network between the
// user's pods, or "" when the pod has none (the name does not resolve).
func runPodPrivateIP(ctx context.Context, podID string, lookup func(context.Context, string) ([]net.IPAddr, error)) string {
	if podID == "" || !conf.ValidNodeName(podID) {
		return ""
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	addrs, err := lookup(ctx, podID+".runpod.internal")
	if err != nil {
		return ""
	}
	for _, a := range addrs {
		if v4 := a.IP.To4(); v4 != nil && !v4.IsLoopback() {
			return v4.String()
		}
	}
	return ""
}

// outboundIP is the address this machine reaches others from: the source
// of the default route, else the first non-loopback IPv4 address.
func outboundIP() (string, error) {
	if c, err := net.Dial("udp4", "192.0.2.1:9"); err == nil { // no packet is sent
		defer c.Close()
		if a, ok := c.LocalAddr().(*net.UDPAddr); ok && !a.IP.IsLoopback() {
			return a.IP.String(), nil
		}
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return "", err
	}
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok && ipn.IP.To4() != nil && !ipn.IP.IsLoopback() {
			return ipn.IP.String(), nil
		}
	}
	return "", errors.New("no non-loopback IPv4 address")
}
