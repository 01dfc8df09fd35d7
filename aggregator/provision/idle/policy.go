package idle

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"
)

// The names the policies' rules and alerts use.
const (
	// GroupName is the rule group every policy's rule is in.
	GroupName = "gpuwd-idle-policies"
	// AlertName is the alert a pod fires while it is idle.
	AlertName = "GPUPodIdle"
	// ActionAlertName announces what the Enforcer did (or, in dry-run,
	// would have done).
	ActionAlertName = "GPUPodIdleAction"
	// OptOutLabel: agents registered with OptOutLabel="off" (gpuwd-agent
	// --register-labels) are never stopped by a policy.
	OptOutLabel = "gpuwd_idle_policy"
	// PodInfo is the series gpuwd writes for every running provisioned
	// pod, value 1, with the labels the policies select on.
	PodInfo = "gpuwd_pod_info"
)

// Alert labels the rules set, and that the Enforcer reads.
const (
	labelPolicy = "idle_policy"
	labelAction = "idle_action"
	labelDryRun = "idle_dry_run"
)

// Action is what a policy does to an idle pod.
type Action string

const (
	Stop      Action = "stop"
	Terminate Action = "terminate"
)

// Policy is one pool's rule: pods of Provider (and GPUType, when set) whose
// every GPU's 5-minute mean utilisation stayed under BelowPercent for For
// are stopped or terminated Grace after the notice, unless DryRun.
type Policy struct {
	Name         string
	Provider     string // "": pods of every provider
	GPUType      string // "": every GPU type
	BelowPercent float64
	For          time.Duration
	Grace        time.Duration
	Action       Action
	DryRun       bool
	// Labels are added to the alerts, for routing (severity, team, …).
	Labels map[string]string
}

// Defaults for the fields a policy leaves out.
const (
	DefaultBelowPercent = 5
	DefaultFor          = 30 * time.Minute
	DefaultGrace        = 10 * time.Minute
)

var (
	validName      = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$`)
	validLabelName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// Check names every mistake in ps, each with its policy; nil when they are
// all usable.
func Check(ps []Policy) error {
	var errs []error
	seen := map[string]bool{}
	for i, p := range ps {
		where := fmt.Sprintf("idle_policies[%d]", i)
		if p.Name != "" {
			where += " (" + p.Name + ")"
		}
		bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(where+": "+format, a...)) }
		switch {
		case !validName.MatchString(p.Name):
			bad("name %q: letters, digits, '_', '.' and '-', up to 63", p.Name)
		case seen[p.Name]:
			bad("name %q is used twice", p.Name)
		}
		seen[p.Name] = true
		if p.BelowPercent <= 0 || p.BelowPercent > 100 {
			bad("below_percent %g: want more than 0 and at most 100", p.BelowPercent)
		}
		if p.For <= 0 {
			bad("for %s: want more than 0", p.For)
		}
		if p.Grace < 0 {
			bad("grace %s: want 0 or more", p.Grace)
		}
		if p.Action != Stop && p.Action != Terminate {
			bad("action %q: want stop or terminate", p.Action)
		}
		for k := range p.Labels {
			if !validLabelName.MatchString(k) || strings.HasPrefix(k, "__") {
				bad("label name %q is not valid", k)
			} else if slices.Contains([]string{labelPolicy, labelAction, labelDryRun, "alertname"}, k) {
				bad("label %q is set by gpuwd", k)
			}
		}
	}
	return errors.Join(errs...)
}

// Expr is the policy's PromQL: its pool's running pods (gpuwd_pod_info,
// with their provider, pod id and name) whose busiest GPU's 5-minute mean
// utilisation is under the threshold, valued at that utilisation; pods
// whose agent opted out are left out.
func (p Policy) Expr() string {
	sel := []string{}
	if p.Provider != "" {
		sel = append(sel, "provider="+strconv.Quote(p.Provider))
	}
	if p.GPUType != "" {
		sel = append(sel, "gpu_type="+strconv.Quote(p.GPUType))
	}
	return fmt.Sprintf(`%s{%s} * on (instance) group_left () (max by (instance) (avg_over_time(DCGM_FI_DEV_GPU_UTIL[5m])) < %s) unless on (instance) up{%s="off"}`,
		PodInfo, strings.Join(sel, ","), strconv.FormatFloat(p.BelowPercent, 'g', -1, 64), OptOutLabel)
}

// ruleFile is a Prometheus rule file, as much of it as RuleFile writes.
type ruleFile struct {
	Groups []ruleGroup `yaml:"groups"`
}

type ruleGroup struct {
	Name  string `yaml:"name"`
	Rules []rule `yaml:"rules"`
}

type rule struct {
	Alert       string            `yaml:"alert"`
	Expr        string            `yaml:"expr"`
	For         model.Duration    `yaml:"for"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

// RuleFile is the policies' rules as a Prometheus rule file (promtool
// checks it); nil when there are none.
func RuleFile(ps []Policy) ([]byte, error) {
	if len(ps) == 0 {
		return nil, nil
	}
	g := ruleGroup{Name: GroupName}
	for _, p := range ps {
		ls := maps.Clone(p.Labels)
		if ls == nil {
			ls = map[string]string{}
		}
		if ls["severity"] == "" {
			ls["severity"] = "warning"
		}
		ls[labelPolicy], ls[labelAction], ls[labelDryRun] = p.Name, string(p.Action), strconv.FormatBool(p.DryRun)
		when := model.Duration(p.Grace).String() + " after this notice"
		if p.Grace == 0 {
			when = "right after this notice"
		}
		what := fmt.Sprintf("It will be %s %s unless its GPUs get busy.", p.Action.Past(), when)
		if p.DryRun {
			what = fmt.Sprintf("Dry run: it would be %s %s; nothing will be done.", p.Action.Past(), when)
		}
		g.Rules = append(g.Rules, rule{
			Alert:  AlertName,
			Expr:   p.Expr(),
			For:    model.Duration(p.For),
			Labels: ls,
			Annotations: map[string]string{
				"summary": fmt.Sprintf("Pod {{ $labels.pod_name }} ({{ $labels.provider }}, {{ $labels.gpu_type }}) has had idle GPUs for %s", model.Duration(p.For)),
				"description": fmt.Sprintf("Its busiest GPU averaged {{ $value | printf \"%%.1f\" }}%% over the last 5 minutes (idle policy %s: under %s%% for %s). %s "+
					"To keep it, silence this alert, or register its agent with --register-labels %s=off.",
					p.Name, strconv.FormatFloat(p.BelowPercent, 'g', -1, 64), model.Duration(p.For), what, OptOutLabel),
			},
		})
	}
	var b bytes.Buffer
	b.WriteString("# Written by gpuwd from provision.idle_policies; edit the configuration, not this file.\n")
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(ruleFile{Groups: []ruleGroup{g}}); err != nil {
		return nil, err
	}
	return b.Bytes(), enc.Close()
}

// Past is the action done: "stopped" or "terminated".
func (a Action) Past() string {
	if a == Terminate {
		return "terminated"
	}
	return "stopped"
}
