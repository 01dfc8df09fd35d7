// Package teams sends notifications to Microsoft Teams through a Workflows
// (Power Automate) webhook, the replacement for the retired Office 365
// connectors: an Adaptive Card with a heading coloured by status, a block
// per alert with its key facts (GPU, node, value, Slurm job and user,
// since when) as a FactSet, and a button to the dashboard. The card is kept
// under Teams' 28 KB message limit by showing fewer alerts and counting the
// rest.
package teams
