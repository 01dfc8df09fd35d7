package parse

import "fmt"

// NodeJobsArgs are squeue's arguments for NodeJobs: the jobs that hold
// resources on node now.
func NodeJobsArgs(node string) []string {
	return []string{"-h", "-a", "-r", "-w", node, "-t", "RUNNING,COMPLETING,SUSPENDED", "-O",
		"JobID:0|,JobArrayID:0|,StartTime:0|,UserName:0|,Account:0|,Partition:0"}
}

const nodeJobFields = 6

// NodeJob is a job on one node.
type NodeJob struct {
	ID        string // Slurm's unique job id: "12"
	Name      string // the id users see: "8_3" for task 3 of array 8, else ID
	Start     string // start time, as printed: a requeued job starts again
	User      string
	Account   string // "" when none
	Partition string
}

// NodeJobs parses the output of squeue with NodeJobsArgs.
func NodeJobs(out []byte) ([]NodeJob, error) {
	var jobs []NodeJob
	var f [nodeJobFields]string
	err := eachLine(out, func(line string) error {
		if err := split(f[:], line); err != nil {
			return err
		}
		j := NodeJob{ID: f[0], Name: f[1], Start: f[2], User: f[3], Account: noneIfNull(f[4]), Partition: f[5]}
		if j.ID == "" || j.Name == "" {
			return fmt.Errorf("no JobID")
		}
		jobs = append(jobs, j)
		return nil
	})
	return jobs, err
}
