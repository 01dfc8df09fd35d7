package cli

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
)

// LogFlags are a service's logging flags, as every program registers them.
type LogFlags struct{ Format, Level string }

// RegisterLogFlags adds --log-format and --log-level to fs.
func RegisterLogFlags(fs *flag.FlagSet) *LogFlags {
	l := &LogFlags{}
	fs.StringVar(&l.Format, "log-format", "auto", "log format: auto, json or text")
	fs.StringVar(&l.Level, "log-level", "info", "log level: debug, info, warn or error")
	return l
}

// Logger is NewLogger with these flags.
func (l *LogFlags) Logger(w io.Writer) (*slog.Logger, error) { return NewLogger(w, l.Format, l.Level) }

// NewLogger builds the service logger: JSON by default, text when format is
// "text", or "auto" and w is a terminal.
func NewLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lvl}
	switch strings.ToLower(format) {
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "auto", "":
		if isTerminal(w) {
			return slog.New(slog.NewTextHandler(w, opts)), nil
		}
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("log format %q: want auto, json or text", format)
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
