// Package local is a provisioning provider whose pods are gpuwd-agent
// processes on this machine, simulating the GPUs they are asked for. It lets
// the demo and the tests provision for real, the whole way from Create to a
// registered agent, without a cloud account or a GPU.
//
// Each pod is an agent process with its own directory (its log, agent.log)
// under Config.Dir; pods.json there keeps the pods across restarts. Pods do
// not outlive the Provider: Close stops them, and the next New lists them as
// EXITED, ready to be resumed. With Config.Namespaces each pod is a machine
// of its own (package nodens: network namespace, hostname, private Slurm
// directories), so pods with a Slurm role form a real Slurm cluster.
package local
