package chart

import (
	"slices"
	"testing"
	"time"
	_ "time/tzdata" // zones for the DST and offset cases
)

func TestTimeTicks(t *testing.T) {
	end := time.Date(2025, 6, 23, 15, 7, 30, 0, time.UTC) // Monday
	for _, tc := range []struct {
		span time.Duration
		want []string
	}{
		{time.Hour, []string{"14:10", "14:20", "14:30", "14:40", "14:50", "15:00"}},
		{6 * time.Hour, []string{"10:00", "11:00", "12:00", "13:00", "14:00", "15:00"}},
		{24 * time.Hour, []string{"18:00", "21:00", "Mon 23", "03:00", "06:00", "09:00", "12:00", "15:00"}},
		{7 * 24 * time.Hour, []string{"Tue 17", "Wed 18", "Thu 19", "Fri 20", "Sat 21", "Sun 22", "Mon 23"}},
		{30 * 24 * time.Hour, []string{"May 26", "Jun 2", "Jun 9", "Jun 16", "Jun 23"}},
		{5 * time.Minute, []string{"15:03", "15:04", "15:05", "15:06", "15:07"}},
		{time.Minute, []string{"15:06:30", "15:06:40", "15:06:50", "15:07:00", "15:07:10", "15:07:20", "15:07:30"}},
	} {
		t.Run(formatSpan(tc.span), func(t *testing.T) {
			got := tickLabels(timeTicks(end.Add(-tc.span), end, 8, time.UTC))
			if !slices.Equal(got, tc.want) {
				t.Errorf("ticks %q, want %q", got, tc.want)
			}
		})
	}
}

// Ticks follow the wall clock of the location, also for half-hour offsets,
// and survive DST changes without repeats.
func TestTimeTicksLocation(t *testing.T) {
	kolkata, err := time.LoadLocation("Asia/Kolkata")
	if err != nil {
		t.Fatal(err)
	}
	end := time.Date(2025, 6, 23, 9, 0, 0, 0, time.UTC) // 14:30 IST
	got := tickLabels(timeTicks(end.Add(-time.Hour), end, 8, kolkata))
	if want := []string{"13:30", "13:40", "13:50", "14:00", "14:10", "14:20", "14:30"}; !slices.Equal(got, want) {
		t.Errorf("IST ticks %q, want %q", got, want)
	}

	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	// 2025-03-30 02:00 CET jumps to 03:00 CEST.
	start := time.Date(2025, 3, 29, 22, 0, 0, 0, berlin)
	ticks := timeTicks(start, start.Add(6*time.Hour), 8, berlin)
	if got, want := tickLabels(ticks), []string{"22:00", "23:00", "Sun 30", "01:00", "03:00", "04:00", "05:00"}; !slices.Equal(got, want) {
		t.Errorf("spring-forward ticks %q, want %q", got, want)
	}
	// 2025-10-26 03:00 CEST falls back to 02:00 CET.
	start = time.Date(2025, 10, 26, 0, 0, 0, 0, berlin)
	ticks = timeTicks(start, start.Add(6*time.Hour), 8, berlin)
	for i := 1; i < len(ticks); i++ {
		if ticks[i].v <= ticks[i-1].v {
			t.Fatalf("ticks not increasing: %v", ticks)
		}
	}
	if got := tickLabels(ticks); got[0] != "Sun 26" || got[len(got)-1] != "05:00" {
		t.Errorf("fall-back ticks %q", got)
	}
}

func TestPickTimeStep(t *testing.T) {
	for span, want := range map[time.Duration]time.Duration{
		time.Hour:          10 * time.Minute,
		6 * time.Hour:      time.Hour,
		24 * time.Hour:     3 * time.Hour,
		7 * 24 * time.Hour: 24 * time.Hour,
	} {
		if got := pickTimeStep(span, 8).d; got != want {
			t.Errorf("step for %v = %v, want %v", span, got, want)
		}
	}
	if got := pickTimeStep(24*time.Hour, 6).d; got != 4*time.Hour {
		t.Errorf("24h in 6 ticks: %v", got)
	}
}

func TestFormatSpan(t *testing.T) {
	for d, want := range map[time.Duration]string{
		time.Hour: "1h", 6 * time.Hour: "6h", 24 * time.Hour: "24h", 7 * 24 * time.Hour: "7d",
		90 * time.Minute: "90m", 30 * time.Second: "30s", 36 * time.Hour: "36h",
	} {
		if got := formatSpan(d); got != want {
			t.Errorf("formatSpan(%v) = %q, want %q", d, got, want)
		}
	}
}
