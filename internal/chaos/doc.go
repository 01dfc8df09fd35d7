// Package chaos holds gpu-watchdog's fault-injection tests (`make chaos`).
//
// The package tests of the store, the outbox, the scraper and the Slurm
// supervisor each prove one part survives one fault. These tests do the
// same to the programs users run: the gpuwd and gpuwd-agent binaries, built
// by the test, are killed with SIGKILL mid-ingest, starved of disk, stopped
// and restarted, cut off from their chat service and their cloud API, and
// their Slurm controller is shot; after each fault the test checks what must
// still hold (nothing acknowledged lost, SQLite files intact, alerts and
// notifications exactly once, series and alerts following the truth, memory
// and goroutines back where they were). Where a fault cannot be made from
// outside a process (a failing NVML call, a jumping wall clock: Go reads the
// clock through the vDSO, which faketime cannot move, and the machine's clock
// is not the test's to change), the test drives the same code in-process
// through the clock or NVML interface it already takes, and says so.
//
// Every test logs one line "chaos: <scenario>: <what held, with figures>";
// `make chaos` collects them into a table. The package has no non-test code:
// this file exists so that it has a name and a reason.
package chaos
