package cluster

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	kindlog "sigs.k8s.io/kind/pkg/log"
)

// kindLogger adapts a *slog.Logger to kind's logger: kind's V(0) status
// lines become Info, higher verbosities Debug.
type kindLogger struct{ l *slog.Logger }

var (
	_ kindlog.Logger     = kindLogger{}
	_ kindlog.InfoLogger = kindInfoLogger{}
)

func (k kindLogger) Warn(msg string)                   { k.l.Warn(trim(msg)) }
func (k kindLogger) Warnf(format string, args ...any)  { k.l.Warn(trim(fmt.Sprintf(format, args...))) }
func (k kindLogger) Error(msg string)                  { k.l.Error(trim(msg)) }
func (k kindLogger) Errorf(format string, args ...any) { k.l.Error(trim(fmt.Sprintf(format, args...))) }

// trim drops the line breaks and padding kind writes for its terminal spinner.
func trim(msg string) string { return strings.TrimSpace(msg) }
func (k kindLogger) V(level kindlog.Level) kindlog.InfoLogger {
	lvl := slog.LevelInfo
	if level > 0 {
		lvl = slog.LevelDebug
	}
	return kindInfoLogger{l: k.l, level: lvl}
}

type kindInfoLogger struct {
	l     *slog.Logger
	level slog.Level
}

// kind's interface carries no context, hence context.Background.
func (k kindInfoLogger) Info(msg string) { k.l.Log(context.Background(), k.level, trim(msg)) }
func (k kindInfoLogger) Infof(format string, args ...any) {
	k.l.Log(context.Background(), k.level, trim(fmt.Sprintf(format, args...)))
}
func (k kindInfoLogger) Enabled() bool { return k.l.Enabled(context.Background(), k.level) }
